ALTER TABLE etl.run_stream DROP COLUMN requests;
ALTER TABLE etl.run DROP COLUMN estimate;
DROP TABLE etl.window_limit;
