#!/usr/bin/env bash
# demo.sh — the main job: build and install djstripe_pg, start a throwaway cluster, mirror Stripe
# data by a sync and by one signed webhook, and print a query that joins the mirrored tables.
#
#   bash scripts/demo.sh                      # against localstripe, seeded with a few objects
#   STRIPE_API_KEY=sk_test_… bash scripts/demo.sh   # against your real Stripe test account
#   DJSTRIPE_DEMO_PG=18 bash scripts/demo.sh  # on PostgreSQL 18 (the wheel setup.sh installs)
#
# It stops everything it started. Nothing is written to Stripe in real mode.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PGPORT=${DEMO_PGPORT:-55433}
LSPORT=${DEMO_LOCALSTRIPE_PORT:-8430}
PGDIR=$(mktemp -d /tmp/djstripe_pg-demo.XXXXXX)
LSPID=""

cleanup() {
    bash scripts/pgcluster.sh stop "$PGDIR" || true
    rm -rf "$PGDIR"
    [ -n "$LSPID" ] && kill "$LSPID" 2>/dev/null || true
}
trap cleanup EXIT

bash scripts/setup.sh
case "${DJSTRIPE_DEMO_PG:-15}" in
    15) PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config ;;
    18) PG_CONFIG=$(bash scripts/pg18-config.sh) ;;
    *) echo "demo: DJSTRIPE_DEMO_PG is 15 or 18" >&2; exit 2 ;;
esac
export PG_BIN
PG_BIN=$(dirname "$PG_CONFIG")
bash scripts/install.sh "$PG_CONFIG"
bash scripts/pgcluster.sh start "$PGDIR" "$PGPORT"

if [ -n "${STRIPE_API_KEY:-}" ]; then
    API_BASE=https://api.stripe.com
    KEY=$STRIPE_API_KEY
    echo "demo: using the real Stripe API (read-only)"
else
    LSPID=$(bash scripts/localstripe.sh "$LSPORT")
    API_BASE=http://127.0.0.1:$LSPORT
    KEY=sk_test_demo_key
    echo "demo: using localstripe on $API_BASE (pid $LSPID)"
fi

# Seeding, picking the webhook event and signing it are in Python's standard library only.
PSQL="$PG_BIN/psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p $PGPORT -U postgres -d postgres"
python3 scripts/demo.py --api-base "$API_BASE" --psql "$PSQL" --seed "$([ -z "${STRIPE_API_KEY:-}" ] && echo yes || echo no)" <<<"$KEY"
