#!/usr/bin/env bash
# soak.sh — the long run of the differential test: many random histories against the simulated
# Stripe, each checked against its truth (tests/soak_differential.py; arguments go to it).
# Builds and installs the extension and the test venv first, like the test command.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
bash "$REPO/scripts/setup.sh"
bash "$REPO/scripts/install.sh" --debug
VENV=$REPO/.venv-e2e
if ! cmp -s "$REPO/tests/e2e/requirements.txt" "$VENV/requirements.installed" 2>/dev/null; then
    python3 -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REPO/tests/e2e/requirements.txt"
    cp "$REPO/tests/e2e/requirements.txt" "$VENV/requirements.installed"
fi
cd "$REPO/tests/e2e"
PYTHONDONTWRITEBYTECODE=1 exec "$VENV/bin/python" "$REPO/tests/soak_differential.py" "$@"
