ALTER TABLE etl.run DROP COLUMN instance;
