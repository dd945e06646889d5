#!/bin/sh
# compose.yaml: the primary's first start (the postgres image runs /docker-entrypoint-initdb.d/*): a role
# for streaming replication, and the line of pg_hba.conf that lets replicas connect with it.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<SQL
CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD '${REPLICATION_PASSWORD}';
SQL
echo "host replication replicator all scram-sha-256" >> "$PGDATA/pg_hba.conf"
