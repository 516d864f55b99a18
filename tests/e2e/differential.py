"""The randomized differential test of the mirror against the simulated Stripe (sim_stripe.py).

A history is a random schedule, from one seed, of what happens to a real installation: Stripe's
objects change (creates, updates, deletes, payments, cancellations; several a second), webhooks
are delivered shuffled, twice, late or never, applied at once or queued for the worker; full and
`since` syncs run in the foreground and as background jobs, `sync_events` catches up, the worker
is killed (`kill -9`, so the whole cluster restarts) and the API misbehaves (5xx, 429, hangs,
dropped connections, contradictory and incomplete pages). Then everything quiesces and the mirror
is compared with the simulator's truth twice: once after the catch-up alone (events must suffice),
once after a final full sync. Every object present with its latest data, nothing deleted that
exists, everything deleted that was; no unexpected error on the way.

    run = History(seed, cluster, database, sim_port, steps=40)
    report = run.play()          # the divergences, [] when the mirror is right
    print(report.explain())      # seed, the divergent objects and what happened to them

A failing history prints its seed (replay it with DIFFERENTIAL_SEED=<seed>) and, for each
divergent object, the slice of the history that touched it: its changes in the simulator, its
events and what became of each delivery, the syncs and faults around them, and the mirror's row.
"""

import json
import os
import random
import signal
import time
from dataclasses import dataclass, field

import psycopg

from conftest import API_KEY, WEBHOOK_ROLE, WEBHOOK_SECRET
from preload_cluster import wait_until
from sim_stripe import PLATFORM, SimStripe, sign

CONNECTED = "acct_sim_connect"
TABLES = {"customer": "customers", "product": "products", "price": "prices", "subscription": "subscriptions",
          "subscription_item": "subscription_items", "invoice": "invoices", "line_item": "invoice_lines"}
PARENTS = {"subscription_item": ("subscription", "subscription"), "line_item": ("invoice", "invoice")}
SYNCED = ("customer", "product", "price", "subscription", "invoice", "subscription_item", "line_item")
# What a step may fail with without that being a bug: Stripe failed (38000), was unreachable
# (08006), the statement was cancelled (57014), the cluster restarted under it.
EXPECTED_ERRORS = ("38000", "08006", "57014", "57P01", "57P02", "57P03")
# Everything a history writes (what exists of it: an older version has fewer tables).
RESET = """DO $$ BEGIN
    EXECUTE (SELECT 'TRUNCATE ' || string_agg(c.oid::regclass::text, ', ') FROM pg_class c
              WHERE c.relnamespace = 'stripe'::regnamespace AND c.relkind = 'r'
                AND c.relname NOT IN ('_api_key', '_webhook_secrets', 'workers'));  -- 0.1.0 kept secrets here
END $$"""


@dataclass
class Divergence:
    check: str          # "after the catch-up" or "after the final sync"
    account: str | None
    name: str
    id: str
    what: str
    expected: object = None
    actual: object = None
    parent: str | None = None  # a child's parent id


@dataclass
class Report:
    seed: int
    steps: int
    operations: int
    log: list
    divergences: list = field(default_factory=list)
    unexpected: list = field(default_factory=list)
    mirror: dict = field(default_factory=dict)

    @property
    def ok(self):
        return not self.divergences and not self.unexpected

    def counts(self):
        """How many of each kind of thing happened: operations, deliveries by result, syncs,
        jobs, catch-ups, faults, kills, and the errors Stripe's misbehaviour explains."""
        kinds = {}
        for _, line in self.log:
            word = line.split(" ", 1)[0].rstrip(":")
            if word == "deliver":
                word = "delivery " + (line.rsplit(": ", 1)[-1] if ": " in line else "?")
            elif word in ("sync", "final") and ": " in line and line.split(": ", 1)[1][:1].isdigit():
                word = "sync ok" if word == "sync" else "final sync"
            elif word == "sync" and ": " in line:
                word = "sync failed"
            kinds[word] = kinds.get(word, 0) + 1
        return kinds

    def explain(self, limit=5):
        lines = [f"differential history seed={self.seed}: {self.steps} steps, {self.operations} operations; "
                 f"replay with DIFFERENTIAL_SEED={self.seed}"]
        for u in self.unexpected[:limit]:
            lines.append(f"  unexpected error: {u}")
        for d in self.divergences[:limit]:
            where = f" @{d.account}" if d.account else ""
            lines.append(f"  [{d.check}] {d.name} {d.id}{where}: {d.what}")
            if d.expected is not None or d.actual is not None:
                lines.append(f"    expected: {short(d.expected)}")
                lines.append(f"    mirror:   {short(d.actual)}")
            row = self.mirror.get(d.id)
            lines.append(f"    row: {row}")
            # A child's own id rarely appears: its parent's history is what happened to it.
            ids = {d.id} | ({d.parent} if d.parent else set())
            lines.append("    history of this object" + (f" and its parent {d.parent}:" if d.parent else ":"))
            lines += [f"      {t:14.3f} {e}" for t, e in self.log if any(i in e for i in ids)][-60:]
            lines.append("    syncs, faults and kills:")
            lines += [f"      {t:14.3f} {e}" for t, e in self.log
                      if e.startswith(("sync", "final sync", "fault", "kill", "quiesce", "check"))][-30:]
        if len(self.divergences) > limit:
            lines.append(f"  … and {len(self.divergences) - limit} more divergences")
        return "\n".join(lines)


def short(value, n=400):
    text = json.dumps(value, sort_keys=True) if not isinstance(value, str) else value
    return text if len(text) <= n else text[:n] + "…"


def changed_keys(a, b):
    if not isinstance(a, dict) or not isinstance(b, dict):
        return "(not objects)"
    keys = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
    return ", ".join(keys)


class History:
    def __init__(self, seed, cluster, database, port, steps=40, connected=True):
        self.seed = seed
        self.rng = random.Random(f"schedule/{seed}")
        self.cluster = cluster
        self.db = database
        self.port = port
        self.n_steps = steps
        self.connected = connected
        self.sim = None
        self.log = []
        self.unexpected = []
        self.pending = []           # the platform's events not yet delivered (may still be)
        self.connected_pending = [] # a connected account's, delivered in order (see mutate)
        self.dropped = set()        # event ids Stripe never delivers (the catch-up must find them)
        self.operations = 0
        self.started = time.monotonic()
        self._conns = {}

    # -- plumbing -------------------------------------------------------------------------------

    def note(self, text):
        self.log.append((time.monotonic() - self.started, text))

    def conn(self, which="owner"):
        """An autocommit connection, made again after the cluster restarted."""
        c = self._conns.get(which)
        if c is not None and not c.closed:
            return c
        user = WEBHOOK_ROLE if which == "hook" else "postgres"
        c = psycopg.connect(self.db.dsn(user), autocommit=True)
        if which == "queue":
            c.execute("SET stripe.ingest_mode = queue")
        if which != "hook":
            c.execute("SET statement_timeout = '60s'")
        self._conns[which] = c
        return c

    def sql(self, text, params=None, which="owner", what=None):
        """Runs a statement; an error Stripe's behaviour explains is noted, any other is a bug."""
        try:
            cur = self.conn(which).execute(text, params)
            return cur.fetchall() if cur.description else []
        except psycopg.Error as e:
            c = self._conns.get(which)
            if c is None or c.broken or c.closed:
                self.note(f"{what or text}: connection lost ({e.sqlstate or 'no sqlstate'})")
                self._conns.pop(which, None)
                self.cluster.wait_ready()
                return None
            line = f"{what or text}: {e.sqlstate} {str(e).splitlines()[0][:300]}"
            self.note(line)
            if e.sqlstate not in EXPECTED_ERRORS:
                self.unexpected.append(line)
            return None

    def close(self):
        for c in self._conns.values():
            c.close()
        self._conns.clear()

    # -- the schedule ---------------------------------------------------------------------------

    def play(self):
        self.sim = SimStripe(seed=self.seed, api_key=API_KEY, connected_accounts=(CONNECTED,),
                             port=self.port).start()
        # Small pages, so that a few dozen objects make walks of many pages (cursors, resumed
        # jobs, contradictions between pages).
        self.sim.page_size = self.rng.choice([2, 3, 5, 8, 100])
        try:
            self.sql(RESET)
            self.sql("SELECT stripe.set_api_key(%s)", (API_KEY,))
            self.has_queue = self.sql("SELECT to_regclass('stripe.refetch_queue') IS NOT NULL")[0][0]
            self.note(f"history {self.seed} begins")
            for _ in range(self.n_steps):
                self.step()
            divergences = self.quiesce()
            return Report(self.seed, self.n_steps, self.operations, self.log, divergences, self.unexpected,
                          self.mirror_rows())
        finally:
            self.close()
            self.sim.stop()

    def step(self):
        kinds = [("mutate", 30), ("deliver", 25), ("sync", 8), ("sync_async", 5), ("sync_events", 5),
                 ("process", 3), ("fault", 8), ("pause", 6), ("kill_worker", 2)]
        kind = self.rng.choices([k for k, _ in kinds], [w for _, w in kinds])[0]
        getattr(self, kind)()

    def mutate(self):
        for _ in range(self.rng.randint(1, 8)):
            account = CONNECTED if self.connected and self.rng.random() < 0.15 else None
            self.note(f"stripe: {self.sim.random_operation(account)}")
            self.operations += 1
        for e in self.sim.take_events():
            self.note(f"event {e['id']} {e['type']} {e['data']['object']['id']} created={e['created']}"
                      + (f" @{e['account']}" if e.get("account") else ""))
            # A connected account's events only webhooks bring (catching up another account, or
            # retrieving its objects when two versions tie, needs its key): they all arrive, in
            # order, late or twice. The platform's are shuffled, and Stripe gives up on some.
            if e.get("account"):
                self.connected_pending.append(e)
            elif self.rng.random() < 0.12:
                self.dropped.add(e["id"])
                self.note(f"event {e['id']} {e['data']['object']['id']}: never delivered")
            else:
                self.pending.append(e)

    def deliver(self, everything=False):
        if self.pending:
            self.rng.shuffle(self.pending)
            n = len(self.pending) if everything else self.rng.randint(1, len(self.pending))
            batch, self.pending = self.pending[:n], self.pending[n:]
            for e in batch:
                self.deliver_one(e, self.pending)
        if self.connected_pending:
            n = len(self.connected_pending) if everything else self.rng.randint(0, len(self.connected_pending))
            batch, self.connected_pending = self.connected_pending[:n], self.connected_pending[n:]
            for i, e in enumerate(batch):
                if not self.deliver_one(e, None):
                    self.connected_pending[:0] = batch[i:]  # the rest waits behind it
                    break

    def deliver_one(self, event, retry_into):
        """Delivers one event (applied at once or queued; sometimes twice). Returns whether it
        was answered 2xx; if not, it is put back (`retry_into`) for Stripe's next attempt.
        A connected account's events are applied at once: queued, two of one second could be
        applied in another order than they arrived, and only a retrieve (which needs that
        account's key) could tell which is newer."""
        queued = retry_into is not None and self.rng.random() < 0.3
        which = "queue" if queued else "hook"
        for _ in range(2 if self.rng.random() < 0.15 else 1):
            if not self.deliver_once(event, which):
                if retry_into is not None:
                    retry_into.append(event)
                return False
        return True

    def deliver_once(self, event, which):
        payload = self.sim.payload(event)
        rows = self.sql("SELECT stripe.ingest_webhook(%s, %s)", (payload, sign(payload, WEBHOOK_SECRET)),
                        which=which, what=f"deliver {event['id']} {event['data']['object']['id']}")
        if rows is None:
            return False
        self.note(f"deliver {event['id']} {event['type']} {event['data']['object']['id']} ({which}): "
                  f"{rows[0][0]['result']}")
        return True

    def sync(self):
        name = self.rng.choice(SYNCED)
        since = None
        if self.rng.random() < 0.3 and name not in ("subscription_item", "line_item"):
            since = time.time() - self.rng.uniform(0, 30)
        what = f"sync {name}" + (f" since {since:.0f}" if since else "")
        rows = self.sql("SELECT stripe.sync(%s, since => to_timestamp(%s))", (name, since), what=what)
        if rows is not None:
            run = self.sql("SELECT marked_deleted, sweep FROM stripe.sync_runs WHERE object_type = %s", (name,))
            self.note(f"{what}: {rows[0][0]} objects; {run[0] if run else ''}")

    def sync_async(self):
        name = self.rng.choice(SYNCED)
        rows = self.sql("SELECT stripe.sync_async(%s)", (name,), what=f"sync_async {name}")
        if rows:
            self.note(f"sync_async {name}: job {rows[0][0]}")

    def sync_events(self):
        rows = self.sql("SELECT stripe.sync_events()", what="sync_events")
        if rows:
            self.note(f"sync_events: {rows[0][0]} new events")

    def process(self):
        rows = self.sql("SELECT stripe.process_pending()", what="process_pending")
        if rows:
            self.note(f"process_pending: {rows[0][0]}")

    def fault(self):
        kind = self.rng.choice(["error", "error", "rate_limit", "hang", "disconnect", "has_more_empty",
                                "stuck_cursor", "missing_id", "cycle", "omit_item", "omit_item"])
        path = self.rng.choice(["/v1/", "/v1/customers", "/v1/subscriptions", "/v1/invoices", "/v1/events",
                                "/v1/subscription_items"])
        times = self.rng.randint(1, 3)
        # A list that silently leaves an object out is healed by a later sync of that list; a
        # connected account's lists are not synced yet (that needs syncs per account), so its
        # requests only get the faults a retry heals.
        account = PLATFORM if kind == "omit_item" else None
        self.sim.fault(kind, path=path, times=times, retry_after=1, delay=3.0, status=self.rng.choice([500, 503]),
                       after=self.rng.randint(0, 3), account=account)
        self.note(f"fault {kind} on {path} x{times}")

    def pause(self):
        seconds = self.rng.choice([0.2, 0.5, 1.1])
        time.sleep(seconds)
        self.note(f"pause {seconds}s")

    def kill_worker(self):
        kind = self.rng.choice(["djstripe_pg worker", "djstripe_pg sync worker"])
        with self.cluster.connect() as c:
            row = c.execute("SELECT pid FROM pg_stat_activity WHERE backend_type = %s AND datname = %s",
                            (kind, self.db.name)).fetchone()
        if row:
            self.note(f"kill -9 {kind} (pid {row[0]}): the cluster restarts")
            os.kill(row[0], signal.SIGKILL)
            self._conns.clear()
            time.sleep(0.5)
            self.cluster.wait_ready()

    # -- quiescing and the checks ---------------------------------------------------------------

    def quiesce(self):
        fired = {}
        for f in self.sim.fired:
            fired[f[1]] = fired.get(f[1], 0) + 1
        self.note(f"faults fired: {fired or 'none'}; page size {self.sim.page_size}")
        self.sim.clear_faults()
        self.note("quiesce: faults cleared, every delivery Stripe still makes is made")
        while self.pending or self.connected_pending:
            self.deliver(everything=True)
        # Stripe behaves again: what was backing off is due now.
        self.sql("SELECT count(*) FROM stripe.reprocess_failed()", what="reprocess_failed")
        if self.has_queue:
            self.sql("UPDATE stripe.refetch_queue SET next_attempt_at = NULL")
        self.sql("UPDATE stripe.sync_jobs SET next_attempt_at = NULL WHERE state IN ('queued', 'running')")
        self.wait_for_workers()
        for _ in range(2):
            self.sync_events()
        self.process()
        self.wait_for_workers()
        divergences = self.compare("after the catch-up")
        # The final sync starts in a later second than any change, then its checks and retrieves.
        time.sleep(1.1)
        for name in SYNCED:
            rows = self.sql("SELECT stripe.sync(%s)", (name,), what=f"final sync {name}")
            if rows is not None:
                self.note(f"final sync {name}: {rows[0][0]} objects")
        self.process()
        self.wait_for_workers()
        divergences += self.compare("after the final sync")
        return divergences

    def wait_for_workers(self, timeout=120):
        def quiet():
            queue = ("+ (SELECT count(*) FROM stripe.refetch_queue WHERE coalesce(next_attempt_at, now()) "
                     "  <= now() + interval '10 seconds')") if self.has_queue else ""
            rows = self.sql("SELECT (SELECT count(*) FROM stripe.events WHERE status = 'pending') + "
                            "(SELECT count(*) FROM stripe.sync_jobs WHERE state IN ('queued', 'running') "
                            "  AND coalesce(next_attempt_at, now()) <= now() + interval '10 seconds') "
                            + queue, what="waiting for the workers")
            return rows is not None and rows[0][0] == 0
        wait_until(quiet, timeout, 0.2, "the workers to finish")
        # What is left for later (a failed job, a retrieve backing off) is given up on, as an
        # operator would cancel it: the checks judge the mirror, not the queue.
        self.sql("UPDATE stripe.sync_jobs SET state = 'cancelled' WHERE state IN ('queued', 'running')")

    def mirror_rows(self):
        rows = {}
        for name, table in TABLES.items():
            parent = PARENTS.get(name, (None, None))[1]
            pcol = parent or "NULL"
            for r in self.sql(f"SELECT id, data, deleted, account_id, synced_from, "
                              f"extract(epoch FROM stripe_as_of)::float8, {pcol} FROM stripe.{table}") or []:
                rows[r[0]] = {"name": name, "data": r[1], "deleted": r[2], "account": r[3], "from": r[4],
                              "as_of": r[5], "parent": r[6]}
        return rows

    def compare(self, check):
        mirror = self.mirror_rows()
        out = []
        accounts = [None, CONNECTED] if self.connected else [None]
        seen = set()
        hidden = {f[4] for f in self.sim.fired if f[1] == "omit_item"}
        for account in accounts:
            truth = self.sim.truth(account)
            for name, objects in truth.items():
                for id_, obj in objects.items():
                    seen.add(id_)
                    row = mirror.get(id_)
                    parent = PARENTS.get(name)
                    of = obj.get(parent[1]) if parent else None
                    if parent and truth[parent[0]].get(of, {}).get("deleted"):
                        # Children of a deleted parent are gone with it: no row, or a deleted one.
                        if row is not None and not row["deleted"]:
                            out.append(Divergence(check, account, name, id_, "its parent is deleted, it is not",
                                                  parent=of))
                        continue
                    if obj.get("deleted"):
                        if row is not None and not row["deleted"]:
                            out.append(Divergence(check, account, name, id_, "deleted in Stripe, not in the mirror",
                                                  parent=of))
                        continue
                    if row is None:
                        if check == "after the catch-up" and id_ in hidden:
                            # A list left it out and nothing since named it: Stripe gives no
                            # count to notice that by, and the final sync's lists have it.
                            self.note(f"{id_}: missing, as a list left it out; the final sync must have it")
                            continue
                        out.append(Divergence(check, account, name, id_, "missing from the mirror", parent=of))
                    elif row["deleted"]:
                        out.append(Divergence(check, account, name, id_, "marked deleted, but Stripe has it", parent=of))
                    elif row["data"] != obj:
                        out.append(Divergence(check, account, name, id_,
                                              f"stale: differs in {changed_keys(obj, row['data'])}", obj, row["data"],
                                              parent=of))
                    elif row["account"] != account:
                        out.append(Divergence(check, account, name, id_, f"account is {row['account']}", parent=of))
                    elif parent and row["parent"] != of:
                        out.append(Divergence(check, account, name, id_, f"parent is {row['parent']}", parent=of))
        for id_, row in mirror.items():
            if id_ not in seen:
                out.append(Divergence(check, row["account"], row["name"], id_, "in the mirror, never in Stripe"))
        self.note(f"check {check}: {len(out)} divergences")
        return out
