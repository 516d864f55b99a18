#!/usr/bin/env bash
# install.sh — build djstripe_pg and install it into Debian's PostgreSQL 15 (as root).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo pgrx install ${DJSTRIPE_RELEASE:+--release} --pg-config /usr/lib/postgresql/15/bin/pg_config >&2
