#!/usr/bin/env bash
# localstripe.sh — starts localstripe (a fake Stripe API from PyPI, pinned in
# scripts/localstripe/requirements.txt) on 127.0.0.1:PORT for the demo and the tests; prints its
# PID on stdout once it answers. Stop it with `kill PID`.
#
#   PID=$(bash scripts/localstripe.sh 8420)
#
# Environment (optional): LOCALSTRIPE_VENV (default: .venv-localstripe in the repo; created on
# first use), LOCALSTRIPE_LOG (default: beside the venv), LOCALSTRIPE_TIMEOUT (seconds, 30).
# localstripe speaks an old API: no Prices, lists oldest first, `created[...]` filters on events
# and charges only. Its extra endpoints: DELETE /_config/data wipes every object;
# POST /_config/webhooks/<id> (url=…, secret=whsec_…) registers a webhook it signs and POSTs.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
PORT=${1:?usage: localstripe.sh PORT}
case "$PORT" in *[!0-9]*) echo "localstripe.sh: PORT must be a number, got '$PORT'" >&2; exit 2;; esac
VENV=${LOCALSTRIPE_VENV:-$REPO/.venv-localstripe}
LOG=${LOCALSTRIPE_LOG:-$VENV/localstripe.$PORT.log}
REQS=$HERE/localstripe/requirements.txt

if ! cmp -s "$REQS" "$VENV/requirements.installed" 2>/dev/null; then
    echo "localstripe.sh: installing localstripe into $VENV" >&2
    python3 -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQS" >&2
    cp "$REQS" "$VENV/requirements.installed"
fi

nohup "$VENV/bin/python" "$HERE/localstripe/serve.py" "$PORT" </dev/null >"$LOG" 2>&1 &
PID=$!
if ! "$VENV/bin/python" "$HERE/localstripe/ready.py" "$PORT" "$PID" "${LOCALSTRIPE_TIMEOUT:-30}"; then
    tail -n 20 "$LOG" >&2 || true
    kill "$PID" 2>/dev/null || true
    exit 1
fi
echo "localstripe.sh: localstripe on http://127.0.0.1:$PORT (pid $PID, log $LOG)" >&2
echo "$PID"
