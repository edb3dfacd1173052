-- An open conversation's duration_ms is the API's at the last read (start
-- to that moment), which is stale as soon as it is stored. bi.conversations
-- shows none while the conversation is open: its age is now() - started_at.
CREATE OR REPLACE VIEW bi.conversations AS
SELECT t.tenant_id, f.conversation_id, c.customer_id, NULLIF(tm.team_id, '(unknown)') AS team_id,
       f.channel, f.status, f.started_at, f.ended_at, d.full_date AS day,
       f.message_count, f.customer_message_count, f.agent_message_count,
       f.first_response_ms, f.avg_response_ms,
       CASE WHEN f.ended_at IS NOT NULL THEN f.duration_ms END AS duration_ms
FROM engage.fact_conversation f
JOIN engage.dim_tenant t ON t.tenant_key = f.tenant_key
JOIN engage.dim_customer c ON c.customer_key = f.customer_key
JOIN engage.dim_team tm ON tm.team_key = f.team_key
JOIN engage.dim_date d ON d.date_key = f.date_key;
COMMENT ON COLUMN bi.conversations.duration_ms IS 'Milliseconds from start to close; NULL while open (its age is now() - started_at).';
COMMENT ON COLUMN engage.fact_conversation.duration_ms IS 'Milliseconds from start to close, as the API gave it; for an open conversation, to the moment it was last read (bi.conversations shows NULL then).';
