-- Back to 0005: this database's grants go to the shared engage_reader again
-- (where it exists). The per-database role keeps existing, without grants:
-- it may have members such as a Metabase login, and dropping a role is an
-- administrator's call.
DO $$
DECLARE
    r text := etl.reader_role();
BEGIN
    IF r <> 'engage_reader' AND EXISTS (SELECT FROM pg_roles WHERE rolname = r) THEN
        EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA engage, bi REVOKE SELECT ON TABLES FROM %I', r);
        EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA engage, bi FROM %I', r);
        EXECUTE format('REVOKE ALL ON SCHEMA engage, bi FROM %I', r);
        EXECUTE format('REVOKE ALL ON FUNCTION engage.agent_key_at(integer, text, timestamptz) FROM %I', r);
    END IF;
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'engage_reader') THEN
        GRANT USAGE ON SCHEMA engage, bi TO engage_reader;
        GRANT SELECT ON ALL TABLES IN SCHEMA engage, bi TO engage_reader;
        GRANT EXECUTE ON FUNCTION engage.agent_key_at(integer, text, timestamptz) TO engage_reader;
        ALTER DEFAULT PRIVILEGES IN SCHEMA engage, bi GRANT SELECT ON TABLES TO engage_reader;
    END IF;
END
$$;
DROP FUNCTION etl.grant_reader();
DROP FUNCTION etl.reader_role(text);
