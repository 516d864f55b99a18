// driver.cjs — the Node side of benches/run.sh. One client program drives all three systems, so
// client overhead, payload transfer and concurrency are the same for each:
//
//   node driver.cjs migrate  DB_URL SPEC                 peer: its migrations (OpenAPI spec from a file)
//   node driver.cjs ingest   SYSTEM DB_URL EVENTS C SECRET MEMFILE
//                                                        SYSTEM: ours | queue | peer | floor |
//                                                        schema (the floor into our tables).
//                                                        Sends every event of EVENTS (see
//                                                        openEvents) once, C at a time; prints
//                                                        JSON {seconds, n}. queue: ours with
//                                                        stripe.ingest_mode = queue, timed until
//                                                        the worker has applied every event
//   node driver.cjs backfill DB_URL API_BASE PASSES MEMFILE
//                                                        peer: fullSync of the benchmark's 7 types
//                                                        from the instant API, PASSES times; prints
//                                                        JSON {passes: [{seconds, objects}]}
//
// PEER_DIR (environment) is the scratch folder holding the pinned sync-engine (node_modules).
// MEMFILE: bench.py sample watches the processes doing the work (ours/floor: the C backends,
// which exit when we disconnect; peer: this Node process) and writes their peak memory there.
'use strict';
const path = require('path');
const fs = require('fs');
const { spawn } = require('child_process');
const { createRequire } = require('module');

const peerRequire = createRequire(path.join(process.env.PEER_DIR || '.', 'package.json'));
const pg = peerRequire('pg');
const BENCH_PY = path.join(__dirname, '..', 'bench.py');
const TYPES = ['product', 'price', 'customer', 'subscription', 'invoice', 'charge', 'payment_intent'];
// What StripeSync.create needs to make no API call at all.
const ACCOUNT = 'acct_bench';
const KEY = 'sk_test_bench';

const quiet = { info() {}, warn() {}, error: (...a) => console.error(...a) };
// Only the JSON result goes to stdout. The peer's own console.log lines and fullSync's
// progress display (written to stdout even with monitorProgress off) are dropped; its
// warnings and errors go to stderr.
const stdoutWrite = process.stdout.write.bind(process.stdout);
const print = (obj) => stdoutWrite(JSON.stringify(obj) + '\n');
console.log = () => {};
process.stdout.write = () => true;

function startSampler(memfile, pids) {
  const child = spawn('python3', [BENCH_PY, 'sample', memfile, ...pids.map(String)], {
    stdio: 'inherit', detached: true,
  });
  child.unref();
  return new Promise((resolve) => {
    const poll = () => (fs.existsSync(memfile + '.ready') ? resolve() : setTimeout(poll, 10));
    poll();
  });
}

// Events: payloads back to back in FILE, "offset length signature" per line in FILE.idx. Each
// payload is read from the file when it is sent, so no system's memory figure includes them.
function openEvents(file) {
  const idx = fs.readFileSync(file + '.idx', 'utf8').split('\n').filter(Boolean).map((l) => {
    const [off, len, sig, kind] = l.split(' ');
    return { off: Number(off), len: Number(len), sig, kind };
  });
  const fd = fs.openSync(file, 'r');
  return {
    length: idx.length,
    get(i) {
      const buf = Buffer.allocUnsafe(idx[i].len);
      fs.readSync(fd, buf, 0, buf.length, idx[i].off);
      return { payload: buf.toString('utf8'), sig: idx[i].sig, kind: idx[i].kind };
    },
  };
}

// Runs work(i) for i in [0, n), `clients` at a time, each worker taking the next unused index.
async function drive(n, clients, work) {
  let next = 0;
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: clients }, async (_, w) => {
    for (let i = next++; i < n; i = next++) await work(i, w);
  }));
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

async function peerSync(dbUrl, extra = {}) {
  const { StripeSync } = peerRequire('stripe-experiment-sync');
  return StripeSync.create({
    poolConfig: { connectionString: dbUrl, max: 10, keepAlive: true },
    stripeSecretKey: KEY,
    stripeAccountId: ACCOUNT,
    stripeWebhookSecret: extra.secret,
    stripeApiVersion: '2023-08-16',
    logger: quiet,
    ...extra.config,
  });
}

const commands = {
  async migrate(dbUrl, spec) {
    const { runMigrations } = peerRequire('stripe-experiment-sync');
    const t0 = Date.now();
    await runMigrations({ databaseUrl: dbUrl, openApiSpecPath: spec, stripeApiVersion: '2023-08-16', logger: quiet });
    print({ seconds: (Date.now() - t0) / 1000 });
  },

  async ingest(system, dbUrl, eventsFile, clients, secret, memfile) {
    clients = Number(clients);
    const events = openEvents(eventsFile);
    let seconds;
    if (system === 'peer') {
      // A Node server handles concurrent deliveries in one process with one StripeSync (its
      // pool: 10 connections): `clients` deliveries in flight at once.
      const sync = await peerSync(dbUrl, { secret });
      await startSampler(memfile, [process.pid]);
      seconds = await drive(events.length, clients, (i) => {
        const e = events.get(i);
        return sync.webhook.processWebhook(e.payload, e.sig);
      });
      await sync.close();
    } else {
      // One connection per client, one statement per event (what a PostgREST RPC call or an
      // app's `SELECT stripe.ingest_webhook($1, $2)` does), prepared once per connection.
      const ours = system === 'ours' || system === 'queue';
      const text = ours
        ? 'SELECT stripe.ingest_webhook($1, $2)'
        // The floor: the same two rows (event, object) upserted as jsonb, nothing verified.
        : `WITH e AS (SELECT $1::jsonb AS j, $2::text AS sig),
           obj AS (INSERT INTO floor_objects (id, data) SELECT j -> 'data' -> 'object' ->> 'id', j -> 'data' -> 'object' FROM e
                   ON CONFLICT (id) DO UPDATE SET data = excluded.data)
           INSERT INTO floor_events (id, data) SELECT j ->> 'id', j FROM e
           ON CONFLICT (id) DO UPDATE SET data = excluded.data`;
      // The schema floor: the same two rows into our own tables (typed columns, indexes).
      const schemaText = (kind) => `WITH e AS (SELECT $1::jsonb AS j, $2::text AS sig),
           obj AS (INSERT INTO stripe.${kind}s (id, data, synced_from, stripe_as_of)
                   SELECT j -> 'data' -> 'object' ->> 'id', j -> 'data' -> 'object', j ->> 'id', now() FROM e
                   ON CONFLICT (id) DO UPDATE SET data = excluded.data)
           INSERT INTO stripe.events (id, data, status) SELECT j ->> 'id', j, 'applied' FROM e
           ON CONFLICT (id) DO UPDATE SET data = excluded.data`;
      const conns = await Promise.all(Array.from({ length: clients }, async () => {
        const c = new pg.Client({ connectionString: dbUrl, application_name: `bench-${system}` });
        await c.connect();
        // Load the library in each backend first, as a long-lived connection would have.
        if (ours) await c.query('SELECT stripe.version()');
        if (system === 'queue') await c.query('SET stripe.ingest_mode = queue');
        return c;
      }));
      const pids = await Promise.all(conns.map(async (c) => (await c.query('SELECT pg_backend_pid() AS p')).rows[0].p));
      await startSampler(memfile, pids);
      const t0 = process.hrtime.bigint();
      await drive(events.length, clients, (i, w) => {
        const e = events.get(i);
        if (system === 'schema') {
          return conns[w].query({ name: e.kind, text: schemaText(e.kind), values: [e.payload, e.sig] });
        }
        return conns[w].query({ name: 'ingest', text, values: [e.payload, e.sig] });
      });
      // Queued: an event counts once the background worker has applied it.
      const pending = "SELECT count(*)::int AS n FROM stripe.events WHERE status = 'pending'";
      while (system === 'queue' && (await conns[0].query(pending)).rows[0].n > 0) {
        await new Promise((r) => setTimeout(r, 2));
      }
      seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      await Promise.all(conns.map((c) => c.end()));
    }
    print({ seconds, n: events.length, maxrss_kb: process.resourceUsage().maxRSS });
  },

  async backfill(dbUrl, apiBase, passes, memfile) {
    const sync = await peerSync(dbUrl);
    // The stand-in instead of api.stripe.com: stripe-node's documented host/port/protocol
    // settings, set on the client the sync-engine built (its resource registry holds it).
    const u = new URL(apiBase);
    sync.stripe._setApiField('host', u.hostname);
    sync.stripe._setApiField('port', u.port);
    sync.stripe._setApiField('protocol', u.protocol.replace(':', ''));
    await startSampler(memfile, [process.pid]);
    const out = [];
    for (let p = 0; p < Number(passes); p++) {
      const t0 = process.hrtime.bigint();
      // fullSync(tables, segmentedSync, workerCount, rateLimit, monitorProgress, interval):
      // the library's defaults (segmented, 20 workers) except the rate limit, 10 requests/s by
      // default, a deliberate throttle for Stripe's API, lifted here (it still runs its per-page
      // check query), and interval 0 so a second pass is not skipped as "synced recently".
      const r = await sync.fullSync(TYPES, true, 20, 1e9, false, 0);
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      if (r.errors.length) throw new Error(`fullSync errors: ${JSON.stringify(r.errors)}`);
      out.push({ seconds, objects: r.totalSynced, totals: r.totals });
    }
    await sync.close();
    print({ passes: out, maxrss_kb: process.resourceUsage().maxRSS });
  },
};

const [cmd, ...args] = process.argv.slice(2);
if (!commands[cmd]) {
  console.error('usage: see the head of driver.cjs');
  process.exit(2);
}
commands[cmd](...args).then(
  () => {},
  (e) => { console.error(e); process.exit(1); },
);
