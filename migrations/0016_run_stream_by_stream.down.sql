DROP INDEX etl.run_stream_by_stream;
