#!/usr/bin/env bash
# run.sh — djstripe_pg's end-to-end tests: a throwaway PostgreSQL cluster with the installed
# extension, localstripe (a fake Stripe API), and pytest driving both. Extra arguments go to
# pytest (e.g. `-k webhook -x`).
#
# Needs: the extension installed (scripts/install.sh; PG_BIN picks another PostgreSQL), python3-venv
# and sudo (scripts/setup.sh). Reads nothing outside the repo, and installs nothing outside it:
# the test venv is .venv-e2e, localstripe's is .venv-localstripe.
#
# Environment (optional): E2E_PG_PORT, E2E_LOCALSTRIPE_PORT (default: free ports chosen now).
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
E2E=$REPO/tests/e2e
VENV=$REPO/.venv-e2e
log() { echo "e2e: $*" >&2; }

# PG_BIN (optional) runs the tests on another installation's binaries (scripts/pgcluster.sh).
SHAREDIR=$("${PG_BIN:-/usr/lib/postgresql/15/bin}/pg_config" --sharedir)
if [ ! -f "$SHAREDIR/extension/djstripe_pg.control" ]; then
    log "djstripe_pg is not installed into $SHAREDIR: run scripts/install.sh first"
    exit 1
fi

# 1. the test venv, reinstalled when requirements.txt changes
if ! cmp -s "$E2E/requirements.txt" "$VENV/requirements.installed" 2>/dev/null; then
    log "installing test dependencies into $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$E2E/requirements.txt" >&2
    cp "$E2E/requirements.txt" "$VENV/requirements.installed"
fi

free_port() {
    "$VENV/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
PG_PORT=${E2E_PG_PORT:-$(free_port)}
LS_PORT=${E2E_LOCALSTRIPE_PORT:-$(free_port)}
PGDIR=$(mktemp -d /tmp/djstripe-e2e-pg.XXXXXX)
LS_PID=
PYTEST_PID=

# 2. whatever happens, stop what we started (only those PIDs) and remove the cluster
cleanup() {
    local status=$?
    if [ -n "$PYTEST_PID" ]; then kill "$PYTEST_PID" 2>/dev/null || true; wait "$PYTEST_PID" 2>/dev/null || true; fi
    if [ -n "$LS_PID" ]; then
        kill "$LS_PID" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$LS_PID" 2>/dev/null || break; sleep 0.1; done
    fi
    bash "$REPO/scripts/pgcluster.sh" stop "$PGDIR" || true
    rm -rf "$PGDIR"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# 3. localstripe and Postgres
LS_PID=$(bash "$REPO/scripts/localstripe.sh" "$LS_PORT")
bash "$REPO/scripts/pgcluster.sh" start "$PGDIR" "$PG_PORT"
log "postgres on 127.0.0.1:$PG_PORT ($PGDIR), localstripe on 127.0.0.1:$LS_PORT (pid $LS_PID)"

export E2E_PG_DSN="host=127.0.0.1 port=$PG_PORT user=postgres dbname=postgres"
export E2E_PG_LOG=$PGDIR/server.log
export E2E_LOCALSTRIPE_URL=http://127.0.0.1:$LS_PORT
export E2E_FIXTURES=$REPO/vendor/stripe/fixtures3.json
export PYTHONDONTWRITEBYTECODE=1

# 4. pytest; its status is ours. In the background, so that a signal to this script is handled
#    at once (bash runs traps only between foreground commands) and cleanup can stop pytest.
cd "$E2E"
"$VENV/bin/python" -m pytest -q -p no:cacheprovider "$@" &
PYTEST_PID=$!
status=0
wait "$PYTEST_PID" || status=$?
PYTEST_PID=
if [ "$status" -ne 0 ]; then
    log "pytest failed ($status); last lines of the Postgres log:"
    tail -n 30 "$E2E_PG_LOG" >&2 || true
    log "localstripe log: $REPO/.venv-localstripe/localstripe.$LS_PORT.log"
fi
exit "$status"
