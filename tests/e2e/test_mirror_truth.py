"""The mirror never claims what Stripe did not say: against the simulated Stripe (sim_stripe.py),
which holds the truth, each wrong result an adversarial pass found has a test here — a
background sync's first page, a connected account's objects, contradictory pages, the catch-up
high-water mark, canceled subscriptions — and deletions need Stripe's word for each object."""

import json
import re
import threading
import time

import psycopg
import pytest

from conftest import API_KEY, WEBHOOK_SECRET
from sim_stripe import SimStripe, sign
from sql_errors import error_text, sql_error


@pytest.fixture
def sim(conn):
    s = SimStripe(seed=12, api_key=API_KEY, connected_accounts=("acct_sim_connect",)).start()
    conn.execute("SELECT set_config('stripe.api_base', %s, false)", (s.url,))
    conn.execute("SELECT stripe.add_webhook_secret(%s)", (WEBHOOK_SECRET,))
    conn.execute("SET stripe.max_retries = 0")
    yield s
    s.stop()


def deliver(conn, sim, event):
    payload = sim.payload(event)
    return conn.execute("SELECT stripe.ingest_webhook(%s, %s)",
                        (payload, sign(payload, WEBHOOK_SECRET))).fetchone()[0]


def customers(sim, n, account=None):
    return [sim.create_customer(account=account) for _ in range(n)]


def deleted_ids(conn, table="customers"):
    return {r[0] for r in conn.execute(f"SELECT id FROM stripe.{table} WHERE deleted")}


def in_background(conn, sql):
    """Runs sql on conn in a thread: (the thread, the errors it raised)."""
    errors = []

    def work():
        try:
            conn.execute(sql)
        except psycopg.Error as e:
            errors.append(e)

    t = threading.Thread(target=work)
    t.start()
    return t, errors


def run(conn):
    return conn.execute("SELECT objects, pages, marked_deleted, sweep FROM stripe.sync_runs "
                        "WHERE object_type = 'customer'").fetchone()


# -- 1. a background sync's first page ----------------------------------------------------------

def test_a_resumable_sync_of_many_pages_marks_nothing_deleted(conn, sim):
    """The job's walk starts before its first page: page 1 (the 100 newest) was judged 'unseen'
    by a start time taken after it had been written."""
    customers(sim, 350)
    assert conn.execute("SELECT stripe.sync('customer')").fetchone()[0] == 350
    job = conn.execute("INSERT INTO stripe.sync_jobs (object_type) VALUES ('customer') RETURNING id").fetchone()[0]
    assert conn.execute("SELECT stripe.run_sync_job(%s)", (job,)).fetchone()[0] == 350
    state, pages, marked = conn.execute("SELECT state, pages, marked_deleted FROM stripe.sync_jobs WHERE id = %s",
                                        (job,)).fetchone()
    assert (state, pages, marked) == ("done", 4, 0)
    assert deleted_ids(conn) == set()


# -- 2. a connected account's objects -----------------------------------------------------------

def test_a_platform_sync_leaves_connected_accounts_objects_alone(conn, sim):
    customers(sim, 3)
    (theirs,) = customers(sim, 1, account="acct_sim_connect")
    for e in sim.take_events():
        if e["type"] == "customer.created":
            assert deliver(conn, sim, e)["result"] == "applied"
    assert conn.execute("SELECT account_id FROM stripe.customers WHERE id = %s", (theirs,)).fetchone() == (
        "acct_sim_connect",)
    conn.execute("SELECT stripe.sync('customer')")
    assert deleted_ids(conn) == set()
    # Nothing asked Stripe about it with the platform's key either (a 404 there proves nothing).
    assert not [r for r in sim.requests if theirs in r[2]]


# -- 3. contradictory pages ---------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["has_more_empty", "stuck_cursor", "missing_id", "cycle"])
def test_a_contradictory_page_raises_and_marks_nothing(conn, sim, kind):
    customers(sim, 250)
    assert conn.execute("SELECT stripe.sync('customer')").fetchone()[0] == 250
    before = conn.execute("SELECT count(*), max(synced_at) FROM stripe.customers").fetchone()
    sim.fault(kind, path="/v1/customers", after=1, times=1)
    conn.execute("SET statement_timeout = '30s'")  # a cycle used to page forever
    e = sql_error(conn, "SELECT stripe.sync('customer')")
    text = error_text(e)
    assert e.sqlstate == "38000", text
    # It names the type, the page and the cursor the page was fetched after.
    assert "contradictory" in text and re.search(r"customer list, page [2-9] \(fetched after cus_", text), text
    assert [f for f in sim.fired if f[1] == kind], "the fault fired"
    assert deleted_ids(conn) == set()
    assert conn.execute("SELECT count(*), max(synced_at) FROM stripe.customers").fetchone() == before


def test_a_nested_list_completed_from_a_contradictory_page_prunes_nothing(conn, sim):
    (cus,) = customers(sim, 1)
    inv = sim.create_invoice(cus, n_lines=25)
    conn.execute("SELECT stripe.sync('invoice')")
    assert conn.execute("SELECT count(*) FROM stripe.invoice_lines WHERE invoice = %s", (inv,)).fetchone()[0] == 25
    sim.take_events()
    sim.update_invoice(inv)
    (event,) = [e for e in sim.take_events() if e["type"] == "invoice.updated"]
    sim.fault("has_more_empty", path=f"/v1/invoices/{inv}/lines", times=1)
    e = sql_error(conn, "SELECT stripe.ingest_webhook(%s, %s)",
                  (sim.payload(event), sign(sim.payload(event), WEBHOOK_SECRET)))
    assert e.sqlstate == "38000" and "contradictory" in error_text(e), error_text(e)
    assert conn.execute("SELECT count(*) FROM stripe.invoice_lines WHERE invoice = %s", (inv,)).fetchone()[0] == 25
    # Delivered again once the API behaves, it completes the list.
    assert deliver(conn, sim, event)["result"] == "applied"
    assert conn.execute("SELECT count(*) FROM stripe.invoice_lines WHERE invoice = %s", (inv,)).fetchone()[0] == 25


def test_an_unseen_object_stays_when_stripe_still_has_it(conn, sim):
    """A page silently leaving an object out (an eventually consistent list) marks nothing:
    the object is retrieved first, and Stripe has it."""
    ids = customers(sim, 150)
    conn.execute("SELECT stripe.sync('customer')")
    sim.fault("omit_item", path="/v1/customers", times=1)
    conn.execute("SELECT stripe.sync('customer')")
    (omitted,) = [f[4] for f in sim.fired if f[1] == "omit_item"]
    assert any(i in str(omitted) for i in ids)
    assert deleted_ids(conn) == set()
    objects, pages, marked, sweep = run(conn)
    assert (objects, marked) == (149, 0) and "1 still there" in sweep, sweep


# -- deletions need Stripe's word ---------------------------------------------------------------

def test_deleted_objects_are_marked_on_stripes_word_and_say_so(conn, sim):
    ids = customers(sim, 30)
    (cus,) = customers(sim, 1)
    draft = sim.create_invoice(cus, n_lines=2)
    conn.execute("SELECT stripe.sync('customer'), stripe.sync('invoice')")
    sim.delete_customer(ids[0])
    sim.delete_customer(ids[1])
    sim.delete_invoice(draft)
    conn.execute("SELECT stripe.sync('customer'), stripe.sync('invoice')")
    assert deleted_ids(conn) == {ids[0], ids[1]}
    assert conn.execute("SELECT DISTINCT synced_from FROM stripe.customers WHERE deleted").fetchall() == [
        ("retrieve:deleted",)]
    assert conn.execute("SELECT deleted, synced_from FROM stripe.invoices WHERE id = %s", (draft,)).fetchone() == (
        True, "retrieve:resource_missing")
    assert run(conn)[2] == 2
    # Each was asked about, by id.
    asked = {r[2] for r in sim.requests}
    assert {f"/v1/customers/{ids[0]}", f"/v1/customers/{ids[1]}", f"/v1/invoices/{draft}"} <= asked


def test_a_walk_leaving_too_many_unseen_checks_none_and_reports(conn, sim):
    ids = customers(sim, 100)
    conn.execute("SELECT stripe.sync('customer')")
    for i in ids[:30]:
        sim.delete_customer(i)
    sim.reset_requests()
    conn.notices.clear()
    conn.execute("SELECT stripe.sync('customer')")
    assert deleted_ids(conn) == set()
    assert "stopped: 30 of 100" in run(conn)[3]
    assert any("sweep_max_fraction" in n for n in conn.notices), conn.notices
    assert not [r for r in sim.requests if r[2].startswith("/v1/customers/")], "nothing retrieved"
    # The documented way on: allow it for one sync; each is still retrieved before it is marked.
    conn.execute("SET stripe.sweep_max_fraction = 1")
    conn.execute("SELECT stripe.sync('customer')")
    assert deleted_ids(conn) == set(ids[:30])


# -- 5. the catch-up's own high-water mark ------------------------------------------------------

def sync_events(conn):
    return conn.execute("SELECT stripe.sync_events()").fetchone()[0]


def test_the_first_webhook_after_an_outage_does_not_hide_the_outage(conn, sim):
    ids = customers(sim, 2)
    assert sync_events(conn) > 0
    sim.take_events()
    time.sleep(1.1)
    for i in ids:
        sim.update_customer(i)   # lost: the endpoint was down
    missed = sim.take_events()
    time.sleep(1.1)
    sim.update_customer(ids[0])
    (live,) = sim.take_events()
    assert deliver(conn, sim, live)["result"] == "applied"
    assert sync_events(conn) == len(missed)
    recorded = {r[0] for r in conn.execute("SELECT id FROM stripe.events")}
    assert {e["id"] for e in missed} <= recorded
    for i in ids:
        mirrored = conn.execute("SELECT data FROM stripe.customers WHERE id = %s", (i,)).fetchone()[0]
        assert mirrored == sim.truth()["customer"][i]


def test_an_event_from_the_future_does_not_stop_later_catch_ups(conn, sim):
    (cus,) = customers(sim, 1)
    sync_events(conn)
    future = {"id": "evt_from_2036", "object": "event", "type": "customer.updated",
              "created": int(time.time()) + 10 * 365 * 86400, "livemode": False, "api_version": "2023-08-16",
              "data": {"object": {"id": "cus_future", "object": "customer"}}}
    payload = json.dumps(future)
    conn.execute("SET stripe.webhook_tolerance = 0")
    conn.execute("SELECT stripe.ingest_webhook(%s, %s)", (payload, sign(payload, WEBHOOK_SECRET)))
    sim.take_events()
    sim.update_customer(cus)
    (later,) = sim.take_events()
    assert sync_events(conn) == 1
    assert conn.execute("SELECT status FROM stripe.events WHERE id = %s", (later["id"],)).fetchone() == ("applied",)


def test_an_events_api_item_without_id_is_skipped_not_fatal(conn, fake_api):
    now = int(time.time())
    good = [{"id": f"evt_mt_{i}", "object": "event", "type": "customer.created", "created": now - i,
             "livemode": False, "data": {"object": {"id": f"cus_mt_{i}", "object": "customer"}}} for i in range(3)]
    junk = {"object": "event", "type": "customer.updated", "created": now - 1, "data": {"object": {}}}
    fake_api.serve("/v1/events", [good[0], junk, good[1], good[2]], sort=False)
    conn.notices.clear()
    assert sync_events(conn) == 3
    assert conn.execute("SELECT skipped_items FROM stripe.event_catchup").fetchone() == (1,)
    assert any("not events with an id" in n for n in conn.notices), conn.notices
    assert conn.execute("SELECT count(*) FROM stripe.customers").fetchone()[0] == 3


def test_an_event_postgres_cannot_store_does_not_block_the_catch_up(conn, fake_api):
    now = int(time.time())
    events = [{"id": f"evt_nul_{i}", "object": "event", "type": "customer.created", "created": now - i,
               "livemode": False, "data": {"object": {"id": f"cus_nul_{i}", "object": "customer",
                                                      "name": "A \u0000 B" if i == 1 else "ok"}}} for i in range(3)]
    fake_api.serve("/v1/events", events, sort=False)
    conn.notices.clear()
    assert sync_events(conn) == 2
    assert any("evt_nul_1" in n and "cannot be stored" in n for n in conn.notices), conn.notices
    assert sync_events(conn) == 0  # and the next catch-up goes past it too


def test_catch_up_records_how_far_it_walked_per_account_and_mode(conn, sim):
    customers(sim, 2)
    started = time.time()
    sync_events(conn)
    (account, live, walked_to, gap) = conn.execute(
        "SELECT account_id, livemode, extract(epoch FROM walked_to), gap_from FROM stripe.event_catchup").fetchone()
    assert (account, live, gap) == ("", False, None)
    assert started - 2 <= float(walked_to) <= time.time()
    # After more than 30 days without a catch-up, the gap is reported, not hidden.
    conn.execute("UPDATE stripe.event_catchup SET walked_to = now() - interval '40 days'")
    conn.notices.clear()
    sync_events(conn)
    assert conn.execute("SELECT gap_from IS NOT NULL FROM stripe.event_catchup").fetchone() == (True,)
    assert any("30 days" in n for n in conn.notices), conn.notices


# -- 7. one meaning of deleted per type ---------------------------------------------------------

def test_a_canceled_subscription_is_not_deleted_by_its_event_or_a_sync(conn, sim):
    (cus,) = customers(sim, 1)
    sub = sim.create_subscription(cus, n_items=2)
    sim.cancel_subscription(sub)
    for e in sim.take_events():
        deliver(conn, sim, e)
    row = conn.execute("SELECT deleted, status FROM stripe.subscriptions WHERE id = %s", (sub,)).fetchone()
    assert row == (False, "canceled")
    conn.execute("SELECT stripe.sync('subscription')")
    assert conn.execute("SELECT deleted, status, data = %s::jsonb FROM stripe.subscriptions WHERE id = %s",
                        (json.dumps(sim.truth()["subscription"][sub]), sub)).fetchone() == (False, "canceled", True)


# -- odd arguments ------------------------------------------------------------------------------

@pytest.mark.parametrize("sql, sqlstate", [
    ("SELECT stripe.sync('customer', since => 'infinity')", "22023"),
    ("SELECT stripe.sync('customer', since => '-infinity')", "22023"),
    ("SELECT stripe.sync(NULL)", "22004"),
    ("SELECT stripe.process_pending(-5)", "22023"),
    ("SELECT stripe.run_sync_job(3000000000)", "P0002"),
    ("SELECT stripe.sync_async('customer', since => 'infinity')", "22023"),
    ("SELECT stripe.sync_all_async(since => '-infinity')", "22023"),
    ("SELECT stripe.run_sync_job(NULL)", "22004"),
    ("SELECT stripe.cancel_sync(NULL)", "22004"),
    ("SELECT stripe.resume_sync(NULL)", "22004"),
    ("SELECT stripe.set_api_key('sk_test_' || repeat('a', 5000))", "22023"),
])
def test_odd_arguments_get_clear_errors(conn, sim, sql, sqlstate):
    e = sql_error(conn, sql)
    assert e.sqlstate == sqlstate, error_text(e)


def test_job_ids_beyond_int4_are_ordinary(conn, sim):
    assert conn.execute("SELECT stripe.cancel_sync(3000000000), stripe.resume_sync(3000000000)").fetchone() == (
        False, False)
    conn.execute("SELECT setval('stripe.sync_jobs_id_seq', 5000000000)")
    job = conn.execute("INSERT INTO stripe.sync_jobs (object_type) VALUES ('customer') RETURNING id").fetchone()[0]
    assert job > 2 ** 32
    customers(sim, 2)
    assert conn.execute("SELECT stripe.run_sync_job(%s)", (job,)).fetchone()[0] == 2
    assert conn.execute("SELECT stripe.cancel_sync(%s)", (job,)).fetchone()[0] is False  # already done


# -- what an adversarial pass found next --------------------------------------------------------

def test_a_walk_with_another_accounts_key_marks_nothing_and_a_404_alone_is_overruled(conn, sim):
    ids = customers(sim, 5)
    conn.execute("SELECT stripe.sync('customer')")
    other = SimStripe(seed=99, api_key=API_KEY).start()
    try:
        stranger = other.create_customer()
        conn.execute("SELECT set_config('stripe.api_base', %s, false)", (other.url,))
        conn.notices.clear()
        conn.execute("SELECT stripe.sync('customer')")
        assert deleted_ids(conn) == set()
        assert "listed none of the" in run(conn)[3], run(conn)
        assert not [r for r in other.requests if r[2].startswith("/v1/customers/")], "nothing retrieved"
    finally:
        other.stop()
    # Should a 404 alone have marked one (as it would on a table small enough), a later listing
    # that has the object overrules it.
    conn.execute("SELECT set_config('stripe.api_base', %s, false)", (sim.url,))
    conn.execute("UPDATE stripe.customers SET data = data || '{\"deleted\": true}', "
                 "synced_from = 'retrieve:resource_missing', stripe_as_of = now() WHERE id = %s", (ids[0],))
    conn.execute("SELECT stripe.sync('customer')")
    # The other account's customer, which the wrong key's walk wrote, is the one this key's
    # retrieve cannot find.
    assert deleted_ids(conn) == {stranger}
    assert conn.execute("SELECT data FROM stripe.customers WHERE id = %s", (ids[0],)).fetchone()[0] == \
        sim.truth()["customer"][ids[0]]


def test_two_first_deliveries_at_once_queue_the_object_for_a_retrieve(db, conn, sim):
    (cus,) = customers(sim, 1)
    inv = sim.create_invoice(cus, n_lines=2)
    sim.finalize_invoice(inv)
    sim.pay_invoice(inv)
    events = {e["type"]: e for e in sim.take_events() if e["data"]["object"]["id"] == inv}
    finalized, paid = events["invoice.finalized"], events["invoice.paid"]
    with db.connect() as a, db.connect() as b:
        a.execute("SELECT stripe.add_webhook_secret(%s)", (WEBHOOK_SECRET,))
        with a.transaction():
            a.execute("SELECT stripe.ingest_webhook(%s, %s)", (sim.payload(paid), sign(sim.payload(paid), WEBHOOK_SECRET)))
            blocked = threading.Thread(target=lambda: b.execute(
                "SELECT stripe.ingest_webhook(%s, %s)", (sim.payload(finalized), sign(sim.payload(finalized), WEBHOOK_SECRET))))
            blocked.start()
            time.sleep(0.5)  # b waits on a's new row
        blocked.join()
    # Whichever of the two the row holds, the invoice is queued, and the retrieve settles it.
    assert conn.execute("SELECT count(*) FROM stripe.refetch_queue WHERE object_id = %s", (inv,)).fetchone()[0] >= 1
    conn.execute("SELECT stripe.process_pending()")
    assert conn.execute("SELECT status FROM stripe.invoices WHERE id = %s", (inv,)).fetchone() == ("paid",)


def test_a_deleted_draft_takes_its_lines_along_and_a_stub_keeps_the_last_state(conn, sim):
    (cus,) = customers(sim, 1)
    draft = sim.create_invoice(cus, n_lines=3)
    for e in sim.take_events():
        deliver(conn, sim, e)
    sim.delete_invoice(draft)
    for e in sim.take_events():
        deliver(conn, sim, e)
    assert conn.execute("SELECT count(*) FILTER (WHERE NOT deleted) FROM stripe.invoice_lines WHERE invoice = %s",
                        (draft,)).fetchone() == (0,)
    # A customer.deleted carrying only a stub keeps what the row knew.
    email = conn.execute("SELECT email FROM stripe.customers WHERE id = %s", (cus,)).fetchone()[0]
    stub = {"id": "evt_mt_stub", "object": "event", "type": "customer.deleted", "created": int(time.time()) + 1,
            "livemode": False, "data": {"object": {"id": cus, "object": "customer", "deleted": True}}}
    deliver(conn, sim, stub)
    assert conn.execute("SELECT email, deleted FROM stripe.customers WHERE id = %s", (cus,)).fetchone() == (email, True)


def test_a_retrieve_that_loses_a_deadlock_is_left_for_later_not_failed(db, conn, sim):
    """Two sessions retrieving (the sync worker and process_pending) can lock a parent and its
    children in other orders. The loser's retrieve waits a second; what it did before stays."""
    (cus,) = customers(sim, 1)
    sub = sim.create_subscription(cus, n_items=2)
    conn.execute("SELECT stripe.sync('subscription')")
    item = conn.execute("SELECT id FROM stripe.subscription_items WHERE subscription = %s LIMIT 1",
                        (sub,)).fetchone()[0]
    conn.execute("INSERT INTO stripe.refetch_queue (object_type, object_id, reason) "
                 "VALUES ('subscription', %s, 'tie')", (sub,))
    sim.fault("hang", path=f"/v1/subscriptions/{sub}", delay=1.5, times=1)
    with db.connect() as holder, db.connect() as r:
        r.execute("SELECT set_config('stripe.api_base', %s, false)", (sim.url,))
        r.execute("SET deadlock_timeout = '10ms'")  # r, the last to wait, finds the cycle
        with holder.transaction():
            holder.execute("SET LOCAL deadlock_timeout = '10s'")
            holder.execute("UPDATE stripe.subscription_items SET synced_at = now() WHERE id = %s", (item,))
            t, errors = in_background(r, "SELECT stripe.process_pending()")
            time.sleep(0.5)  # r holds the queue entry and waits on Stripe
            # The holder waits for r's entry; r's write then waits for the holder's item.
            holder.execute("UPDATE stripe.refetch_queue SET reason = reason WHERE object_id = %s", (sub,))
        t.join(10)
    assert errors == []
    left = conn.execute("SELECT attempts, next_attempt_at > now() FROM stripe.refetch_queue "
                        "WHERE object_id = %s", (sub,)).fetchone()
    assert left == (0, True)
    time.sleep(1.1)
    conn.execute("SELECT stripe.process_pending()")
    assert conn.execute("SELECT count(*) FROM stripe.refetch_queue").fetchone() == (0,)
    assert conn.execute("SELECT synced_from FROM stripe.subscriptions WHERE id = %s", (sub,)).fetchone() == (
        "retrieve",)


def test_a_404_older_than_the_row_marks_nothing(db, conn, sim):
    """A retrieve that started before an event was applied, then answered 404: the event may be
    the newer word (a 404 is what another account's key gets too), so the row keeps it."""
    ghost = "cus_mt_ghost"
    created = {"id": "evt_mt_ghost1", "object": "event", "type": "customer.created", "created": int(time.time()) - 5,
               "livemode": False, "data": {"object": {"id": ghost, "object": "customer", "email": "a@example.com",
                                                      "livemode": False}}}
    deliver(conn, sim, created)
    conn.execute("INSERT INTO stripe.refetch_queue (object_type, object_id, reason) VALUES ('customer', %s, 'tie')",
                 (ghost,))
    sim.fault("hang", path=f"/v1/customers/{ghost}", delay=2.0, times=1)
    r = db.connect()
    r.execute("SELECT set_config('stripe.api_base', %s, false)", (sim.url,))
    t, errors = in_background(r, "SELECT stripe.process_pending()")
    time.sleep(1.0)  # the retrieve is waiting on Stripe
    updated = {**created, "id": "evt_mt_ghost2", "type": "customer.updated", "created": int(time.time()),
               "data": {"object": {**created["data"]["object"], "email": "b@example.com"}}}
    assert deliver(conn, sim, updated)["result"] == "applied"
    t.join(10)
    r.close()
    assert errors == []
    assert conn.execute("SELECT deleted, email, synced_from FROM stripe.customers WHERE id = %s",
                        (ghost,)).fetchone() == (False, "b@example.com", "evt_mt_ghost2")
    # Without a write meanwhile, the same 404 marks it (and says on what word).
    conn.execute("INSERT INTO stripe.refetch_queue (object_type, object_id, reason) VALUES ('customer', %s, 'tie')",
                 (ghost,))
    conn.execute("SELECT stripe.process_pending()")
    assert conn.execute("SELECT deleted, email, synced_from FROM stripe.customers WHERE id = %s",
                        (ghost,)).fetchone() == (True, "b@example.com", "retrieve:resource_missing")
