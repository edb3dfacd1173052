#!/bin/sh
# Gives Metabase its own login in the warehouse's read-only role
# (<database>_reader: the engage and bi schemas, nothing else). That role is
# made by engage-etl's migrations, which the daemon applies when it starts,
# so this waits for it. Safe to run again: it only sets the password anew.
#
# Environment: PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE (an owner of
# the warehouse), METABASE_PASSWORD; optional METABASE_USER (metabase),
# READER_ROLE (${PGDATABASE}_reader), WAIT_TRIES (150, two seconds each).
set -eu
: "${PGDATABASE:?set PGDATABASE}" "${METABASE_PASSWORD:?set METABASE_PASSWORD}"
reader="${READER_ROLE:-${PGDATABASE}_reader}"
login="${METABASE_USER:-metabase}"
tries=0
until [ "$(psql -tAX -c "SELECT 1 FROM pg_roles WHERE rolname = '$reader'" 2>/dev/null)" = 1 ]; do
  tries=$((tries + 1))
  if [ "$tries" -ge "${WAIT_TRIES:-150}" ]; then
    echo "metabase-init: role $reader does not exist: has the engage-etl daemon migrated database $PGDATABASE?" >&2
    exit 1
  fi
  sleep 2
done
psql -X -q -v ON_ERROR_STOP=1 -v login="$login" -v reader="$reader" -v password="$METABASE_PASSWORD" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN', :'login') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'login') \gexec
SELECT format('ALTER ROLE %I LOGIN PASSWORD %L', :'login', :'password') \gexec
SELECT format('GRANT %I TO %I', :'reader', :'login') \gexec
SQL
echo "metabase-init: login $login is in role $reader"
