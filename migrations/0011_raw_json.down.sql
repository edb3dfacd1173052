ALTER TABLE raw.payload ALTER COLUMN body TYPE jsonb USING body::jsonb;
ALTER TABLE raw.conversation_messages ALTER COLUMN body TYPE jsonb USING body::jsonb;
ALTER TABLE raw.webhook ALTER COLUMN body TYPE jsonb USING body::jsonb;
COMMENT ON COLUMN raw.payload.body IS 'The response body.';
COMMENT ON COLUMN raw.conversation_messages.body IS 'The response body.';
COMMENT ON COLUMN raw.webhook.body IS 'The request body.';
COMMENT ON COLUMN etl.run_stream.windows_skipped IS 'Windows a backfill skipped because an earlier backfill finished them.';
