-- A window a stream's API refused as too long (400) or answered with more
-- than sync.chunk_bytes is remembered: its plans ask at most max_days a
-- request from then on (pipeline/shorter.go).
CREATE TABLE etl.window_limit (
    tenant_id text NOT NULL,
    stream    text NOT NULL,
    max_days  integer NOT NULL CHECK (max_days >= 1),
    reason    text NOT NULL,
    noted_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, stream)
);
COMMENT ON TABLE etl.window_limit IS 'The most local days a request of a tenant''s stream asks, learned from the API''s answers (a 400 for a longer range, or an oversized answer).';
COMMENT ON COLUMN etl.window_limit.max_days IS 'Days per request from now on (never more than the stream''s window_days).';
COMMENT ON COLUMN etl.window_limit.reason IS 'What the API answered that taught it.';
COMMENT ON COLUMN etl.window_limit.noted_at IS 'When it was learned.';

-- What a backfill or a first sync was estimated to cost before it started
-- (engage-etl estimate), and what each stream's run asked.
ALTER TABLE etl.run ADD COLUMN estimate jsonb;
COMMENT ON COLUMN etl.run.estimate IS 'The estimate printed before the run started (requests and time per tenant and stream group), NULL for an incremental sync.';
ALTER TABLE etl.run_stream ADD COLUMN requests integer;
COMMENT ON COLUMN etl.run_stream.requests IS 'Requests the stream''s run sent to the API (retries included); NULL before this was counted.';
