ALTER TABLE etl.run ADD COLUMN instance text NOT NULL DEFAULT '';
COMMENT ON COLUMN etl.run.instance IS 'Name of the engage-etl process (daemon instance) that ran it.';
