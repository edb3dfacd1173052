DELETE FROM raw.payload WHERE chunk > 0;
ALTER TABLE raw.payload DROP CONSTRAINT payload_pkey;
ALTER TABLE raw.payload ADD PRIMARY KEY (tenant_id, stream, window_start);
ALTER TABLE raw.payload DROP COLUMN chunk;
