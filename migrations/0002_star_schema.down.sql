-- Edited after release (issue 11): engage_reader may not exist where the
-- up migration ran as a user without CREATEROLE.
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'engage_reader') THEN
        ALTER DEFAULT PRIVILEGES IN SCHEMA engage, bi REVOKE SELECT ON TABLES FROM engage_reader;
        REVOKE ALL ON ALL TABLES IN SCHEMA engage, bi FROM engage_reader;
        REVOKE ALL ON SCHEMA engage, bi FROM engage_reader;
        REVOKE ALL ON FUNCTION engage.agent_key_at(integer, text, timestamptz) FROM engage_reader;
    END IF;
END
$$;
DROP VIEW bi.conversations_by_channel, bi.agent_day, bi.cobrowse_sessions, bi.visits, bi.agents,
          bi.activity, bi.messages, bi.conversations;
DROP TABLE engage.fact_realtime_snapshot, engage.fact_activity_event, engage.fact_cobrowse_session,
           engage.fact_visit, engage.fact_message, engage.fact_conversation_agent, engage.fact_conversation;
DROP FUNCTION engage.team_key(integer, text), engage.customer_key(integer, text),
              engage.agent_key_at(integer, text, timestamptz);
DROP TABLE engage.dim_rule, engage.dim_customer, engage.dim_role, engage.bridge_team_member, engage.dim_team;
ALTER TABLE engage.dim_agent
    DROP COLUMN engage_user_id, DROP COLUMN role_id, DROP COLUMN role,
    DROP COLUMN team_ids, DROP COLUMN team_names, DROP COLUMN inferred;
