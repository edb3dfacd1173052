-- A daemon that takes over the streams another daemon held asks which of
-- them another process finished meanwhile (load.FinishedSince); the status
-- page and the lag ask a stream's latest runs. Both read by tenant and stream.
CREATE INDEX run_stream_by_stream ON etl.run_stream (tenant_id, stream, finished_at);
