"""The background worker on a running cluster with djstripe_pg preloaded (a dedicated cluster,
see preload_cluster.py): one worker per configured database, woken by a latch when work is
committed, draining events oldest first one transaction each, revalidating, retrying with
backoff, running sync jobs page by page; and all of that under disorder: concurrent shuffled
duplicate deliveries, kill -9, SIGTERM, restarts, and an API that fails."""

import random
import signal
import threading
import time

import psycopg
import pytest

from conftest import WEBHOOK_ROLE, WEBHOOK_SECRET
from fault_proxy import FaultProxy, Rule
from fixture_objects import BASE_CREATED, make_customers, make_event, make_prices, make_products
from preload_cluster import SYNC_WORKER_TYPE, WORKER_TYPE, PreloadCluster, process_gone, running, wait_until
from queue_helpers import (applications, customer_history, ingest, ingest_signed, install_application_log,
                           make_invoice, mirror_state, newest_event_per_object, pending_count, product_history,
                           run_threads, statuses)
from sql_errors import error_text, sql_error
from webhook_signing import signed

DATABASES = 25


@pytest.fixture(scope="module")
def proxy(_fixture_server):
    p = FaultProxy(_fixture_server.url).start()
    yield p
    p.stop()


@pytest.fixture(scope="module")
def cluster(proxy):
    # worker_idle_timeout 60 s: a prompt reaction can only come from the latch. Tests that wait
    # for a retry's time lower it with set_system().
    with running(PreloadCluster(["shared_preload_libraries = 'djstripe_pg'", "stripe.worker_idle_timeout = 60"],
                                databases=DATABASES), api_base=proxy.url) as c:
        yield c


@pytest.fixture
def api(_fixture_server, proxy, cluster):
    """The fixture server (behind the proxy the cluster's stripe.api_base names), emptied; and
    any ALTER SYSTEM a test made undone afterwards."""
    _fixture_server.reset()
    proxy.reset()
    yield _fixture_server, proxy
    proxy.reset()
    _fixture_server.reset()
    cluster.wait_ready()
    cluster.reset_system()


@pytest.fixture
def wdb(cluster, api):
    """A database of its own whose worker runs and is registered."""
    d = cluster.take()
    d.worker_pid()
    return d


def queue_all(conn, events):
    """Queues the events in one transaction: the worker is woken once, at the commit."""
    with conn.transaction():
        conn.execute("SET LOCAL stripe.ingest_mode = queue")
        results = [ingest(conn, e)["result"] for e in events]
    assert set(results) == {"queued"}, results


def wait_drained(conn, timeout=30):
    wait_until(lambda: pending_count(conn) == 0, timeout, 0.1, "the queue to drain")


def refetches_left(conn):
    return conn.execute("SELECT count(*) FROM stripe.refetch_queue").fetchone()[0]


def wait_refetched(conn, timeout=30):
    """The events worker never calls Stripe: it queues retrieves the sync worker makes."""
    wait_until(lambda: refetches_left(conn) == 0, timeout, 0.1, "the refetch queue to drain")


def job_row(conn, job):
    return conn.execute("SELECT state, pages, objects, cursor, attempts, error FROM stripe.sync_jobs WHERE id = %s",
                        (job,)).fetchone()


def wait_job(conn, job, states=("done", "failed"), timeout=30):
    return wait_until(lambda: (r := job_row(conn, job)) and r[0] in states and r, timeout, 0.1,
                      f"job {job} to reach {states}")


# -- the worker's life --------------------------------------------------------------------------

def test_one_worker_per_configured_database(cluster, wdb, api):
    server, _ = api
    server.load(customer=make_customers(3))
    with cluster.connect() as c:
        # Two per database: one applies events, one talks to Stripe (jobs, retrieves).
        per_db = {(r[0], r[1]): r[2] for r in c.execute(
            "SELECT datname, backend_type, count(*) FROM pg_stat_activity WHERE backend_type IN (%s, %s) "
            "GROUP BY 1, 2", (WORKER_TYPE, SYNC_WORKER_TYPE)).fetchall()}
        assert per_db == {(name, t): 1 for name in cluster.names for t in (WORKER_TYPE, SYNC_WORKER_TYPE)}
        c.execute("CREATE DATABASE djw_unlisted TEMPLATE djw_template")
    pid, sync_pid = wdb.worker_pid(), wdb.worker_pid(kind="sync")
    with wdb.connect() as c:
        assert c.execute("SELECT database, kind, pid, started_at <= heartbeat_at FROM stripe.workers ORDER BY kind"
                         ).fetchall() == [(wdb.name, "events", pid, True), (wdb.name, "sync", sync_pid, True)]
        # A queued job wakes the (60-s idle) worker at once, like a queued event.
        started = time.monotonic()
        job = c.execute("SELECT stripe.sync_async('customer')").fetchone()[0]
        assert wait_job(c, job, timeout=2)[:5] == ("done", 1, 3, None, 0)
        assert time.monotonic() - started < 2
    # A database not in stripe.worker_databases gets no worker, and is told so.
    with cluster.connect("djw_unlisted") as c:
        e = sql_error(c, "SELECT stripe.sync_async('customer')")
        assert e.sqlstate == "55000" and "djw_unlisted" in (e.diag.message_hint or ""), error_text(e)


def test_queued_event_is_applied_within_two_seconds(cluster, wdb):
    """worker_idle_timeout is 60 s here: only the latch set at commit can explain a prompt apply."""
    with cluster.connect() as c:
        assert c.execute("SHOW stripe.worker_idle_timeout").fetchone()[0] == "1min"
        c.execute(f"ALTER DATABASE {wdb.name} SET stripe.ingest_mode = queue")
    cus = make_customers(1)[0]
    latencies = []
    with wdb.connect() as admin, wdb.connect(WEBHOOK_ROLE) as endpoint:
        time.sleep(1.0)  # the worker is asleep in its 60-s wait by now
        for n in range(1, 4):
            started = time.monotonic()
            r = ingest(endpoint, make_event("customer.updated", {**cus, "email": f"v{n}@example.com"},
                                            BASE_CREATED + n, f"evt_e2e_latch{n}"))
            assert r["result"] == "queued"
            wait_until(lambda: statuses(admin).get(f"evt_e2e_latch{n}") == "applied", 2.0, 0.02,
                       f"evt_e2e_latch{n} to be applied")
            latencies.append(time.monotonic() - started)
            time.sleep(0.5)
        # Several events queued in one transaction: invisible (so untouched) until the commit.
        with endpoint.transaction():
            for n in range(4, 7):
                ingest(endpoint, make_event("customer.updated", {**cus, "email": f"v{n}@example.com"},
                                            BASE_CREATED + n, f"evt_e2e_latch{n}"))
            time.sleep(1.0)
            assert admin.execute("SELECT count(*) FROM stripe.events WHERE id >= 'evt_e2e_latch4'").fetchone()[0] == 0
        started = time.monotonic()
        wait_until(lambda: pending_count(admin) == 0, 2.0, 0.02, "the transaction's events to be applied")
        latencies.append(time.monotonic() - started)
        assert admin.execute("SELECT email, synced_from FROM stripe.customers").fetchone() == (
            "v6@example.com", "evt_e2e_latch6")
    assert max(latencies) < 2.0, latencies


def test_worker_drains_oldest_first_in_chunks_as_if_one_by_one(cluster, wdb):
    """The worker takes stripe.event_batch_size pending events at a time, oldest first, one
    transaction each, and applies them together: each object gets its newest event once, and each
    event the status it would get applied alone."""
    cluster.set_system(event_batch_size=7)
    events = customer_history(6, 9, prefix="evt_e2e_ord")  # 60 events, one customer's 10 in a row
    deliveries = list(events)
    random.Random(11).shuffle(deliveries)
    with wdb.connect() as c:
        install_application_log(c)
        queue_all(c, deliveries)
        wait_drained(c)
        xmins = dict(c.execute("SELECT id, xmin::text FROM stripe.events").fetchall())
        chunks = [events[i:i + 7] for i in range(0, len(events), 7)]
        assert [{xmins[e["id"]] for e in chunk} for chunk in chunks] == [{xmins[chunk[0]["id"]]} for chunk in chunks]
        assert len(set(xmins.values())) == len(chunks)
        assert set(statuses(c).values()) == {"applied"}
        # Within a chunk only each customer's newest event is written; a chunk's writes follow
        # the previous chunk's.
        written = [r[0] for r in c.execute("SELECT synced_from FROM public.applications ORDER BY n")]
        pos = 0
        for chunk in chunks:
            want = set(newest_event_per_object(chunk).values())
            assert set(written[pos:pos + len(want)]) == want, (pos, written)
            pos += len(want)
        assert pos == len(written)
        assert dict(c.execute("SELECT id, synced_from FROM stripe.customers").fetchall()) == \
            newest_event_per_object(events)


def test_events_arriving_one_by_one_are_gathered_into_chunks(cluster, wdb):
    """After emptying the queue with a partial chunk the worker waits stripe.worker_batch_delay
    for more events, so a steady trickle is applied several events per transaction; the first
    event of a quiet period is still applied at once."""
    cluster.set_system(worker_batch_delay=400)
    events = customer_history(1, 11, prefix="evt_e2e_trickle")  # 12 events
    with wdb.connect() as c:
        c.execute("SET stripe.ingest_mode = queue")
        started = time.monotonic()
        assert ingest(c, events[0])["result"] == "queued"
        wait_until(lambda: pending_count(c) == 0, 2.0, 0.01, "the first event to be applied")
        first = time.monotonic() - started
        for e in events[1:]:
            assert ingest(c, e)["result"] == "queued"
            time.sleep(0.05)
        wait_drained(c)
        chunks = c.execute("SELECT count(DISTINCT xmin::text) FROM stripe.events").fetchone()[0]
        assert set(statuses(c).values()) == {"applied"}
        assert c.execute("SELECT synced_from FROM stripe.customers").fetchone()[0] == events[-1]["id"]
    assert first < 0.4, first
    assert 2 <= chunks <= 6, chunks  # 1 + about 550 ms of deliveries over 400-ms gathers


# -- revalidation and failures ------------------------------------------------------------------

def test_worker_revalidates_configured_types(cluster, wdb, api):
    server, proxy = api
    cus, other = make_customers(2)
    prod = make_products(1)[0]
    open_inv, void_inv = make_invoice(1, "open"), make_invoice(2, "void")
    server.load(customer=[{**cus, "email": "api@example.com"}], product=[{**prod, "name": "API"}])
    server.serve("/v1/invoices", [{**open_inv, "amount_due": 777}, void_inv])
    cluster.set_system(revalidate="customer,invoice")
    T = int(time.time()) - 300
    with wdb.connect() as c:
        queue_all(c, [
            make_event("customer.updated", {**cus, "email": "payload@example.com"}, T, "evt_e2e_wr1"),
            make_event("invoice.finalized", open_inv, T + 1, "evt_e2e_wr2"),
            make_event("invoice.voided", void_inv, T + 2, "evt_e2e_wr3"),
            make_event("customer.deleted", other, T + 3, "evt_e2e_wr4"),
            make_event("product.updated", {**prod, "name": "payload"}, T + 4, "evt_e2e_wr5"),
        ])
        wait_drained(c, 10)
        assert set(statuses(c).values()) == {"applied"}
        wait_refetched(c, 10)
        assert sorted(r.path for r in proxy.requests()) == [f"/v1/customers/{cus['id']}",
                                                           f"/v1/invoices/{open_inv['id']}"]
        assert c.execute("SELECT email, synced_from FROM stripe.customers WHERE id = %s", (cus["id"],)).fetchone() == (
            "api@example.com", "retrieve")
        assert c.execute("SELECT id, amount_due FROM stripe.invoices ORDER BY id").fetchall() == [
            (open_inv["id"], 777), (void_inv["id"], void_inv["amount_due"])]
        assert c.execute("SELECT deleted FROM stripe.customers WHERE id = %s", (other["id"],)).fetchone() == (True,)
        assert c.execute("SELECT name FROM stripe.products").fetchone() == ("payload",)


def test_a_failed_revalidation_is_retried_after_its_backoff(cluster, wdb, api):
    server, proxy = api
    cus = make_customers(1)[0]
    server.load(customer=[{**cus, "email": "api@example.com"}])
    cluster.set_system(revalidate="customer", max_retries=0, worker_idle_timeout=1)
    proxy.down(500, path="/v1/customers/")
    with wdb.connect() as c:
        queue_all(c, [make_event("customer.updated", cus, int(time.time()) - 60, "evt_e2e_retry")])

        def row():
            return c.execute("SELECT attempts, last_error, extract(epoch FROM next_attempt_at - "
                             "clock_timestamp()) FROM stripe.refetch_queue").fetchone()

        wait_drained(c, 5)  # the payload is applied at once; the retrieve waits for the API
        assert statuses(c) == {"evt_e2e_retry": "applied"}
        wait_until(lambda: (row() or (0,))[0] == 1, 10, 0.05, "the first retrieve to fail")
        attempts, error, wait = row()
        assert "500" in error and 7 < wait <= 10.5, row()
        assert "sk_" not in error
        assert c.execute("SELECT email FROM stripe.customers").fetchone() == (cus["email"],)
        time.sleep(3)
        assert len(proxy.requests("/v1/customers/")) == 1  # not retried before its time
        proxy.up()                                          # the API recovers
        wait_refetched(c, 15)
        first, second = proxy.requests("/v1/customers/")
        assert 9.5 <= second.at - first.at <= 13, second.at - first.at
        assert c.execute("SELECT email, synced_from FROM stripe.customers").fetchone() == (
            "api@example.com", "retrieve")


def test_transient_api_failures_are_retried_within_one_attempt(cluster, wdb, api):
    server, proxy = api
    cus = make_customers(1)[0]
    server.load(customer=[{**cus, "email": "api@example.com"}])
    cluster.set_system(revalidate="customer", http_timeout=1)
    proxy.fail(1, 500, path="/v1/customers/")
    proxy.fail(1, 429, headers={"Retry-After": "2"}, path="/v1/customers/")
    proxy.hang(3, path="/v1/customers/", times=1)
    with wdb.connect() as c:
        queue_all(c, [make_event("customer.updated", cus, int(time.time()) - 60, "evt_e2e_transient")])
        wait_drained(c, 10)
        wait_refetched(c, 20)
        assert c.execute("SELECT status, attempts, last_error FROM stripe.events").fetchone() == ("applied", 0, None)
        reqs = proxy.requests("/v1/customers/")
        assert len(reqs) == 4
        assert reqs[2].at - reqs[1].at >= 2.0  # Retry-After honoured
        assert c.execute("SELECT email FROM stripe.customers").fetchone() == ("api@example.com",)


# -- sync jobs ----------------------------------------------------------------------------------

def newest_first_ids(objs):
    return [o["id"] for o in sorted(objs, key=lambda o: (o["created"], o["id"]), reverse=True)]


def starting_afters(proxy, path):
    return [r.query.get("starting_after") for r in proxy.requests(path) if r.path == path]


def dedupe(seq):
    """seq without immediate repeats: [a, b, b, c] -> [a, b, c]"""
    return [x for i, x in enumerate(seq) if i == 0 or seq[i - 1] != x]


def test_sync_job_commits_each_page_and_resumes_after_a_crash_and_a_restart(cluster, wdb, api):
    server, proxy = api
    prices = make_prices(500, make_products(5))
    ids = newest_first_ids(prices)
    server.load(price=prices)
    proxy.slow(0.7, path="/v1/prices")
    with wdb.connect() as c, wdb.connect() as other:
        job = c.execute("SELECT stripe.sync_async('price')").fetchone()[0]
        wait_until(lambda: job_row(c, job)[1] >= 1, 5, 0.05, "page 1")
        assert job_row(c, job)[:4] == ("running", 1, 100, ids[99])
        assert other.execute("SELECT count(*) FROM stripe.prices").fetchone()[0] == 100  # committed
        wait_until(lambda: len(proxy.requests("/v1/prices")) == 2, 2, 0.02, "page 2 to be asked for")
    pid = wdb.live_worker_pid()
    cluster.kill(pid, signal.SIGKILL)  # in the middle of page 2
    wait_until(lambda: process_gone(pid), 5, 0.02, "the worker to die")
    time.sleep(0.5)
    cluster.wait_ready()
    wdb.worker_pid(not_pid=pid)
    with wdb.connect() as c:
        wait_until(lambda: job_row(c, job)[1] >= 3, 10, 0.05, "page 3")
    cluster.restart()  # a clean stop in the middle of page 4
    wdb.worker_pid()
    with wdb.connect() as c:
        assert wait_job(c, job, timeout=20)[:4] == ("done", 5, 500, None)
        asked = starting_afters(proxy, "/v1/prices")
        # Page 1 was fetched once; the page in flight at the kill (and perhaps at the restart)
        # again, from the cursor the page before stored; none skipped.
        assert dedupe(asked) == [None] + ids[99:400:100] and asked.count(None) == 1 and asked.count(ids[99]) == 2, asked
        status = c.execute("SELECT state, pages, objects, objects_per_second > 0, error, finished_at >= started_at "
                           "FROM stripe.sync_job_status WHERE id = %s", (job,)).fetchone()
        assert status == ("done", 5, 500, True, None, True)
        assert c.execute("SELECT count(*) FROM stripe.prices").fetchone()[0] == 500
        assert c.execute("SELECT objects, pages FROM stripe.sync_runs WHERE object_type = 'price'").fetchone() == (500, 5)


def test_cancel_stops_a_running_job_and_resume_continues(wdb, api):
    """Three cancels of a running job, each resumed: every cancel takes effect once the page in
    flight has committed (it must not wait for further pages), and the job ends with every page
    fetched exactly once."""
    server, proxy = api
    prices = make_prices(800, make_products(5))
    ids = newest_first_ids(prices)
    server.load(price=prices)
    proxy.slow(0.4, path="/v1/prices")
    with wdb.connect() as c:
        job = c.execute("SELECT stripe.sync_async('price')").fetchone()[0]
        last = 0
        for trial in range(3):
            wait_until(lambda: job_row(c, job)[1] > last, 5, 0.02, "a page after the last resume")
            before = job_row(c, job)[1]
            started = time.monotonic()
            cancelled = c.execute("SELECT stripe.cancel_sync(%s)", (job,)).fetchone()[0]
            took = time.monotonic() - started
            state, pages, _, cursor, _, _ = job_row(c, job)
            assert cancelled is True and state == "cancelled" and pages <= before + 1, (
                f"cancel #{trial + 1}: cancel_sync() returned {cancelled} after {took:.2f} s; the job had "
                f"{before} pages when cancelled and {pages} after, state {state}")
            assert cursor == ids[100 * pages - 1]
            seen = len(proxy.requests("/v1/prices"))
            time.sleep(0.6)
            assert len(proxy.requests("/v1/prices")) == seen and job_row(c, job)[:2] == ("cancelled", pages)
            assert c.execute("SELECT stripe.resume_sync(%s)", (job,)).fetchone()[0] is True
            last = pages
        assert wait_job(c, job, timeout=15)[:3] == ("done", 8, 800)
        # Resumed where it stopped each time: no page fetched twice, none skipped.
        assert starting_afters(proxy, "/v1/prices") == [None] + ids[99:700:100]
        assert c.execute("SELECT count(*) FROM stripe.prices").fetchone()[0] == 800


def test_sync_job_failing_page_backs_off_then_fails_and_resumes(cluster, wdb, api):
    server, proxy = api
    customers = make_customers(150)
    ids = newest_first_ids(customers)
    server.load(customer=customers)
    # Retries are not started before they are due, and an idle worker notices a due one within
    # worker_idle_timeout: 1 s here, so that the test needs no minute.
    cluster.set_system(max_retries=0, job_max_attempts=3, worker_idle_timeout=1)
    proxy.add(Rule(None, path="/v1/customers", times=1))  # page 1 passes
    proxy.down(500, path="/v1/customers")                 # then the API fails
    with wdb.connect() as c:
        job = c.execute("SELECT stripe.sync_async('customer')").fetchone()[0]
        state, pages, objects, cursor, attempts, error = wait_job(c, job, timeout=15)
        assert (state, pages, objects, cursor, attempts) == ("failed", 1, 100, ids[99], 3)
        assert "500" in error, error
        failing = [r.at for r in proxy.requests("/v1/customers")][1:]
        gaps = [b - a for a, b in zip(failing, failing[1:])]
        assert len(failing) == 3 and gaps[0] >= 0.9 and gaps[1] >= 1.9, gaps  # 1 s, then 2 s
        proxy.up()
        seen = len(proxy.requests("/v1/customers"))
        assert c.execute("SELECT stripe.resume_sync(%s)", (job,)).fetchone()[0] is True
        assert wait_job(c, job, timeout=10)[:5] == ("done", 2, 150, None, 0)
        assert starting_afters(proxy, "/v1/customers")[seen] == ids[99]
        # A list Stripe answers 4xx (here: an unknown URL, which no retry changes) fails at once.
        job2 = c.execute("SELECT stripe.sync_async('coupon')").fetchone()[0]
        state, pages, _, _, attempts, error = wait_job(c, job2, timeout=10)
        assert (state, pages, attempts) == ("failed", 0, 1) and "Unrecognized request URL" in error, error


def test_sync_job_backs_off_through_a_short_outage(cluster, wdb, api):
    """Issue 4: with the API failing, sync jobs back off and complete once it recovers. Here each
    request gets no retry of its own (max_retries = 0), so only the job's attempts can wait out
    a 3-second outage."""
    server, proxy = api
    server.load(customer=make_customers(30))
    cluster.set_system(max_retries=0, worker_idle_timeout=1)
    proxy.down(503, path="/v1/customers")
    with wdb.connect() as c:
        job = c.execute("SELECT stripe.sync_async('customer')").fetchone()[0]
        time.sleep(3)
        proxy.up()
        state, pages, objects, _, attempts, error = wait_job(c, job, timeout=30)
        gaps = [round(b.at - a.at, 3) for a, b in zip(proxy.requests("/v1/customers"),
                                                      proxy.requests("/v1/customers")[1:])]
        assert (state, objects) == ("done", 30), (state, attempts, error, "gaps between requests:", gaps)
        assert all(g >= 0.9 for g in gaps), gaps


def test_sync_job_rides_out_transient_failures(cluster, wdb, api):
    server, proxy = api
    server.load(customer=make_customers(150))
    cluster.set_system(http_timeout=1)
    proxy.add(Rule(None, path="/v1/customers", times=1))
    proxy.fail(1, 500, path="/v1/customers")
    proxy.fail(1, 429, headers={"Retry-After": "1"}, path="/v1/customers")
    proxy.hang(2, path="/v1/customers", times=1)
    with wdb.connect() as c:
        job = c.execute("SELECT stripe.sync_async('customer')").fetchone()[0]
        assert wait_job(c, job, timeout=20)[:5] == ("done", 2, 150, None, 0)
        assert len(proxy.requests("/v1/customers")) == 5
        assert c.execute("SELECT count(*) FROM stripe.customers").fetchone()[0] == 150


def test_sync_all_async_queues_every_listable_type(wdb, api):
    server, _ = api
    products = make_products(2)
    server.load(customer=make_customers(3), product=products, price=make_prices(4, products))
    with wdb.connect() as c:
        jobs = [r[0] for r in c.execute("SELECT stripe.sync_all_async()")]
        assert len(jobs) > 10
        wait_until(lambda: c.execute("SELECT count(*) FROM stripe.sync_jobs WHERE state IN ('queued', 'running')"
                                     ).fetchone()[0] == 0, 60, 0.2, "every job to finish")
        rows = {r[0]: r[1:] for r in c.execute("SELECT object_type, state, objects, attempts, error FROM stripe.sync_jobs")}
        assert len(rows) == len(jobs)
        for t, n in (("customer", 3), ("product", 2), ("price", 4)):
            assert rows[t] == ("done", n, 0, None), (t, rows[t])
        # What the fixture server does not serve (404, an unknown URL) fails at the first attempt.
        for t, (state, objects, attempts, error) in rows.items():
            assert state == "done" or (state == "failed" and attempts == 1 and "404" in error), (t, rows[t])


# -- disorder -----------------------------------------------------------------------------------

def disorder_events():
    return customer_history(8, 12, prefix="evt_e2e_dis", delete_every=4) + product_history(4, 6)


@pytest.fixture(scope="module")
def disorder_reference(cluster):
    """The events of disorder_events() delivered in order, once, in apply mode: the state every
    other delivery order must end in."""
    events = sorted(disorder_events(), key=lambda e: (e["created"], e["id"]))
    with cluster.take().connect() as c:
        for e in events:
            ingest(c, e)
        expected = mirror_state(c)
    assert expected["customers"] and expected["products"]
    return events, expected


def deliver_in_disorder(d, events, modes):
    """Every event twice, shuffled, over len(modes) connections at once (each in its ingest
    mode) while the worker drains. Returns the results of all deliveries."""
    d.worker_pid()
    deliveries = [signed(e, WEBHOOK_SECRET) for e in events] * 2
    random.Random(d.name).shuffle(deliveries)
    results = []

    def deliver(args):
        i, chunk = args
        with d.connect() as conn:
            conn.execute(f"SET stripe.ingest_mode = {modes[i]}")
            for payload, sig in chunk:
                results.append(ingest_signed(conn, payload, sig)["result"])

    n = len(modes)
    failures = run_threads(deliver, [(i, deliveries[i::n]) for i in range(n)])
    assert failures == [], f"{modes}: {failures!r}"
    assert len(results) == len(deliveries)
    return results


def assert_converged(d, events, expected):
    with d.connect() as c:
        wait_drained(c)
        st = statuses(c)
        assert set(st) == {e["id"] for e in events}
        assert set(st.values()) <= {"applied", "stale"}, {k: v for k, v in st.items() if v not in ("applied", "stale")}
        retried = c.execute("SELECT id, attempts, last_error FROM stripe.events WHERE attempts > 0").fetchall()
        assert retried == []
        assert mirror_state(c) == expected


def test_concurrent_shuffled_duplicated_queued_deliveries_converge(cluster, api, disorder_reference):
    events, expected = disorder_reference
    d = cluster.take()
    results = deliver_in_disorder(d, events, ["queue"] * 4)
    assert results.count("queued") == len(events) and results.count("duplicate") == len(events)
    assert_converged(d, events, expected)


def test_concurrent_deliveries_in_both_modes_while_the_worker_drains(cluster, api, disorder_reference):
    """Apply-mode deliveries (the default) racing the worker over the same pending events, e.g.
    while switching modes, or a Stripe retry of an event that is queued: no deadlock."""
    events, expected = disorder_reference
    d = cluster.take()
    results = deliver_in_disorder(d, events, ["apply", "queue", "apply", "queue"])
    assert set(results) <= {"applied", "stale", "queued", "duplicate"}
    assert_converged(d, events, expected)


def start_batch(d, n_customers=30, versions=9, delay=0.01):
    """Queues n_customers × (versions + 1) events; the application-log trigger makes each write
    `delay` seconds slow, so that the queue takes a few seconds to drain (in chunks of
    stripe.event_batch_size, one transaction each)."""
    events = customer_history(n_customers, versions, prefix="evt_e2e_b")
    with d.connect() as c:
        install_application_log(c)
        c.execute("UPDATE public.apply_delay SET seconds = %s", (delay,))
        queue_all(c, events)
    return events


def applied_count(d):
    try:
        with d.connect() as c:
            return c.execute("SELECT count(*) FROM public.applications").fetchone()[0]
    except psycopg.OperationalError:
        return 0


def assert_exactly_once(d, events):
    with d.connect() as c:
        wait_drained(c, 60)
        st = statuses(c)
        assert set(st) == {e["id"] for e in events}                 # none lost
        assert set(st.values()) == {"applied"}, {k: v for k, v in st.items() if v != "applied"}
        # None applied twice: two events of a customer in one chunk write it once, with the newer.
        assert set(applications(c).values()) == {1}
        assert dict(c.execute("SELECT id, synced_from FROM stripe.customers").fetchall()) == \
            newest_event_per_object(events)
        assert c.execute("SELECT count(*) FROM stripe.events WHERE attempts > 0 OR last_error IS NOT NULL"
                         ).fetchone()[0] == 0


def test_worker_killed_mid_batch_loses_nothing_and_applies_nothing_twice(cluster, wdb):
    cluster.set_system(event_batch_size=2)  # many small transactions to be interrupted
    events = start_batch(wdb)
    wait_until(lambda: applied_count(wdb) >= 40, 20, 0.05, "the worker to be under way")
    pid = wdb.live_worker_pid()
    cluster.kill(pid, signal.SIGKILL)  # the postmaster then restarts every backend
    wait_until(lambda: process_gone(pid), 5, 0.02, "the worker to die")
    time.sleep(0.5)
    cluster.wait_ready()
    wdb.worker_pid(not_pid=pid)
    assert_exactly_once(wdb, events)


def test_sigterm_stops_cleanly_and_restarts_lose_nothing(cluster, wdb):
    cluster.set_system(event_batch_size=2)
    events = start_batch(wdb)
    with cluster.connect() as c:
        others = dict(c.execute("SELECT datname, pid FROM pg_stat_activity WHERE backend_type = %s AND datname <> %s",
                                (WORKER_TYPE, wdb.name)).fetchall())
    wait_until(lambda: applied_count(wdb) >= 40, 20, 0.05, "the worker to be under way")
    pid = wdb.live_worker_pid()
    log_at = cluster.log_size()
    with cluster.connect() as c:
        assert c.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone()[0] is True
    wait_until(lambda: process_gone(pid), 5, 0.02, "the worker to stop")
    log = cluster.log_since(log_at)
    assert f"worker for database {wdb.name} stopping" in log
    assert f"(PID {pid}) exited" not in log and "terminated by signal" not in log, log
    with cluster.connect() as c:  # a clean stop: no crash-restart of the other workers
        assert dict(c.execute("SELECT datname, pid FROM pg_stat_activity WHERE backend_type = %s AND datname <> %s",
                              (WORKER_TYPE, wdb.name)).fetchall()) == others
    stopped_at = applied_count(wdb)
    time.sleep(0.5)
    assert applied_count(wdb) == stopped_at < len(events)  # nothing half-done goes on

    # A restart brings the worker back; a restart in the middle of the batch loses nothing.
    cluster.restart()
    wdb.worker_pid()
    wait_until(lambda: applied_count(wdb) >= stopped_at + 40, 20, 0.05, "the worker to resume")
    log_at = cluster.log_size()
    cluster.restart()
    assert f"worker for database {wdb.name} stopping" in cluster.log_since(log_at)
    wdb.worker_pid()
    assert_exactly_once(wdb, events)


# -- events and syncs make progress under each other's load -------------------------------------

def test_a_background_sync_of_many_pages_marks_nothing_deleted(wdb, api):
    """The issue's case: a job over 1,000 customers used to mark its first page (the 100
    newest) deleted, its walk's start being taken after that page was written."""
    server, _ = api
    server.load(customer=make_customers(1000, step=1))
    with wdb.connect() as c:
        first = c.execute("SELECT stripe.sync_async('customer')").fetchone()[0]
        assert wait_job(c, first, timeout=60)[:3] == ("done", 10, 1000)
        again = c.execute("SELECT stripe.sync_async('customer')").fetchone()[0]
        assert wait_job(c, again, timeout=60)[:3] == ("done", 10, 1000)
        assert c.execute("SELECT marked_deleted FROM stripe.sync_jobs WHERE id = %s", (again,)).fetchone() == (0,)
        assert c.execute("SELECT count(*) FROM stripe.customers WHERE deleted").fetchone() == (0,)


def test_a_trickle_of_events_does_not_starve_a_sync_nor_a_hanging_api_the_events(cluster, wdb, api):
    server, proxy = api
    server.load(price=make_prices(600, make_products(3)))
    proxy.slow(0.2, path="/v1/prices")
    stop = threading.Event()
    applied_lag = []

    def trickle():
        with wdb.connect() as q:
            q.execute("SET stripe.ingest_mode = queue")
            n = 0
            while not stop.is_set():
                n += 1
                e = make_event("customer.updated", {**make_customers(1)[0], "email": f"t{n}@x"},
                               BASE_CREATED + 100_000 + n, f"evt_trickle_{n:05d}")
                ingest(q, e)
                time.sleep(0.01)  # ~90 events a second, one at a time

    t = threading.Thread(target=trickle)
    t.start()
    try:
        with wdb.connect() as c:
            job = c.execute("SELECT stripe.sync_async('price')").fetchone()[0]
            started = time.monotonic()
            assert wait_job(c, job, timeout=30)[:3] == ("done", 6, 600)
            took = time.monotonic() - started
            # Six pages of 0.2 s each: the stream of events never held the job back long.
            assert took < 10, took
            # Now the API hangs for every page of a new job; events are still applied at once.
            proxy.up()
            proxy.hang(20, path="/v1/prices")
            c.execute("SELECT stripe.sync_async('price')")
            time.sleep(1)
            for _ in range(5):
                before = pending_count(c)
                time.sleep(0.5)
                applied_lag.append(c.execute("SELECT count(*) FROM stripe.events WHERE status = 'pending' "
                                             "AND received_at < clock_timestamp() - interval '2 seconds'").fetchone()[0])
            assert applied_lag == [0] * 5, (applied_lag, before)
    finally:
        stop.set()
        t.join()
        proxy.up()


def test_database_settings_reach_running_workers(cluster, wdb, api, _fixture_server):
    """ALTER DATABASE … SET (the README's advice for background work) reaches workers that are
    already running: they restart to connect with it."""
    server, proxy = api
    server.load(customer=make_customers(3))
    elsewhere = FaultProxy(_fixture_server.url).start()
    try:
        pid = wdb.worker_pid(kind="sync")
        with cluster.connect() as c:
            c.execute(f"ALTER DATABASE {wdb.name} SET stripe.api_base = '{elsewhere.url}'")
        wdb.worker_pid(kind="sync", not_pid=pid, timeout=30)
        with wdb.connect() as c:
            job = c.execute("SELECT stripe.sync_async('customer')").fetchone()[0]
            assert wait_job(c, job, timeout=20)[:3] == ("done", 1, 3)
        assert elsewhere.requests("/v1/customers"), "the job used the database's setting"
    finally:
        with cluster.connect() as c:
            c.execute(f"ALTER DATABASE {wdb.name} RESET stripe.api_base")
        elsewhere.stop()


def test_cancel_sync_answers_within_seconds_while_a_page_hangs(cluster, wdb, api):
    server, proxy = api
    server.load(customer=make_customers(3))
    proxy.hang(9, path="/v1/customers", times=1)
    with wdb.connect() as c:
        job = c.execute("SELECT stripe.sync_async('customer')").fetchone()[0]
        time.sleep(1)  # the sync worker is waiting on the page
        started = time.monotonic()
        assert c.execute("SELECT stripe.cancel_sync(%s)", (job,)).fetchone()[0] is True
        assert time.monotonic() - started < 6.5
        row = c.execute("SELECT state, finished_at IS NOT NULL FROM stripe.sync_jobs WHERE id = %s", (job,))
        assert row.fetchone() == ("cancelled", True)
        # The page answers after the cancel: nothing of it is written, and the job is as it was.
        wait_until(lambda: len(proxy.requests("/v1/customers")) == 1 and time.monotonic() - started > 9, 15, 0.1,
                   "the hanging page to answer")
        time.sleep(1)
        assert c.execute("SELECT count(*) FROM stripe.customers").fetchone() == (0,)
        assert job_row(c, job)[:3] == ("cancelled", 0, 0)
        assert c.execute("SELECT stripe.resume_sync(%s)", (job,)).fetchone()[0] is True
        assert wait_job(c, job, timeout=15)[:3] == ("done", 1, 3)
        assert c.execute("SELECT finished_at IS NOT NULL FROM stripe.sync_jobs WHERE id = %s", (job,)).fetchone() == (
            True,)


def test_the_events_worker_never_waits_on_stripe(cluster, wdb, api):
    """Revalidation and truncated nested lists need Stripe; the events worker queues them for
    the sync worker, so a hanging API does not hold back the events that need nothing."""
    server, proxy = api
    cus, prod = make_customers(1)[0], make_products(1)[0]
    server.load(customer=[{**cus, "email": "api@example.com"}], product=[prod])
    cluster.set_system(revalidate="customer")
    proxy.hang(40, path="/v1/customers")
    T = int(time.time()) - 300
    with wdb.connect() as c:
        queue_all(c, [make_event("customer.updated", {**cus, "email": "payload@example.com"}, T, "evt_e2e_off1"),
                      make_event("product.updated", {**prod, "name": "now"}, T + 1, "evt_e2e_off2")])
        wait_drained(c, 3)
        assert set(statuses(c).values()) == {"applied"}
        assert c.execute("SELECT name FROM stripe.products").fetchone()[0] == "now"
        assert c.execute("SELECT reason FROM stripe.refetch_queue WHERE object_id = %s", (cus["id"],)).fetchone() == (
            "revalidate",)
        proxy.up()
        wait_until(lambda: c.execute("SELECT email FROM stripe.customers").fetchone()[0] == "api@example.com",
                   40, 0.2, "the sync worker to retrieve the customer")


def test_with_the_library_preloaded_no_statement_holding_a_secret_is_logged(cluster, wdb):
    """A role the owner never gave anything is refused by Postgres itself (no USAGE on stripe)
    before any function of ours runs; the preloaded library's log hook keeps the statement out."""
    secret = "PreloadedHook" + "7" * 20
    with cluster.connect() as c:
        c.execute("DROP ROLE IF EXISTS e2e_stranger")
        c.execute("CREATE ROLE e2e_stranger LOGIN")
    at = cluster.log_size()
    with cluster.connect(wdb.name, "e2e_stranger") as s:
        for sql in (f"SELECT stripe.set_api_key('sk_live_{secret}')",
                    f"SELECT stripe.add_webhook_secret('whsec_{secret}')",
                    f"SELECT stripe.set_api_key('sk_live_{secret}', 1)"):
            assert sql_error(s, sql).sqlstate in ("42501", "42883")
    time.sleep(0.5)
    log = cluster.log_since(at)
    assert "permission denied for schema stripe" in log
    assert secret not in log, log
