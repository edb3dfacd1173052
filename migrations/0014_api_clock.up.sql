-- How far each tenant's API clock was from ours at its latest run: the API
-- stamps events by its own clock, and activity cursors follow it.
CREATE TABLE etl.api_clock (
    tenant_id   text PRIMARY KEY,
    skew_ms     bigint      NOT NULL,
    observed_at timestamptz NOT NULL
);
COMMENT ON TABLE etl.api_clock IS 'Per tenant: the API clock minus ours at the latest run, from its answers'' Date header.';
COMMENT ON COLUMN etl.api_clock.tenant_id IS 'Tenant id.';
COMMENT ON COLUMN etl.api_clock.skew_ms IS 'Milliseconds the API''s clock was ahead of ours (negative: behind), to the second.';
COMMENT ON COLUMN etl.api_clock.observed_at IS 'When it was observed, by our clock.';
