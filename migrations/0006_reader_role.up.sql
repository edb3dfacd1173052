-- The BI reader role, one per warehouse database. engage_reader (0002) is
-- cluster-wide: a login in it read dim_customer of every warehouse on the
-- server. The role is now named after the database (etl.reader_role), so a
-- database called engage keeps engage_reader, and this database's grants
-- are taken back from the shared role.

-- reader_role names the reader role of database db: "<db>_reader" when db is
-- a plain lower-case identifier short enough; otherwise the name is made one
-- (lower case, anything but a-z 0-9 _ becomes _, cut to 47 characters) and
-- the first 8 hex digits of md5(db) are added, so two databases whose names
-- differ only in what was replaced never share a role. Never longer than 63
-- bytes, PostgreSQL's limit, so it is never silently truncated.
CREATE FUNCTION etl.reader_role(db text DEFAULT current_database()) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN db ~ '^[a-z_][a-z0-9_]*$' AND octet_length(db) <= 56 THEN db || '_reader'
        ELSE left(regexp_replace(lower(db), '[^a-z0-9_]', '_', 'g'), 47) || '_' || left(md5(db), 8) || '_reader'
    END
$$;
COMMENT ON FUNCTION etl.reader_role(text) IS 'Name of the read-only BI role of a warehouse database (default: this one).';

-- grant_reader creates this database's reader role when the user may create
-- roles, and grants it read access to engage and bi. It returns false when
-- the role does not exist and cannot be created: engage-etl then prints the
-- statement an administrator must run. 'engage-etl migrate up' calls it on
-- every run, so the grants follow once the role exists.
CREATE FUNCTION etl.grant_reader() RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    r text := etl.reader_role();
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r) THEN
        IF NOT (SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user) THEN
            RETURN false;
        END IF;
        BEGIN
            EXECUTE format('CREATE ROLE %I NOLOGIN', r);
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL; -- a concurrent migrator of a same-named database
        END;
    END IF;
    EXECUTE format('GRANT USAGE ON SCHEMA engage, bi TO %I', r);
    EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA engage, bi TO %I', r);
    EXECUTE format('GRANT EXECUTE ON FUNCTION engage.agent_key_at(integer, text, timestamptz) TO %I', r);
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA engage, bi GRANT SELECT ON TABLES TO %I', r);
    RETURN true;
END
$$;
COMMENT ON FUNCTION etl.grant_reader() IS 'Creates (when allowed) and grants the BI reader role of this database; false when it is missing and may not be created.';

DO $$
BEGIN
    IF etl.reader_role() <> 'engage_reader' AND EXISTS (SELECT FROM pg_roles WHERE rolname = 'engage_reader') THEN
        ALTER DEFAULT PRIVILEGES IN SCHEMA engage, bi REVOKE SELECT ON TABLES FROM engage_reader;
        REVOKE ALL ON ALL TABLES IN SCHEMA engage, bi FROM engage_reader;
        REVOKE ALL ON SCHEMA engage, bi FROM engage_reader;
        REVOKE ALL ON FUNCTION engage.agent_key_at(integer, text, timestamptz) FROM engage_reader;
    END IF;
END
$$;
SELECT etl.grant_reader();
