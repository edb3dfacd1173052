-- A window whose answer can be large (an activity log over a long range) is
-- committed in chunks as it is paged, each with its own raw row: one row per
-- window would hold the whole range in memory and pass jsonb's size limit.
ALTER TABLE raw.payload ADD COLUMN chunk integer NOT NULL DEFAULT 0;
ALTER TABLE raw.payload DROP CONSTRAINT payload_pkey;
ALTER TABLE raw.payload ADD PRIMARY KEY (tenant_id, stream, window_start, chunk);
COMMENT ON COLUMN raw.payload.chunk IS 'Part of the window''s answer, from 0 (newest pages first for an activity log); 0 for an answer in one part.';
