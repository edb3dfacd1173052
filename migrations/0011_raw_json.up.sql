-- Raw answers are kept as json, the text as Engage sent it, rather than
-- jsonb: jsonb re-encodes every answer (key order, duplicate keys, number
-- spelling), so what a rebuild replays was not quite what was received, and
-- building it cost PostgreSQL about 2.5 times the parsing json's check does
-- (measured: 50,000 message answers, 782 ms as jsonb, 312 ms as json), a
-- large part of a backfill's database time. Reading a body back as text
-- (rebuild) no longer serializes it either. The jsonb operators still work
-- on body::jsonb.
ALTER TABLE raw.payload ALTER COLUMN body TYPE json USING body::json;
ALTER TABLE raw.conversation_messages ALTER COLUMN body TYPE json USING body::json;
ALTER TABLE raw.webhook ALTER COLUMN body TYPE json USING body::json;
COMMENT ON COLUMN raw.payload.body IS 'The response body, as received (json: its text kept; cast to jsonb for its operators).';
COMMENT ON COLUMN raw.conversation_messages.body IS 'The response body, as received (json: its text kept; cast to jsonb for its operators).';
COMMENT ON COLUMN raw.webhook.body IS 'The request body, as received (json: its text kept; cast to jsonb for its operators).';

-- A sync now also leaves a list loaded less than sync.list_refresh ago alone.
COMMENT ON COLUMN etl.run_stream.windows_skipped IS 'Windows left alone as done: finished by an earlier backfill, or a list a sync found loaded less than sync.list_refresh ago.';
