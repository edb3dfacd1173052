ALTER TABLE etl.run_stream DROP COLUMN warnings;
DROP TABLE raw.failed_payload;
