-- Answers that failed a window are kept for diagnosis (bounded), and mapped
-- fields no answer had are recorded with the stream's run.
CREATE TABLE raw.failed_payload (
    id           bigserial PRIMARY KEY,
    tenant_id    text NOT NULL,
    stream       text NOT NULL,
    window_start timestamptz NOT NULL,
    window_end   timestamptz NOT NULL,
    received_at  timestamptz NOT NULL,
    error        text NOT NULL,
    status       integer,
    content_type text,
    body_bytes   bigint NOT NULL,
    body_head    bytea NOT NULL
);
CREATE INDEX failed_payload_recent ON raw.failed_payload (tenant_id, stream, received_at DESC);
COMMENT ON TABLE raw.failed_payload IS 'Answers that failed their window, newest 20 per tenant and stream, for diagnosis (see engage-etl failures).';
COMMENT ON COLUMN raw.failed_payload.id IS 'Surrogate key.';
COMMENT ON COLUMN raw.failed_payload.tenant_id IS 'Tenant id.';
COMMENT ON COLUMN raw.failed_payload.stream IS 'Stream name.';
COMMENT ON COLUMN raw.failed_payload.window_start IS 'Window start (inclusive).';
COMMENT ON COLUMN raw.failed_payload.window_end IS 'Window end (exclusive).';
COMMENT ON COLUMN raw.failed_payload.received_at IS 'When the answer was received.';
COMMENT ON COLUMN raw.failed_payload.error IS 'Why the window failed.';
COMMENT ON COLUMN raw.failed_payload.status IS 'HTTP status of the answer, when known.';
COMMENT ON COLUMN raw.failed_payload.content_type IS 'Content-Type of the answer, when known.';
COMMENT ON COLUMN raw.failed_payload.body_bytes IS 'Bytes of the answer read.';
COMMENT ON COLUMN raw.failed_payload.body_head IS 'The first bytes of the answer (at most 64 KiB).';

ALTER TABLE etl.run_stream ADD COLUMN warnings text[] NOT NULL DEFAULT '{}';
COMMENT ON COLUMN etl.run_stream.warnings IS 'Mapped answer fields no element had (api.fields keys to check), once per stream and run.';
