"""The event queue without a background worker (run.sh's cluster has no shared_preload_libraries):
ingest_webhook's queue mode, event statuses with retries and backoff, reprocessing,
revalidation, the Events-API catch-up, and what the worker-only functions say without one."""

import random
import threading
import time

import psycopg
import pytest

from conftest import READER_ROLE, WEBHOOK_ROLE, WEBHOOK_SECRET
from fault_proxy import FaultProxy, Rule
from fixture_objects import BASE_CREATED, make_customers, make_event, make_prices, make_products, shape
from fixture_server import Reply
from queue_helpers import (customer_history, ingest, make_invoice, mirror_state, newest_event_per_object,
                           statuses)
from sql_errors import error_text, sql_error
from webhook_signing import signed


@pytest.fixture(scope="module")
def _proxy(_fixture_server):
    p = FaultProxy(_fixture_server.url).start()
    yield p
    p.stop()


@pytest.fixture
def api(fake_api, _proxy, conn):
    """The fixture server behind the fault proxy, the session's stripe.api_base on the proxy."""
    _proxy.reset()
    conn.execute("SELECT set_config('stripe.api_base', %s, false)", (_proxy.url,))
    yield fake_api, _proxy
    _proxy.reset()


@pytest.fixture
def hooks(conn):
    conn.execute("SELECT stripe.add_webhook_secret(%s)", (WEBHOOK_SECRET,))
    return conn


def event_row(conn, event_id):
    return conn.execute(
        "SELECT status, attempts, last_error, processed_at IS NOT NULL, "
        "extract(epoch FROM next_attempt_at - clock_timestamp()) FROM stripe.events WHERE id = %s",
        (event_id,)).fetchone()


def customer(conn, cus_id):
    return conn.execute("SELECT email, deleted, synced_from FROM stripe.customers WHERE id = %s",
                        (cus_id,)).fetchone()


# -- queue mode ---------------------------------------------------------------------------------

def test_queue_mode_only_verifies_and_records(hooks):
    cus = make_customers(1)[0]
    first = make_event("customer.created", {**cus, "email": "v1@example.com"}, BASE_CREATED + 1, "evt_e2e_q1")
    assert ingest(hooks, first)["result"] == "applied"  # the default: applied in the same transaction

    hooks.execute("SET stripe.ingest_mode = queue")
    second = make_event("customer.updated", {**cus, "email": "v2@example.com"}, BASE_CREATED + 2, "evt_e2e_q2")
    assert ingest(hooks, second) == {"result": "queued", "event_id": "evt_e2e_q2", "event_type": "customer.updated",
                                     "object_type": "customer", "object_id": cus["id"]}
    assert ingest(hooks, second)["result"] == "duplicate"
    balance = make_event("balance.available", shape("balance"), BASE_CREATED + 3, "evt_e2e_q3")
    assert ingest(hooks, balance)["result"] == "queued"

    # Recorded, not applied: pending, no attempt, nothing processed, the mirror unchanged.
    assert event_row(hooks, "evt_e2e_q2") == ("pending", 0, None, False, None)
    assert hooks.execute("SELECT received_at <= clock_timestamp(), data = %s::jsonb FROM stripe.events "
                         "WHERE id = 'evt_e2e_q2'", (psycopg.types.json.Jsonb(second),)).fetchone() == (True, True)
    assert customer(hooks, cus["id"]) == ("v1@example.com", False, "evt_e2e_q1")

    # Verification is not skipped: a bad signature is still rejected, and nothing is recorded.
    payload, _ = signed(make_event("customer.updated", cus, BASE_CREATED + 4, "evt_e2e_q4"), WEBHOOK_SECRET)
    e = sql_error(hooks, "SELECT stripe.ingest_webhook(%s, %s)", (payload, "t=1,v1=00"))
    assert e.sqlstate == "28000", error_text(e)
    assert hooks.execute("SELECT count(*) FROM stripe.events WHERE id = 'evt_e2e_q4'").fetchone()[0] == 0

    # The foreground drain does what the worker does.
    assert hooks.execute("SELECT stripe.process_pending()").fetchone()[0] == 2
    assert statuses(hooks) == {"evt_e2e_q1": "applied", "evt_e2e_q2": "applied", "evt_e2e_q3": "ignored"}
    assert event_row(hooks, "evt_e2e_q2") == ("applied", 0, None, True, None)
    assert customer(hooks, cus["id"]) == ("v2@example.com", False, "evt_e2e_q2")
    assert hooks.execute("SELECT stripe.process_pending()").fetchone()[0] == 0
    # A late duplicate of a processed event stays a duplicate in either mode.
    assert ingest(hooks, second)["result"] == "duplicate"
    hooks.execute("RESET stripe.ingest_mode")
    assert ingest(hooks, second)["result"] == "duplicate"


def test_ingest_mode_is_superuser_only_and_set_per_database(db, hooks):
    cus = make_customers(1)[0]
    with db.connect(READER_ROLE) as reader:
        # Before the library is loaded the name is only a placeholder; loading it must not
        # let the ordinary role's value through.
        try:
            reader.execute("SET stripe.ingest_mode = queue")
        except psycopg.errors.InsufficientPrivilege:
            pass
        r = ingest(reader, make_event("customer.created", cus, BASE_CREATED, "evt_e2e_reader"))
        assert r["result"] == "applied"
        e = sql_error(reader, "SET stripe.ingest_mode = queue")
        assert e.sqlstate == "42501", error_text(e)
    hooks.execute("SELECT stripe.version()")  # loads the library: stripe.* names are then checked
    e = sql_error(hooks, "SET stripe.ingest_mode = later")
    assert e.sqlstate == "22023", error_text(e)

    # How an installation turns it on for the endpoint's role: a database (or role) setting.
    hooks.execute(f"ALTER DATABASE {db.name} SET stripe.ingest_mode = queue")
    with db.connect(WEBHOOK_ROLE) as endpoint:
        r = ingest(endpoint, make_event("customer.updated", cus, BASE_CREATED + 1, "evt_e2e_dbq"))
    assert r["result"] == "queued"
    assert statuses(hooks) == {"evt_e2e_reader": "applied", "evt_e2e_dbq": "pending"}
    assert customer(hooks, cus["id"])[2] == "evt_e2e_reader"


def test_process_pending_oldest_first_and_bounded(hooks):
    events = customer_history(4, 5)  # 24 events, distinct seconds
    deliveries = list(events)
    random.Random(3).shuffle(deliveries)
    hooks.execute("SET stripe.ingest_mode = queue")
    assert {ingest(hooks, e)["result"] for e in deliveries} == {"queued"}

    assert hooks.execute("SELECT stripe.process_pending(5)").fetchone()[0] == 5
    done = {r[0] for r in hooks.execute("SELECT id FROM stripe.events WHERE status <> 'pending'")}
    assert done == {e["id"] for e in events[:5]}
    first_done = hooks.execute("SELECT max(processed_at) FROM stripe.events WHERE status <> 'pending'").fetchone()[0]
    assert hooks.execute("SELECT stripe.process_pending()").fetchone()[0] == 19
    # The rest went in one batch after the first five: together, but as if one by one, oldest
    # first, so no event was stale and each customer shows its newest event.
    assert set(statuses(hooks).values()) == {"applied"}
    newest = newest_event_per_object(events)
    assert dict(hooks.execute("SELECT id, synced_from FROM stripe.customers").fetchall()) == newest
    assert hooks.execute("SELECT count(*) FROM stripe.events WHERE processed_at <= %s",
                         (first_done,)).fetchone()[0] == 5


def test_process_pending_as_the_first_call_of_a_session(db, hooks):
    """What a pg_cron job or a psql session does first thing: nothing has loaded the library yet
    (no preload here), so the stripe.* settings are not defined in that session."""
    hooks.execute("SET stripe.ingest_mode = queue")
    events = customer_history(1, 2, prefix="evt_e2e_fresh")
    for e in events:
        ingest(hooks, e)
    errors = {}
    for sql, expected in (("SELECT stripe.process_pending()", 3),
                          ("SELECT count(*) FROM stripe.reprocess_events(ARRAY['evt_e2e_fresh_001_002'])", 1),
                          ("SELECT count(*) FROM stripe.reprocess_failed()", 0)):
        with db.connect() as fresh:
            try:
                assert fresh.execute(sql).fetchone()[0] == expected, sql
            except psycopg.Error as e:
                errors[sql] = f"{e.sqlstate}: {e.diag.message_primary}"
    assert errors == {}
    assert set(statuses(hooks).values()) == {"applied"}


def test_apply_mode_delivery_of_the_event_the_worker_holds(db, hooks):
    """The worker's step (stripe._work_once) locks the oldest due event (stripe._next_event, FOR
    UPDATE SKIP LOCKED), then applies it (stripe._process_event). An apply-mode delivery of that
    same event in between (Stripe retrying it while it is queued, or an endpoint not yet switched
    to queue mode, or sync_events having recorded it) must wait or say duplicate: no deadlock."""
    cus = make_customers(1)[0]
    event = make_event("customer.updated", cus, BASE_CREATED + 5, "evt_e2e_held")
    hooks.execute("SET stripe.ingest_mode = queue")
    assert ingest(hooks, event)["result"] == "queued"
    outcome = {}
    with db.connect() as worker, db.connect() as endpoint:
        worker.execute("SELECT stripe.version()")  # as in the worker, the library is loaded
        endpoint.execute("SELECT stripe.version()")

        def deliver():
            try:
                outcome["delivery"] = ingest(endpoint, event)["result"]
            except psycopg.Error as e:
                outcome["delivery"] = f"{e.sqlstate}: {e.diag.message_primary}"

        with worker.transaction():
            assert worker.execute("SELECT stripe._next_event()").fetchone()[0] == "evt_e2e_held"
            t = threading.Thread(target=deliver)
            t.start()
            time.sleep(0.5)  # the delivery is now waiting for the worker's lock
            outcome["worker"] = worker.execute("SELECT stripe._process_event('evt_e2e_held')").fetchone()[0]
        t.join()
    row = hooks.execute("SELECT status, attempts, last_error FROM stripe.events").fetchone()
    assert outcome in ({"worker": "applied", "delivery": "duplicate"},
                       {"worker": "duplicate", "delivery": "applied"}), (outcome, row)
    assert row == ("applied", 0, None)
    assert customer(hooks, cus["id"])[2] == "evt_e2e_held"


def test_apply_mode_delivery_of_an_event_in_the_chunk_being_drained(db, hooks):
    """The worker takes pending events in chunks (stripe._drain_events locks up to 500, FOR UPDATE
    SKIP LOCKED, and applies them together). A delivery of one of them meanwhile waits for the
    chunk's transaction, then says duplicate; a second drain skips the held chunk."""
    cus = make_customers(3)
    events = [make_event("customer.updated", c, BASE_CREATED + 5, f"evt_e2e_chunk{i}") for i, c in enumerate(cus)]
    hooks.execute("SET stripe.ingest_mode = queue")
    assert {ingest(hooks, e)["result"] for e in events} == {"queued"}
    outcome = {}
    with db.connect() as worker, db.connect() as endpoint, db.connect() as other:
        for c in (worker, endpoint, other):
            c.execute("SELECT stripe.version()")

        def deliver():
            outcome["delivery"] = ingest(endpoint, events[1])["result"]

        with worker.transaction():
            assert worker.execute("SELECT stripe._drain_events(500)").fetchone()[0] == 3
            assert other.execute("SELECT stripe._drain_events(500)").fetchone()[0] == 0
            t = threading.Thread(target=deliver)
            t.start()
            time.sleep(0.5)  # the delivery is now waiting for the chunk's lock
            assert "delivery" not in outcome
        t.join()
    assert outcome == {"delivery": "duplicate"}
    assert set(statuses(hooks).values()) == {"applied"}
    assert {customer(hooks, c["id"])[2] for c in cus} == {e["id"] for e in events}


def test_queued_events_are_applied_together_without_an_api_key(db):
    """Webhooks need no API key, and neither does applying them in chunks (only completing a
    truncated nested list calls the API)."""
    events = customer_history(3, 2, prefix="evt_e2e_nokey")
    with db.connect() as c:
        c.execute("SELECT stripe.add_webhook_secret(%s)", (WEBHOOK_SECRET,))
        c.execute("SET stripe.ingest_mode = queue")
        assert {ingest(c, e)["result"] for e in events} == {"queued"}
        c.notices = []
        c.add_notice_handler(lambda diag: c.notices.append(diag.message_primary))
        c.execute("SET client_min_messages = log")
        assert c.execute("SELECT stripe.process_pending()").fetchone()[0] == len(events)
        assert not [n for n in c.notices if "together failed" in n], c.notices
        assert set(statuses(c).values()) == {"applied"}
        assert dict(c.execute("SELECT id, synced_from FROM stripe.customers").fetchall()) == \
            newest_event_per_object(events)


def test_a_chunk_that_fails_together_is_applied_one_by_one(hooks):
    """One event the batch statement cannot write (a timestamp out of range) makes the chunk's
    statement fail: the chunk is then applied event by event, so only that event fails, with its
    error, and the others are applied."""
    cus = make_customers(3)
    bad = {**cus[1], "created": 10 ** 15}
    events = [make_event("customer.updated", c, BASE_CREATED + 5 + i, f"evt_e2e_poison{i}")
              for i, c in enumerate((cus[0], bad, cus[2]))]
    hooks.execute("SET stripe.ingest_mode = queue")
    assert {ingest(hooks, e)["result"] for e in events} == {"queued"}
    assert hooks.execute("SELECT stripe.process_pending()").fetchone()[0] == 3
    assert statuses(hooks) == {"evt_e2e_poison0": "applied", "evt_e2e_poison1": "failed",
                               "evt_e2e_poison2": "applied"}
    status, attempts, error, _, wait = event_row(hooks, "evt_e2e_poison1")
    assert attempts == 1 and "out of range" in error and wait > 0, (status, attempts, error)
    assert customer(hooks, cus[1]["id"]) is None


# -- failures, backoff, reprocessing ------------------------------------------------------------

def test_failed_event_backs_off_then_stays_failed(hooks, api):
    server, proxy = api
    cus = make_customers(1)[0]
    server.load(customer=[{**cus, "email": "api@example.com"}])
    hooks.execute("SET stripe.revalidate = 'customer'")
    hooks.execute("SET stripe.max_retries = 0")
    hooks.execute("SET stripe.ingest_mode = queue")
    ingest(hooks, make_event("customer.updated", {**cus, "email": "payload@example.com"}, BASE_CREATED + 9,
                             "evt_e2e_fail"))
    proxy.down(500)

    def process():
        return hooks.execute("SELECT stripe.process_pending()").fetchone()[0]

    def due_now():  # the retry's time has come (instead of waiting for it)
        hooks.execute("UPDATE stripe.events SET next_attempt_at = clock_timestamp() - interval '1 second' "
                      "WHERE id = 'evt_e2e_fail' AND next_attempt_at IS NOT NULL")

    assert process() == 1
    status, attempts, error, processed, wait = event_row(hooks, "evt_e2e_fail")
    assert (status, attempts, processed) == ("failed", 1, False)
    assert "500" in error and "revalidating" in error and cus["id"] in error, error
    assert 8 < wait <= 10.5, wait                  # 10 s after the first failure
    assert process() == 0                          # not due yet: left alone
    assert len(proxy.requests("/v1/customers/")) == 1

    for attempts, backoff in ((2, 20), (3, 40), (4, 80)):
        due_now()
        assert process() == 1
        status, n, _, _, wait = event_row(hooks, "evt_e2e_fail")
        assert (status, n) == ("failed", attempts)
        assert backoff - 2 < wait <= backoff + 0.5, (attempts, wait)

    hooks.execute("UPDATE stripe.events SET attempts = 12 WHERE id = 'evt_e2e_fail'")
    hooks.execute("SET stripe.event_max_attempts = 100")
    due_now()
    process()
    assert 3590 < event_row(hooks, "evt_e2e_fail")[4] <= 3600.5  # capped at an hour

    # The last attempt: it stays failed and visible, with no retry scheduled.
    hooks.execute("SET stripe.event_max_attempts = 14")
    due_now()
    assert process() == 1
    status, attempts, error, _, wait = event_row(hooks, "evt_e2e_fail")
    assert (status, attempts, wait) == ("failed", 14, None)
    assert "500" in error
    assert process() == 0
    assert hooks.execute("SELECT count(*) FROM stripe.customers").fetchone()[0] == 0

    # Once the API is back, reprocess_failed() runs it again: applied from the API's object.
    proxy.up()
    assert hooks.execute("SELECT * FROM stripe.reprocess_failed()").fetchall() == [("evt_e2e_fail", "applied")]
    assert event_row(hooks, "evt_e2e_fail")[:4] == ("applied", 0, None, True)
    assert customer(hooks, cus["id"]) == ("api@example.com", False, "retrieve")
    assert hooks.execute("SELECT * FROM stripe.reprocess_failed()").fetchall() == []


def test_reprocess_events_reapplies_in_created_order(hooks):
    events = customer_history(2, 2)
    for e in events:
        ingest(hooks, e)
    before = mirror_state(hooks)
    hooks.execute("DELETE FROM stripe.customers")  # the mirror damaged by hand
    ids = [e["id"] for e in reversed(events)]      # asked for in any order
    result = hooks.execute("SELECT * FROM stripe.reprocess_events(%s)", (ids,)).fetchall()
    assert result == [(e["id"], "applied") for e in events]
    assert mirror_state(hooks) == before
    # Reprocessing an event older than the row is harmless: stale.
    assert hooks.execute("SELECT * FROM stripe.reprocess_events(%s)", ([events[0]["id"]],)).fetchall() == [
        (events[0]["id"], "stale")]
    assert mirror_state(hooks) == before


# -- revalidation -------------------------------------------------------------------------------

def test_revalidation_fetches_the_object_unless_the_payload_is_final(hooks, api):
    server, proxy = api
    cus, gone = make_customers(2)
    prod = make_products(1)[0]
    fresh = {**cus, "email": "fresh@example.com"}
    open_inv = make_invoice(1, "open")
    void_inv = make_invoice(2, "void")
    server.load(customer=[fresh], product=[{**prod, "name": "API name"}])
    server.serve("/v1/invoices", [{**open_inv, "amount_due": 4242}, {**void_inv, "amount_due": 1}])
    hooks.execute("SET stripe.revalidate = 'customer, invoice'")

    # Apply mode (the default) trusts the payload even so: revalidation is the worker's path.
    ingest(hooks, make_event("customer.created", {**cus, "email": "created@example.com"}, BASE_CREATED, "evt_e2e_rv0"))
    assert proxy.requests() == []
    assert customer(hooks, cus["id"])[0] == "created@example.com"

    hooks.execute("SET stripe.ingest_mode = queue")
    T = int(time.time()) - 3600
    for e in [
        make_event("customer.updated", {**cus, "email": "stale@example.com"}, T, "evt_e2e_rv1"),
        make_event("invoice.updated", open_inv, T + 1, "evt_e2e_rv2"),
        make_event("invoice.voided", void_inv, T + 2, "evt_e2e_rv3"),
        make_event("product.updated", {**prod, "name": "payload name"}, T + 3, "evt_e2e_rv4"),
        make_event("customer.deleted", gone, T + 5, "evt_e2e_rv6"),
    ]:
        ingest(hooks, e)
    hooks.execute("SELECT stripe.process_pending()")
    fetched = sorted(r.path for r in proxy.requests())
    assert fetched == [f"/v1/customers/{cus['id']}", f"/v1/invoices/{open_inv['id']}"], fetched
    assert customer(hooks, cus["id"]) == ("fresh@example.com", False, "retrieve")
    assert hooks.execute("SELECT amount_due, synced_from FROM stripe.invoices ORDER BY id").fetchall() == [
        (4242, "retrieve"), (void_inv["amount_due"], "evt_e2e_rv3")]
    assert hooks.execute("SELECT name FROM stripe.products").fetchone()[0] == "payload name"
    assert customer(hooks, gone["id"])[1:] == (True, "evt_e2e_rv6")
    st = statuses(hooks)
    assert all(st[f"evt_e2e_rv{i}"] == "applied" for i in (0, 1, 2, 3, 4, 6)), st
    assert hooks.execute("SELECT count(*) FROM stripe.events WHERE attempts > 0").fetchone()[0] == 0

    # 'all' revalidates every type.
    hooks.execute("SET stripe.revalidate = 'all'")
    proxy.reset()
    ingest(hooks, make_event("product.updated", {**prod, "name": "payload 2"}, T + 10, "evt_e2e_rv7"))
    hooks.execute("SELECT stripe.process_pending()")
    assert [r.path for r in proxy.requests()] == [f"/v1/products/{prod['id']}"]
    assert hooks.execute("SELECT name, synced_from FROM stripe.products").fetchone() == ("API name", "retrieve")


@pytest.mark.parametrize("kind", ["invoice", "customer"])
def test_revalidating_an_object_deleted_since(hooks, api, kind):
    """An old event for an object deleted since cannot be revalidated: Stripe answers 404 for a
    deleted draft invoice, and a stub {id, object, deleted: true} for a deleted customer. The
    later *.deleted event, which is final and carries the object's last state, settles the row.
    The old event must not end 'failed' (retried for hours, then left for an operator), and the
    row must keep the last state (schema.sql: "a deleted object keeps its last state plus
    deleted: true")."""
    server, proxy = api
    if kind == "invoice":
        obj = make_invoice(3, "draft")
        server.serve("/v1/invoices", [])  # GET /v1/invoices/<id>: 404 No such invoice
        field, last = "amount_due", obj["amount_due"]
    else:
        obj = {**make_customers(1)[0], "email": "last@example.com"}
        server.serve("/v1/customers", [{"id": obj["id"], "object": "customer", "deleted": True}])
        field, last = "email", "last@example.com"
    table = kind + "s"
    hooks.execute(f"SET stripe.revalidate = '{kind}'")
    hooks.execute("SET stripe.ingest_mode = queue")
    T = int(time.time()) - 600
    ingest(hooks, make_event(f"{kind}.created", obj, T, "evt_e2e_gone1"))
    ingest(hooks, make_event(f"{kind}.deleted", obj, T + 5, "evt_e2e_gone2"))
    hooks.execute("SELECT stripe.process_pending()")
    assert len(proxy.requests(f"/v1/{table}/")) == 1
    events = hooks.execute("SELECT id, status, attempts, last_error FROM stripe.events ORDER BY id").fetchall()
    row = hooks.execute(f"SELECT deleted, {field} FROM stripe.{table} WHERE id = %s", (obj["id"],)).fetchone()
    assert all(status in ("applied", "stale") for _, status, _, _ in events), events
    assert row == (True, last), (row, events)


# -- without the worker -------------------------------------------------------------------------

def test_worker_functions_say_that_no_worker_runs(db, conn):
    for sql in ("SELECT stripe.sync_async('customer')", "SELECT stripe.sync_all_async()"):
        e = sql_error(conn, sql)
        assert e.sqlstate == "55000", error_text(e)
        assert "background worker" in e.diag.message_primary and db.name in e.diag.message_primary
        hint = e.diag.message_hint or ""
        assert "shared_preload_libraries" in hint and "stripe.worker_databases" in hint and db.name in hint
        assert "stripe.sync()" in hint
    assert conn.execute("SELECT count(*) FROM stripe.sync_jobs").fetchone()[0] == 0


def test_run_sync_job_in_the_foreground(conn, fake_api):
    products = make_products(5)
    fake_api.load(price=make_prices(250, products))
    job = conn.execute("INSERT INTO stripe.sync_jobs (object_type) VALUES ('price') RETURNING id").fetchone()[0]
    # A page that fails rolls the statement back; the job is as it was, and runs again.
    fake_api.script(None, Reply.stripe_error(400, "Invalid starting_after", param="starting_after"))
    e = sql_error(conn, "SELECT stripe.run_sync_job(%s)", (job,))
    assert "Invalid starting_after" in e.diag.message_primary
    assert conn.execute("SELECT state, pages FROM stripe.sync_jobs").fetchone() == ("queued", 0)
    assert conn.execute("SELECT stripe.run_sync_job(%s)", (job,)).fetchone()[0] == 250
    row = conn.execute("SELECT state, pages, objects, error, objects_per_second IS NOT NULL, finished_at IS NOT NULL "
                       "FROM stripe.sync_job_status WHERE id = %s", (job,)).fetchone()
    assert row == ("done", 3, 250, None, True, True)
    assert conn.execute("SELECT count(*) FROM stripe.prices").fetchone()[0] == 250
    assert conn.execute("SELECT objects, pages FROM stripe.sync_runs WHERE object_type = 'price'").fetchone() == (250, 3)
    assert conn.execute("SELECT stripe.cancel_sync(%s)", (job,)).fetchone()[0] is False  # done already
    assert conn.execute("SELECT stripe.resume_sync(%s)", (job,)).fetchone()[0] is False
    e = sql_error(conn, "SELECT stripe.run_sync_job(%s)", (job,))
    assert "not queued or running" in e.diag.message_primary


# -- catch-up from the Events API ---------------------------------------------------------------

def test_sync_events_catches_up_idempotently(hooks, api):
    server, proxy = api
    events = customer_history(5, 60, start=BASE_CREATED + 20_000, prefix="evt_e2e_api")  # 305 events
    # Before the outage, two events of customer 3 were delivered: one applied at once, one
    # queued and still pending. The API keeps all of them.
    seen = [e for e in events if e["data"]["object"]["id"] == "cus_e2e_0003"][:2]
    assert ingest(hooks, seen[0])["result"] == "applied"
    hooks.execute("SET stripe.ingest_mode = queue")
    assert ingest(hooks, seen[1])["result"] == "queued"
    hooks.execute("RESET stripe.ingest_mode")
    server.serve("/v1/events", events)

    # The first catch-up reads all Stripe keeps: the webhooks' events move no mark of its own.
    assert hooks.execute("SELECT stripe.sync_events()").fetchone()[0] == len(events) - len(seen)
    reqs = proxy.requests("/v1/events")
    assert "created[gte]" not in reqs[0].query
    assert [r.query.get("limit") for r in reqs] == ["100"] * 4
    page_notices = [n for n in hooks.notices if "page" in n and "sync_events" in n]
    assert len(page_notices) == len(reqs), hooks.notices

    # Recorded from the Events API, applied through the webhook path, oldest first.
    st = statuses(hooks)
    assert all(st[e["id"]] == "applied" for e in events)
    assert hooks.execute("SELECT count(*) FROM stripe.events WHERE synced_from = 'events_api'").fetchone()[0] == \
        len(events) - len(seen)
    newest = newest_event_per_object(events)
    assert dict(hooks.execute("SELECT id, synced_from FROM stripe.customers").fetchall()) == newest

    # Idempotent: nothing new, nothing changed; the next walk starts at the mark, less the overlap.
    mark = hooks.execute("SELECT extract(epoch FROM walked_to)::float8 FROM stripe.event_catchup").fetchone()[0]
    state = mirror_state(hooks)
    proxy.reset()
    assert hooks.execute("SELECT stripe.sync_events()").fetchone()[0] == 0
    assert proxy.requests("/v1/events")[0].query.get("created[gte]") == str(int(mark - 60))
    assert mirror_state(hooks) == state


def test_sync_events_resumes_after_a_failed_page(hooks, api):
    server, proxy = api
    events = customer_history(3, 60, start=BASE_CREATED + 30_000, prefix="evt_e2e_res")  # 183 events
    server.serve("/v1/events", events)
    hooks.execute("SET stripe.max_retries = 0")
    proxy.add(Rule(None, path="/v1/events", times=1))  # page 1 passes
    proxy.fail(1, 500, path="/v1/events")              # page 2 fails
    e = sql_error(hooks, "SELECT stripe.sync_events()")
    assert "500" in e.diag.message_primary, error_text(e)
    # One statement: nothing half-recorded that would move the created[gte] mark past a gap.
    assert hooks.execute("SELECT count(*) FROM stripe.events").fetchone()[0] == 0
    assert len(proxy.requests("/v1/events")) == 2

    assert hooks.execute("SELECT stripe.sync_events()").fetchone()[0] == len(events)
    assert set(statuses(hooks).values()) == {"applied"}
    assert dict(hooks.execute("SELECT id, synced_from FROM stripe.customers").fetchall()) == newest_event_per_object(events)


def test_a_sync_waiting_for_a_page_is_cancelled_at_once_and_the_session_goes_on(db, conn, api):
    """stripe.sync fetches the next page on a thread; a cancel while it waits for one still ends
    the statement at once, and the session syncs again afterwards."""
    server, proxy = api
    server.load(customer=make_customers(250))  # 3 pages
    proxy.slow(3, path="/v1/customers")
    pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]

    def cancel():
        time.sleep(1.0)
        with db.connect() as other:
            other.execute("SELECT pg_cancel_backend(%s)", (pid,))

    t = threading.Thread(target=cancel)
    t.start()
    started = time.monotonic()
    with pytest.raises(psycopg.errors.QueryCanceled):
        conn.execute("SELECT stripe.sync('customer')")
    took = time.monotonic() - started
    t.join()
    assert took < 2.0, took
    proxy.up()
    assert conn.execute("SELECT stripe.sync('customer')").fetchone()[0] == 250
    assert conn.execute("SELECT count(*) FROM stripe.customers").fetchone()[0] == 250
