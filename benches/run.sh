#!/usr/bin/env bash
# run.sh — djstripe_pg throughput next to a plain-SQL floor, in a throwaway PostgreSQL 15 cluster.
#
#   bash benches/run.sh                 # default sizes, ~3 minutes on 2 cores
#   BENCH_QUICK=1 bash benches/run.sh   # smoke test: N=500, M=1000, RUNS=1
#
# Measures, each against a floor that does the same writes in plain SQL:
#   1. stripe.ingest_webhook, events/s, pgbench with 1 and 4 clients, one event per transaction
#   2. stripe.sync('customer'), objects/s, from a local fake Stripe API (1st run inserts, 2nd updates)
#   3. peak memory of the backend that ran both syncs
# and prints a Markdown table of medians. Progress and per-run figures go to stderr.
#
# Environment: BENCH_N events (20000), BENCH_M customers to sync (20000), BENCH_RUNS (3),
# BENCH_PG_PORT (a free port), BENCH_NO_INSTALL=1 (skip installing the release build). Needs sudo, python3
# (stdlib only) and ../shared/stripe/fixtures3.json beside the repo.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
BENCH=$REPO/benches
BIN=/usr/lib/postgresql/15/bin
FIXTURES=$(cd "$REPO/../shared/stripe" && pwd)/fixtures3.json
SECRET=whsec_bench
log() { echo "bench: $*" >&2; }

if [ -n "${BENCH_QUICK:-}" ]; then
    N=500 M=1000 RUNS=1
else
    N=${BENCH_N:-20000} M=${BENCH_M:-20000} RUNS=${BENCH_RUNS:-3}
fi
# Measure the optimised build, as users run it (BENCH_NO_INSTALL=1 measures what is installed).
if [ -z "${BENCH_NO_INSTALL:-}" ]; then
    log "installing the release build"
    DJSTRIPE_RELEASE=1 bash "$REPO/scripts/install.sh" >/dev/null
fi
[ -f /usr/share/postgresql/15/extension/djstripe_pg.control ] ||
    { log "djstripe_pg is not installed into PostgreSQL 15: run scripts/install.sh first"; exit 1; }

# What is being measured. A debug build (scripts/install.sh without DJSTRIPE_RELEASE=1) is
# several times slower in Rust code; say so next to the numbers. The .so is also checked again
# at the end: on a shared machine someone may reinstall it mid-run.
SO=$($BIN/pg_config --pkglibdir)/djstripe_pg.so
so_stamp() { stat -c '%y %s' "$SO"; }
SO_STAMP=$(so_stamp)
if readelf -S "$SO" 2>/dev/null | grep -q '\.debug_info'; then
    SO_KIND="has debug info: probably a debug build, DJSTRIPE_RELEASE=1 bash scripts/install.sh for an optimised one"
else
    SO_KIND="no debug info: a release build"
fi

PORT=${BENCH_PG_PORT:-$(python3 "$BENCH/bench.py" port)}
PGDIR=$(mktemp -d /tmp/djstripe-bench-pg.XXXXXX)   # its own dir: pgcluster.sh hands it to postgres
WORK=$(mktemp -d /tmp/djstripe-bench.XXXXXX)
HTTP_PID=

# Whatever happens, stop what we started (only these PIDs) and remove the temporary dirs.
cleanup() {
    local status=$?
    [ -n "$HTTP_PID" ] && kill "$HTTP_PID" 2>/dev/null || true
    bash "$REPO/scripts/pgcluster.sh" stop "$PGDIR" || true
    rm -rf "$PGDIR" "$WORK"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# fsync/synchronous_commit are already off (pgcluster.sh). Autovacuum off and a large
# max_wal_size keep background work from landing in random runs; we CHECKPOINT between runs.
bash "$REPO/scripts/pgcluster.sh" start "$PGDIR" "$PORT" "autovacuum = off" "max_wal_size = 8GB"
log "postgres on 127.0.0.1:$PORT ($PGDIR); N=$N M=$M RUNS=$RUNS"

q() { "$BIN/psql" -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U postgres -d postgres "$@"; }
RESULTS=$WORK/results
record() { echo "$1 $2" >> "$RESULTS"; log "run $run: $1 = $2"; }

q > /dev/null <<SQL
CREATE EXTENSION djstripe_pg;
SELECT stripe.add_webhook_secret('$SECRET');
SELECT stripe.set_api_key('sk_test_bench');
CREATE TABLE bench_events (n int PRIMARY KEY, payload text NOT NULL, sig text NOT NULL);
CREATE SEQUENCE bench_seq;
CREATE TABLE bench_pages (n int PRIMARY KEY, body text NOT NULL);
-- Uncompressed, so the floor does not pay pglz for ~100 kB pages the extension gets over HTTP.
ALTER TABLE bench_pages ALTER body SET STORAGE EXTERNAL;
-- The floors: the same rows written with no verification, no generated columns, no extra indexes.
CREATE TABLE floor_events (id text PRIMARY KEY, data jsonb NOT NULL);
CREATE TABLE floor_objects (id text PRIMARY KEY, data jsonb NOT NULL);
CREATE TABLE floor_customers (id text PRIMARY KEY, data jsonb NOT NULL);
-- Empties every mirror table (not the _secrets): ingest and sync also write tables other than
-- the object's own (events, embedded discounts, ...), and that list grows with the catalog.
CREATE FUNCTION bench_reset_mirror() RETURNS void LANGUAGE plpgsql AS \$\$ BEGIN
    EXECUTE (SELECT 'TRUNCATE ' || string_agg(format('%I.%I', schemaname, tablename), ', ')
             FROM pg_tables WHERE schemaname = 'stripe' AND tablename NOT LIKE '\\_%');
END \$\$;
SQL

# -- 1. webhook ingest ------------------------------------------------------------------------
# One statement per transaction, one round trip, taking the next unused event: what a PostgREST
# RPC call makes of a webhook delivery. -M prepared: PostgREST uses prepared statements too.
cat > "$WORK/ingest.sql" <<'SQL'
SELECT stripe.ingest_webhook(payload, sig) FROM bench_events WHERE n = (SELECT nextval('bench_seq'));
SQL
# The floor does the same two writes (event row, object row) in one statement, jsonb parse included.
cat > "$WORK/floor.sql" <<'SQL'
WITH e AS (SELECT payload::jsonb AS j FROM bench_events WHERE n = (SELECT nextval('bench_seq'))),
obj AS (INSERT INTO floor_objects (id, data) SELECT j -> 'data' -> 'object' ->> 'id', j -> 'data' -> 'object' FROM e
        ON CONFLICT (id) DO UPDATE SET data = excluded.data)
INSERT INTO floor_events (id, data) SELECT j ->> 'id', j FROM e ON CONFLICT (id) DO UPDATE SET data = excluded.data;
SQL

# pgbench SCRIPT CLIENTS -> events/s; each client runs N/CLIENTS transactions.
pgb() {
    local out
    q -c "ALTER SEQUENCE bench_seq RESTART" -c "CHECKPOINT"
    out=$("$BIN/pgbench" -n -M prepared -f "$1" -c "$2" -j "$2" -t $((N / $2)) \
        -h 127.0.0.1 -p "$PORT" -U postgres postgres 2>&1) || { echo "$out" >&2; return 1; }
    sed -n 's/^tps = \([0-9.]*\) (without initial connection time)$/\1/p' <<<"$out"
}

for run in $(seq "$RUNS"); do
    for c in 1 4; do
        # Fresh events each time, signed just now: within stripe.webhook_tolerance, never seen.
        python3 "$BENCH/bench.py" events "$N" "$SECRET" "$FIXTURES" |
            q -c "TRUNCATE bench_events" -c "COPY bench_events FROM STDIN (FORMAT csv)" -c "ANALYZE bench_events"
        done_n=$((N / c * c))

        q -c "SELECT bench_reset_mirror()" > /dev/null
        record "ingest_c$c.djstripe" "$(pgb "$WORK/ingest.sql" "$c")"
        applied=$(q -c "SELECT count(*) FROM stripe.events WHERE status = 'applied'")
        [ "$applied" = "$done_n" ] || { log "expected $done_n applied events, got $applied"; exit 1; }

        q -c "TRUNCATE floor_events, floor_objects"
        record "ingest_c$c.floor" "$(pgb "$WORK/floor.sql" "$c")"
        written=$(q -c "SELECT count(*) FROM floor_events")
        [ "$written" = "$done_n" ] || { log "expected $done_n floor events, got $written"; exit 1; }
    done
done

# -- 2. sync ----------------------------------------------------------------------------------
# The fake API renders every page up front and writes the same bodies to pages.csv for the floor.
python3 "$BENCH/bench.py" serve "$M" "$FIXTURES" "$WORK/pages.csv" > "$WORK/http.port" &
HTTP_PID=$!
for _ in $(seq 600); do
    [ -s "$WORK/http.port" ] && break
    kill -0 "$HTTP_PID" 2>/dev/null || { log "the fake Stripe API did not start"; exit 1; }
    sleep 0.1
done
HTTP_PORT=$(cat "$WORK/http.port")
API=http://127.0.0.1:$HTTP_PORT
q -c "COPY bench_pages FROM STDIN (FORMAT csv)" < "$WORK/pages.csv"
log "fake Stripe API on $API, $(q -c "SELECT count(*) FROM bench_pages") pages"

# One session per side: two timed passes (insert, then update). psql's \timing is the server
# round trip of each statement, without psql's own start-up. Before them the session starts
# bench.py sample on its own backend's pid, which records peak memory until the session ends.
FLOOR_PASS="DO \$\$ DECLARE p record; BEGIN
    FOR p IN SELECT body FROM bench_pages ORDER BY n LOOP
        INSERT INTO floor_customers (id, data) SELECT o ->> 'id', o FROM jsonb_array_elements(p.body::jsonb -> 'data') o
        ON CONFLICT (id) DO UPDATE SET data = excluded.data;
    END LOOP; END \$\$;"

# sync_session SIDE "STATEMENT" -> records sync_insert.SIDE, sync_update.SIDE, sync_*_mb.SIDE
sync_session() {
    local side=$1 stmt=$2 out times
    local mem=$WORK/mem.$side.$run
    out=$(q <<SQL
SET client_min_messages = warning;
SET stripe.api_base = '$API';
SELECT pg_backend_pid() AS pid \gset
\setenv BENCH_BACKEND :pid
\! python3 '$BENCH/bench.py' sample "\$BENCH_BACKEND" '$mem' &
\! while [ ! -e '$mem.ready' ]; do sleep 0.01; done
\timing on
$stmt
$stmt
SQL
)
    if [ "$side" = djstripe ]; then  # stripe.sync returns how many objects it saw
        [ "$(grep -cx "$M" <<<"$out")" = 2 ] || { log "sync did not return $M twice: $out"; exit 1; }
    fi
    times=($(sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' <<<"$out"))
    record "sync_insert.$side" "$(awk "BEGIN { print $M / ${times[0]} * 1000 }")"
    record "sync_update.$side" "$(awk "BEGIN { print $M / ${times[1]} * 1000 }")"
    for _ in $(seq 100); do [ -f "$mem" ] && break; sleep 0.05; done  # the sampler sees the exit
    [ -f "$mem" ] || { log "no memory figures from bench.py sample"; exit 1; }
    read -r anon hwm < "$mem"
    record "sync_anon_mb.$side" "$(awk "BEGIN { print $anon / 1024 }")"
    record "sync_vmhwm_mb.$side" "$(awk "BEGIN { print $hwm / 1024 }")"
}

for run in $(seq "$RUNS"); do
    q -c "SELECT bench_reset_mirror()" -c "TRUNCATE floor_customers" -c "CHECKPOINT" > /dev/null
    sync_session djstripe "SELECT stripe.sync('customer');"
    rows=$(q -c "SELECT count(*) FILTER (WHERE NOT deleted) FROM stripe.customers")
    [ "$rows" = "$M" ] || { log "expected $M live customers after sync, got $rows"; exit 1; }
    sync_session floor "$FLOOR_PASS"
    read -r secs objs < <(python3 "$BENCH/bench.py" fetch "$API")
    record server_s "$secs"
    record server_objects "$objs"
done

# -- report -----------------------------------------------------------------------------------
echo "machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "postgres: $(q -c "SELECT version()")"
echo "djstripe_pg $(q -c "SELECT extversion FROM pg_extension WHERE extname = 'djstripe_pg'"): $SO," \
    "installed $(date -r "$SO" '+%F %T'), $(($(stat -c %s "$SO") >> 20)) MB, $SO_KIND"
[ "$(so_stamp)" = "$SO_STAMP" ] || echo "WARNING: $SO was replaced during the run ($(so_stamp)); the numbers mix two builds"
echo "N = $N webhook events per run, M = $M customers synced per run, medians of $RUNS run(s), ${SECONDS}s in all"
echo
python3 "$BENCH/bench.py" report "$RESULTS"
