CREATE OR REPLACE VIEW bi.conversations AS
SELECT t.tenant_id, f.conversation_id, c.customer_id, NULLIF(tm.team_id, '(unknown)') AS team_id,
       f.channel, f.status, f.started_at, f.ended_at, d.full_date AS day,
       f.message_count, f.customer_message_count, f.agent_message_count,
       f.first_response_ms, f.avg_response_ms, f.duration_ms
FROM engage.fact_conversation f
JOIN engage.dim_tenant t ON t.tenant_key = f.tenant_key
JOIN engage.dim_customer c ON c.customer_key = f.customer_key
JOIN engage.dim_team tm ON tm.team_key = f.team_key
JOIN engage.dim_date d ON d.date_key = f.date_key;
COMMENT ON COLUMN bi.conversations.duration_ms IS 'Milliseconds from start to close (or to the last sync while open).';
COMMENT ON COLUMN engage.fact_conversation.duration_ms IS 'Milliseconds from start to close (or to the sync, while open).';
