CREATE TABLE etl.backfill_window (
    tenant_id    text NOT NULL,
    stream       text NOT NULL,
    window_start timestamptz NOT NULL,
    window_end   timestamptz NOT NULL,
    run_id       bigint REFERENCES etl.run ON DELETE SET NULL,
    rows         bigint NOT NULL,
    finished_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, stream, window_start, window_end)
);
COMMENT ON TABLE etl.backfill_window IS 'Windows a backfill finished, written in the window''s own transaction, so a re-run skips them.';
COMMENT ON COLUMN etl.backfill_window.tenant_id IS 'Tenant id.';
COMMENT ON COLUMN etl.backfill_window.stream IS 'Stream name.';
COMMENT ON COLUMN etl.backfill_window.window_start IS 'Window start (inclusive).';
COMMENT ON COLUMN etl.backfill_window.window_end IS 'Window end (exclusive).';
COMMENT ON COLUMN etl.backfill_window.run_id IS 'The backfill run that loaded it.';
COMMENT ON COLUMN etl.backfill_window.rows IS 'Rows the API answered for the window.';
COMMENT ON COLUMN etl.backfill_window.finished_at IS 'When the window committed.';

ALTER TABLE etl.run_stream ADD COLUMN windows_skipped integer NOT NULL DEFAULT 0;
COMMENT ON COLUMN etl.run_stream.windows_skipped IS 'Windows a backfill skipped because an earlier backfill finished them.';
