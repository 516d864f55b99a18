#!/usr/bin/env bash
# test.sh — every test layer, from a fresh clone on a fresh machine (as root):
#   1. unit tests of the pure Rust code            (cargo test --lib)
#   2. SQL-surface tests inside Postgres           (cargo pgrx test, as the postgres OS user)
#   3. end-to-end tests against localstripe and a fixture server, on a running cluster
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

echo "== unit tests"
cargo test --lib

echo "== pgrx tests"
PGDATA_TEST=${PGRX_TEST_PGDATA:-/tmp/djstripe_pg-pgrx-test}
mkdir -p "$PGDATA_TEST" && chown postgres:postgres "$PGDATA_TEST"
# The postgres user must be able to read the build tree pgrx points it at.
chmod o+rx "$PWD" 2>/dev/null || true
# cargo pgrx test installs its build over Debian's copy of the library, writing into the file
# in place, which crashes any running server that has the library loaded (a preloaded worker).
# Give it a fresh copy to overwrite: a running server keeps the file it loaded.
SO=$(/usr/lib/postgresql/15/bin/pg_config --pkglibdir)/djstripe_pg.so
if [ -f "$SO" ]; then cp "$SO" "$SO.fresh" && mv -f "$SO.fresh" "$SO"; fi
cargo pgrx test pg15 --runas postgres --pgdata "$PGDATA_TEST"

echo "== end-to-end tests"
bash scripts/install.sh
bash tests/e2e/run.sh
