#!/usr/bin/env bash
# run.sh — djstripe_pg next to Stripe's sync-engine and a plain-SQL floor, on one throwaway
# PostgreSQL 15 cluster, one machine, the same Stripe data.
#
#   bash benches/run.sh                 # default sizes, ~6 minutes on 2 cores
#   BENCH_QUICK=1 bash benches/run.sh   # smoke test: N=300, M=700, 1 run, ~30 s
#
# The peer is npm `stripe-experiment-sync` at the version pinned in benches/peer/package.json
# (with its lockfile), installed with `npm ci` into a scratch folder outside the repository
# (BENCH_PEER_DIR, default /tmp/djstripe-bench-peer-VERSION), never into the project. It gets
# its own database in the same cluster; its migrations read Stripe's OpenAPI spec from
# vendor/stripe (unpacked) instead of downloading it, and StripeSync.create gets stripeAccountId, so it
# never calls Stripe. Its Stripe client is pointed at the same local stand-in as ours.
#
# Measures, per run, each system right after the others (the order rotates between runs):
#   1. webhook ingest: N signed events (customer, invoice with 3 lines, subscription with 2
#      items, charge, payment_intent: fixture shapes, ~6 kB each), each sent once, with 1 and
#      with 4 concurrent clients, by one Node program (benches/peer/driver.cjs):
#        ours:  SELECT stripe.ingest_webhook($1, $2), one connection per client, prepared
#        peer:  StripeSync.webhook.processWebhook(payload, sig), one process, 4 in flight
#        floor: the same event row and object row upserted as jsonb, one statement, prepared
#        and ours queued (stripe.ingest_mode = queue): the same calls, timed until the
#        background worker has applied every event (compared with the same peer and floor runs);
#        and the schema floor: the floor's two rows upserted into our own tables instead
#   2. batch ingest: ours: SELECT stripe.sync_events() pulling N events of the same mix from
#      the local /v1/events; the peer has no batch path, so its figure is its 4-client webhook rate;
#      floor: the event pages upserted page by page in plain SQL
#   3. backfill: M objects of 7 types (products, prices, customers, subscriptions, invoices,
#      charges, payment_intents) from a local API that answers instantly, twice (inserts, then
#      updates): ours: stripe.sync(type) for each type in one session; peer: its fullSync of the
#      same types (library defaults: segmented, 20 workers; its 10 requests/s throttle lifted);
#      floor: the same pages upserted as jsonb
#   4. peak memory: ours: the backends that did the work; peer: the Node process
# and prints a Markdown table of medians and per-run ratios. Progress goes to stderr.
#
#   5. backend memory as the backfill grows: ours, both passes of BENCH_M2 objects (200000)
#
# Environment: BENCH_N (5000), BENCH_M (10000), BENCH_RUNS (3), BENCH_M2 (200000; 0 skips step
# 5; the quick run skips it), BENCH_PG_PORT (a free port),
# BENCH_NO_INSTALL=1 (skip installing the release build), BENCH_PEER_DIR. Needs sudo, python3
# (stdlib), xz, node >= 18 and npm; reads Stripe's data from vendor/stripe.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
BENCH=$REPO/benches
BIN=/usr/lib/postgresql/15/bin
FIXTURES=$REPO/vendor/stripe/fixtures3.json
SECRET=whsec_bench
log() { echo "bench: $*" >&2; }

if [ -n "${BENCH_QUICK:-}" ]; then
    N=300 M=700 RUNS=1 M2=${BENCH_M2:-0}
else
    N=${BENCH_N:-5000} M=${BENCH_M:-10000} RUNS=${BENCH_RUNS:-3} M2=${BENCH_M2:-200000}
fi

# -- the peer, at its pinned version, in a scratch folder -------------------------------------
PEER_VERSION=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["dependencies"]["stripe-experiment-sync"])' \
    "$BENCH/peer/package.json")
export PEER_DIR=${BENCH_PEER_DIR:-/tmp/djstripe-bench-peer-$PEER_VERSION}
if ! cmp -s "$BENCH/peer/package-lock.json" "$PEER_DIR/package-lock.json" ||
   [ ! -f "$PEER_DIR/node_modules/stripe-experiment-sync/package.json" ]; then
    log "installing stripe-experiment-sync@$PEER_VERSION into $PEER_DIR (npm ci)"
    mkdir -p "$PEER_DIR"
    cp "$BENCH/peer/package.json" "$BENCH/peer/package-lock.json" "$PEER_DIR/"
    (cd "$PEER_DIR" && npm ci --no-audit --no-fund --loglevel=error >&2)
fi
# Its migrations read Stripe's OpenAPI spec from a file (instead of downloading it).
SPEC=$PEER_DIR/spec3-2023-09-12.json
[ -f "$SPEC" ] || { xz -dc "$REPO/vendor/stripe/spec3-2023-09-12.json.xz" > "$SPEC.part" && mv "$SPEC.part" "$SPEC"; }
PEER_INSTALLED=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' \
    "$PEER_DIR/node_modules/stripe-experiment-sync/package.json")
[ "$PEER_INSTALLED" = "$PEER_VERSION" ] || { log "$PEER_DIR has $PEER_INSTALLED, not $PEER_VERSION"; exit 1; }

# -- ours, the optimised build, as users run it (BENCH_NO_INSTALL=1 measures what is installed) --
if [ -z "${BENCH_NO_INSTALL:-}" ]; then
    log "installing the release build"
    bash "$REPO/scripts/setup.sh" && bash "$REPO/scripts/install.sh" >/dev/null
fi
[ -f /usr/share/postgresql/15/extension/djstripe_pg.control ] ||
    { log "djstripe_pg is not installed into PostgreSQL 15: run scripts/install.sh first"; exit 1; }
# A debug build is several times slower in Rust code; say so next to the numbers. On a shared
# machine someone may reinstall the .so at any time: the cluster preloads it at start
# (shared_preload_libraries), so every backend runs the build installed just now whatever
# happens to the file later; the file is checked again once the cluster is up.
SO=$($BIN/pg_config --pkglibdir)/djstripe_pg.so
so_stamp() { stat -c '%y %s' "$SO"; }
SO_STAMP=$(so_stamp)
SO_DESC="installed $(date -r "$SO" '+%F %T'), $(($(stat -c %s "$SO") >> 20)) MB"
if readelf -S "$SO" 2>/dev/null | grep -q '\.debug_info'; then
    SO_KIND="has debug info: probably a debug build; bash scripts/install.sh installs the optimised one"
else
    SO_KIND="no debug info: a release build"
fi
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

PORT=${BENCH_PG_PORT:-$(python3 "$BENCH/bench.py" port)}
PGDIR=$(mktemp -d /tmp/djstripe-bench-pg.XXXXXX)   # its own dir: pgcluster.sh hands it to postgres
WORK=$(mktemp -d /tmp/djstripe-bench.XXXXXX)
HTTP_PID= HTTP2_PID=

# Whatever happens, stop what we started (only these PIDs) and remove the temporary dirs.
cleanup() {
    local status=$?
    [ -n "$HTTP_PID" ] && kill "$HTTP_PID" 2>/dev/null || true
    [ -n "$HTTP2_PID" ] && kill "$HTTP2_PID" 2>/dev/null || true
    bash "$REPO/scripts/pgcluster.sh" stop "$PGDIR" || true
    rm -rf "$PGDIR" "$WORK"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# fsync/synchronous_commit are already off (pgcluster.sh). Autovacuum off, a large max_wal_size
# and a long checkpoint_timeout keep background work out of random runs; we CHECKPOINT before
# each measurement instead.
bash "$REPO/scripts/pgcluster.sh" start "$PGDIR" "$PORT" "autovacuum = off" "max_wal_size = 8GB" \
    "checkpoint_timeout = 1h" "max_connections = 200" "shared_preload_libraries = 'djstripe_pg'" \
    "stripe.worker_databases = 'postgres'"
SO_STAMP_LOADED=$(so_stamp)
log "postgres on 127.0.0.1:$PORT ($PGDIR); N=$N M=$M RUNS=$RUNS"

OURS_DB=postgres://postgres@127.0.0.1:$PORT/postgres
PEER_DB=postgres://postgres@127.0.0.1:$PORT/peer
q() { "$BIN/psql" -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U postgres -d postgres "$@"; }
qp() { "$BIN/psql" -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U postgres -d peer "$@"; }
driver() { node "$BENCH/peer/driver.cjs" "$@"; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
RESULTS=$WORK/results
record() { echo "$1 $2" >> "$RESULTS"; log "run $run: $1 = $2"; }
# ratio KEY A B: records KEY.A/B from this run's figures
ratio() {
    local a b
    a=$(awk -v k="$1.$2" '$1 == k { v = $2 } END { print v }' "$RESULTS")
    b=$(awk -v k="$1.$3" '$1 == k { v = $2 } END { print v }' "$RESULTS")
    if [ -n "$a" ] && [ -n "$b" ]; then echo "$1.$2/$3 $(awk "BEGIN { print $a / $b }")" >> "$RESULTS"; fi
}
# waitmem FILE KEY: records the peak memory bench.py sample wrote (it sees the processes exit)
waitmem() {
    for _ in $(seq 200); do [ -f "$1" ] && break; sleep 0.05; done
    [ -f "$1" ] || { log "no memory figures in $1"; exit 1; }
    local anon hwm
    read -r anon hwm < "$1"
    record "$2_anon_mb.$3" "$(awk "BEGIN { print $anon / 1024 }")"
    record "$2_hwm_mb.$3" "$(awk "BEGIN { print $hwm / 1024 }")"
}

q > /dev/null <<SQL
CREATE DATABASE peer;
CREATE EXTENSION djstripe_pg;
SELECT stripe.add_webhook_secret('$SECRET');
SELECT stripe.set_api_key('sk_test_bench');
CREATE TABLE bench_pages (n int PRIMARY KEY, path text NOT NULL, body text NOT NULL);
-- Uncompressed, so the floor does not pay pglz for ~400 kB pages the others get over HTTP.
ALTER TABLE bench_pages ALTER body SET STORAGE EXTERNAL;
-- The floors: the same rows written with no verification, no generated columns, no extra indexes.
CREATE TABLE floor_events (id text PRIMARY KEY, data jsonb NOT NULL);
CREATE TABLE floor_objects (id text PRIMARY KEY, data jsonb NOT NULL);
-- Empties every mirror table (not the _secrets, nor stripe.workers: a queued event wakes the
-- worker it names): ingest and sync also write tables other than the object's own (events,
-- nested lines, embedded discounts, ...).
CREATE FUNCTION bench_reset() RETURNS void LANGUAGE plpgsql AS \$\$ BEGIN
    EXECUTE (SELECT 'TRUNCATE ' || string_agg(format('%I.%I', schemaname, tablename), ', ')
             FROM pg_tables WHERE schemaname = 'stripe' AND tablename NOT LIKE '\\_%'
              AND tablename <> 'workers');
    TRUNCATE floor_events, floor_objects;
END \$\$;
-- The floor of one backfill pass or one batch: every page of the given lists, in order.
CREATE FUNCTION bench_floor_pages(paths text[]) RETURNS bigint LANGUAGE plpgsql AS \$\$
DECLARE p record; total bigint := 0; k bigint; BEGIN
    FOR p IN SELECT path, body FROM bench_pages b WHERE b.path = ANY (paths) ORDER BY b.n LOOP
        IF p.path = '/v1/events' THEN
            WITH e AS (SELECT j FROM jsonb_array_elements(p.body::jsonb -> 'data') j),
            obj AS (INSERT INTO floor_objects (id, data) SELECT j -> 'data' -> 'object' ->> 'id', j -> 'data' -> 'object' FROM e
                    ON CONFLICT (id) DO UPDATE SET data = excluded.data)
            INSERT INTO floor_events (id, data) SELECT j ->> 'id', j FROM e
            ON CONFLICT (id) DO UPDATE SET data = excluded.data;
        ELSE
            INSERT INTO floor_objects (id, data) SELECT o ->> 'id', o FROM jsonb_array_elements(p.body::jsonb -> 'data') o
            ON CONFLICT (id) DO UPDATE SET data = excluded.data;
        END IF;
        GET DIAGNOSTICS k = ROW_COUNT;
        total := total + k;
    END LOOP;
    RETURN total;
END \$\$;
SQL
PEER_MIGRATE_S=$(driver migrate "$PEER_DB" "$SPEC" | json 'd["seconds"]')
log "sync-engine $PEER_VERSION migrated its database in ${PEER_MIGRATE_S}s"
qp > /dev/null <<'SQL'
-- Empties the peer's data and sync bookkeeping (not its account row or migrations).
CREATE FUNCTION bench_reset() RETURNS void LANGUAGE plpgsql AS $$ BEGIN
    EXECUTE (SELECT 'TRUNCATE ' || string_agg(format('%I.%I', schemaname, tablename), ', ')
             FROM pg_tables WHERE schemaname = 'stripe'
              AND tablename NOT IN ('accounts', '_migrations', '_managed_webhooks'));
END $$;
SQL
reset_all() { q -c "SELECT bench_reset()" > /dev/null; qp -c "SELECT bench_reset()" > /dev/null; q -c CHECKPOINT; }

# -- the instant Stripe API --------------------------------------------------------------------
# Serves M objects of the 7 types and the N batch events; writes the pages a plain walk sees
# to pages.csv for the floors.
# wait_port PID FILE: waits (up to 2 minutes) for the server PID to write its port to FILE
wait_port() {
    for _ in $(seq 1200); do
        [ -s "$2" ] && return
        kill -0 "$1" 2>/dev/null || { log "the fake Stripe API did not start"; exit 1; }
        sleep 0.1
    done
    log "the fake Stripe API did not start in time"; exit 1
}
python3 "$BENCH/bench.py" serve "$M" "$N" "$FIXTURES" "$WORK/pages.csv" > "$WORK/http.port" &
HTTP_PID=$!
wait_port "$HTTP_PID" "$WORK/http.port"
API=http://127.0.0.1:$(cat "$WORK/http.port")
q -c "COPY bench_pages FROM STDIN (FORMAT csv)" < "$WORK/pages.csv"
python3 "$BENCH/bench.py" counts "$M" > "$WORK/counts"
M=$(awk '{ s += $3 } END { print s }' "$WORK/counts")  # what the 7 lists hold in all
log "fake Stripe API on $API, $(q -c "SELECT count(*) FROM bench_pages") pages, $M objects"

# Every run: each system right after the others, in an order that rotates between runs.
ORDERS=("ours peer floor" "peer floor ours" "floor ours peer")

# -- 1. webhook ingest -------------------------------------------------------------------------
# A queued event wakes the worker stripe.workers names; it registers itself within
# stripe.worker_idle_timeout of CREATE EXTENSION.
wait_worker() {
    for _ in $(seq 300); do
        [ "$(q -c "SELECT count(*) FROM stripe.workers w JOIN pg_stat_activity a USING (pid)")" = 1 ] && return
        sleep 0.1
    done
    log "the djstripe_pg worker did not register"; exit 1
}
ingest() {  # SYSTEM CLIENTS EVENTS_FILE
    local sys=$1 c=$2 out mem=$WORK/mem.ingest.$1.$2.$run
    reset_all
    if [ "$sys" = queue ]; then wait_worker; fi
    out=$(driver ingest "$sys" "$([ "$sys" = peer ] && echo "$PEER_DB" || echo "$OURS_DB")" "$3" "$c" "$SECRET" "$mem")
    if [ "$sys" = queue ]; then
        record "ingest_q$c.ours" "$(json "$N / d['seconds']" <<<"$out")"
    else
        record "ingest_c$c.$sys" "$(json "$N / d['seconds']" <<<"$out")"
    fi
    local got
    case $sys in
        ours|queue) got=$(q -c "SELECT count(*) FROM stripe.events WHERE status = 'applied'")
              # nested lists land in their own tables: 3 lines per invoice, 2 items per subscription
              local nested
              nested=$(q -c "SELECT (SELECT count(*) FROM stripe.invoice_lines) = 3 * (SELECT count(*) FROM stripe.invoices)
                            AND (SELECT count(*) FROM stripe.subscription_items) = 2 * (SELECT count(*) FROM stripe.subscriptions)")
              [ "$nested" = t ] || { log "ours: nested lines/items missing after ingest"; exit 1; } ;;
        floor) got=$(q -c "SELECT count(*) FROM floor_events") ;;
        schema) got=$(q -c "SELECT count(*) FROM stripe.events") ;;
        peer) got=$(qp -c "SELECT (SELECT count(*) FROM stripe.customers) + (SELECT count(*) FROM stripe.invoices)
                         + (SELECT count(*) FROM stripe.subscriptions) + (SELECT count(*) FROM stripe.charges)
                         + (SELECT count(*) FROM stripe.payment_intents)") ;;
    esac
    [ "$got" = "$N" ] || { log "$sys: expected $N events' objects written, got $got"; exit 1; }
    if [ "$c" = 4 ] && [ "$sys" != queue ] && [ "$sys" != schema ]; then waitmem "$mem" ingest "$sys"; fi
}

# -- 2. batch ingest ---------------------------------------------------------------------------
# One session per side; psql's \timing is the server round trip of the statement.
batch() {  # SYSTEM
    local out ms
    reset_all
    case $1 in
        ours) out=$(q -c "SET client_min_messages = warning" -c "SET stripe.api_base = '$API'" \
                      -c '\timing on' -c "SELECT stripe.sync_events()")
              [ "$(head -1 <<<"$out")" = "$N" ] || { log "sync_events did not record $N events: $out"; exit 1; }
              local applied
              applied=$(q -c "SELECT count(*) FROM stripe.events WHERE status = 'applied'")
              [ "$applied" = "$N" ] || { log "sync_events applied $applied of $N events"; exit 1; } ;;
        floor) out=$(q -c '\timing on' -c "SELECT bench_floor_pages('{/v1/events}')") ;;
        peer) return ;;  # no batch path: its 4-client webhook rate stands in (see report)
    esac
    ms=$(sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' <<<"$out")
    record "batch.$1" "$(awk "BEGIN { print $N / $ms * 1000 }")"
}

# -- 3. backfill -------------------------------------------------------------------------------
# ours and the floor: one psql session, two passes; the session starts bench.py sample on its
# own backend first (peak memory until the session ends). psql's \timing per statement.
SYNC_PASS=$(awk '{ printf "SELECT stripe.sync(%s%s%s);\n", "\047", $1, "\047" }' "$WORK/counts")
FLOOR_PASS=$(awk '{ printf "SELECT bench_floor_pages(%s{%s}%s);\n", "\047", $2, "\047" }' "$WORK/counts")
sql_session() {  # SYSTEM STATEMENTS [API] -> output; memory into $WORK/mem.backfill.SYSTEM.$run
    local mem=$WORK/mem.backfill.$1.$run
    q <<SQL
SET client_min_messages = warning;
SET stripe.api_base = '${3:-$API}';
SELECT pg_backend_pid() AS pid \gset
\setenv BENCH_BACKEND :pid
\! python3 '$BENCH/bench.py' sample '$mem' "\$BENCH_BACKEND" &
\! while [ ! -e '$mem.ready' ]; do sleep 0.01; done
\timing on
\echo pass
$2
\echo pass
$2
SQL
}
backfill() {  # SYSTEM
    local sys=$1 out
    reset_all
    case $sys in
        ours|floor)
            out=$(sql_session "$sys" "$([ "$sys" = ours ] && echo "$SYNC_PASS" || echo "$FLOOR_PASS")")
            # per pass: the sum of its statements' times; ours also checks each sync's count
            local pass=0 ms
            while read -r insert update; do
                record "backfill_insert.$sys" "$(awk "BEGIN { print $M / $insert * 1000 }")"
                record "backfill_update.$sys" "$(awk "BEGIN { print $M / $update * 1000 }")"
            done < <(awk '/^pass$/ { p++ } /^Time: / { t[p] += $2 } END { print t[1], t[2] }' <<<"$out")
            # each statement returns how many objects it wrote: the type's count, both passes
            local want got
            want=$(awk '{ print $3 }' "$WORK/counts" | paste -sd' ')
            got=$(grep -Ex '[0-9]+' <<<"$out" | paste -sd' ')
            [ "$got" = "$want $want" ] || { log "$sys backfill counts: want $want twice, got $got"; exit 1; }
            # per type, first pass: where the time goes
            paste <(awk '{ print $1, $3 }' "$WORK/counts") \
                  <(awk '/^pass$/ { p++ } p == 1 && /^Time: / { print $2 }' <<<"$out") |
                while read -r t n ms; do record "bf_type_$t.$sys" "$(awk "BEGIN { print $n / $ms * 1000 }")"; done
            waitmem "$WORK/mem.backfill.$sys.$run" backfill "$sys" ;;
        peer)
            out=$(driver backfill "$PEER_DB" "$API" 2 "$WORK/mem.backfill.peer.$run")
            local objs
            objs=$(json "' '.join(str(p['objects']) for p in d['passes'])" <<<"$out")
            [ "$objs" = "$M $M" ] || { log "peer fullSync synced $objs, want $M twice: $out"; exit 1; }
            record backfill_insert.peer "$(json "$M / d['passes'][0]['seconds']" <<<"$out")"
            record backfill_update.peer "$(json "$M / d['passes'][1]['seconds']" <<<"$out")"
            waitmem "$WORK/mem.backfill.peer.$run" backfill peer ;;
    esac
}

for run in $(seq "$RUNS"); do
    order=${ORDERS[$(((run - 1) % 3))]}
    log "run $run of $RUNS, order: $order"
    for c in 1 4; do
        # Fresh events each time, signed just now: within both systems' 300 s tolerance.
        python3 "$BENCH/bench.py" events "$N" "$SECRET" "$FIXTURES" "$WORK/events"
        for sys in $order; do ingest "$sys" "$c" "$WORK/events"; done
        ingest queue "$c" "$WORK/events"
        ingest schema "$c" "$WORK/events"
    done
    for sys in $order; do batch "$sys"; done
    for sys in $order; do backfill "$sys"; done
    read -r secs objs < <(python3 "$BENCH/bench.py" fetch "$API")
    record server_s "$secs"
    record server_objects "$objs"
    # the peer's batch figure is its 4-client webhook rate of the same run
    record batch.peer "$(awk '$1 == "ingest_c4.peer" { v = $2 } END { print v }' "$RESULTS")"
    # queued ingest is compared with the same run's peer and floor at the same concurrency
    for c in 1 4; do
        for sys in peer floor schema; do
            record "ingest_q$c.$sys" "$(awk -v k="ingest_c$c.$sys" '$1 == k { v = $2 } END { print v }' "$RESULTS")"
        done
    done
    for k in ingest_c1 ingest_c4 ingest_q1 ingest_q4; do ratio "$k" ours schema; done
    for k in ingest_c1 ingest_c4 ingest_q1 ingest_q4 batch backfill_insert backfill_update ingest_anon_mb ingest_hwm_mb \
             backfill_anon_mb backfill_hwm_mb $(awk '{ printf "bf_type_%s ", $1 }' "$WORK/counts"); do
        ratio "$k" ours peer
        ratio "$k" ours floor
    done
done

# -- 5. backend memory as the backfill grows ----------------------------------------------------
# Ours only: both passes of M2 objects (default 200,000) from a second instant API, in one
# session, beside the M-object figures above.
if [ "$M2" -gt 0 ]; then
    log "memory scaling: serving $M2 objects"
    python3 "$BENCH/bench.py" serve "$M2" 0 "$FIXTURES" - > "$WORK/http2.port" &
    HTTP2_PID=$!
    wait_port "$HTTP2_PID" "$WORK/http2.port"
    python3 "$BENCH/bench.py" counts "$M2" > "$WORK/counts2"
    run=big
    reset_all
    out=$(sql_session ours "$(awk '{ printf "SELECT stripe.sync(%s%s%s);\n", "\047", $1, "\047" }' "$WORK/counts2")" \
          "http://127.0.0.1:$(cat "$WORK/http2.port")")
    want=$(awk '{ print $3 }' "$WORK/counts2" | paste -sd' ')
    got=$(grep -Ex '[0-9]+' <<<"$out" | paste -sd' ')
    [ "$got" = "$want $want" ] || { log "backfill of $M2: want $want twice, got $got"; exit 1; }
    M2=$(awk '{ s += $3 } END { print s }' "$WORK/counts2")
    read -r anon hwm < "$WORK/mem.backfill.ours.big"
    awk '/^pass$/ { p++ } /^Time: / { t[p] += $2 } END { print t[1], t[2] }' <<<"$out" > "$WORK/big.times"
    read -r t1 t2 < "$WORK/big.times"
    echo "backfill_big $M2 $anon $hwm $t1 $t2" > "$WORK/big"
    kill "$HTTP2_PID" 2>/dev/null || true
    HTTP2_PID=
fi

# -- report -----------------------------------------------------------------------------------
echo "machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)," \
    "$(awk '/MemTotal/ { printf "%.0f GB RAM", $2 / 1048576 }' /proc/meminfo)," \
    "load average $LOAD_START at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end (other work shares the machine)"
echo "postgres: $(q -c "SELECT version()"); one cluster, fsync and synchronous_commit off, autovacuum off"
echo "djstripe_pg $(q -c "SELECT extversion FROM pg_extension WHERE extname = 'djstripe_pg'") ($(git -C "$REPO" describe --always --dirty 2>/dev/null)):" \
    "$SO, $SO_DESC, $SO_KIND; preloaded"
if [ "$SO_STAMP_LOADED" != "$SO_STAMP" ]; then
    echo "WARNING: $SO was replaced between installing it and starting the cluster: the numbers may be of another build; run again"
elif [ "$(so_stamp)" != "$SO_STAMP" ]; then
    echo "(the file was replaced during the run; the cluster had preloaded the build above, so the numbers are of that build)"
fi
echo "peer: stripe-experiment-sync $PEER_VERSION (stripe $(json 'd["version"]' < "$PEER_DIR/node_modules/stripe/package.json")," \
    "pg $(json 'd["version"]' < "$PEER_DIR/node_modules/pg/package.json")) on node $(node --version), in $PEER_DIR;" \
    "migrations from the local OpenAPI spec took ${PEER_MIGRATE_S}s"
echo "N = $N webhook events per measurement, M = $M objects per backfill pass, medians of $RUNS run(s), ${SECONDS}s in all"
echo
python3 "$BENCH/bench.py" report "$RESULTS" "$WORK/big" "$M"
