ALTER TABLE etl.run_stream DROP COLUMN windows_skipped;
DROP TABLE etl.backfill_window;
