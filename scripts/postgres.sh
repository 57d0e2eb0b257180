#!/usr/bin/env bash
# Installs (when missing) and starts a local PostgreSQL for the server tests, idempotently, and
# prints the URL of a superuser-capable test role on loopback:
#   export SIGNET_TEST_POSTGRES_URL=$(scripts/postgres.sh)
# Debian's cluster tools are used; the role "signet" (password "signet") may create databases.
set -euo pipefail
if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
fi
ver=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
if ! pg_lsclusters -h 2>/dev/null | awk '{print $1" "$2}' | grep -q "^$ver main$"; then
  pg_createcluster "$ver" main >&2
fi
if ! pg_lsclusters -h | awk -v v="$ver" '$1==v && $2=="main" {print $4}' | grep -q online; then
  pg_ctlcluster "$ver" main start >&2
fi
port=$(pg_lsclusters -h | awk -v v="$ver" '$1==v && $2=="main" {print $3}')
for _ in $(seq 1 30); do
  su postgres -c "psql -p $port -qtAc 'SELECT 1'" >/dev/null 2>&1 && break
  sleep 1
done
su postgres -c "psql -p $port -qtAc \"SELECT 1 FROM pg_roles WHERE rolname='signet'\"" | grep -q 1 ||
  su postgres -c "psql -p $port -qc \"CREATE ROLE signet LOGIN SUPERUSER PASSWORD 'signet'\"" >&2
# Databases left by earlier test runs.
for db in $(su postgres -c "psql -p $port -qtAc \"SELECT datname FROM pg_database WHERE datname LIKE 'signet_test_%'\""); do
  su postgres -c "psql -p $port -qc 'DROP DATABASE IF EXISTS $db'" >&2 || true
done
echo "postgres://signet:signet@127.0.0.1:$port/postgres"
