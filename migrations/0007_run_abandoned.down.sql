UPDATE etl.run SET status = 'failed' WHERE status = 'abandoned';
UPDATE etl.run_stream SET status = 'failed' WHERE status = 'abandoned';
ALTER TABLE etl.run DROP CONSTRAINT run_status_check,
    ADD CONSTRAINT run_status_check CHECK (status IN ('running', 'ok', 'failed'));
ALTER TABLE etl.run_stream DROP CONSTRAINT run_stream_status_check,
    ADD CONSTRAINT run_stream_status_check CHECK (status IN ('running', 'ok', 'failed'));
COMMENT ON COLUMN etl.run.status IS 'running, ok (every stream ok) or failed (some stream failed).';
COMMENT ON COLUMN etl.run_stream.status IS 'running, ok or failed.';
