-- A run whose process died (SIGKILL, a lost host, a database restart that
-- cut its connection) used to stay 'running' forever. Each run now holds a
-- session-level advisory lock while it runs; a 'running' row whose lock is
-- free is marked 'abandoned' by the next engage-etl that records a run or
-- shows the status.
ALTER TABLE etl.run DROP CONSTRAINT run_status_check,
    ADD CONSTRAINT run_status_check CHECK (status IN ('running', 'ok', 'failed', 'abandoned'));
ALTER TABLE etl.run_stream DROP CONSTRAINT run_stream_status_check,
    ADD CONSTRAINT run_stream_status_check CHECK (status IN ('running', 'ok', 'failed', 'abandoned'));
COMMENT ON COLUMN etl.run.status IS 'running, ok (every stream ok), failed (some stream failed) or abandoned (the process ended without recording a result).';
COMMENT ON COLUMN etl.run_stream.status IS 'running, ok, failed or abandoned (the process ended without recording a result).';
