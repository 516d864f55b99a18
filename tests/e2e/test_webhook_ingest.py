"""stripe.ingest_webhook over a client connection with deliveries signed here, independently of
the extension: the documented SQLSTATEs, secret rotation, and event ordering."""

import json
import random
import threading
import time

import pytest

from conftest import WEBHOOK_SECRET
from fixture_objects import BASE_CREATED, make_customers, make_event, shape
from sql_errors import assert_no_secret, error_text, sql_error
from webhook_signing import signature, signed


@pytest.fixture
def hooks(conn):
    conn.execute("SELECT stripe.add_webhook_secret(%s)", (WEBHOOK_SECRET,))
    return conn


def ingest(conn, payload, sig):
    return conn.execute("SELECT stripe.ingest_webhook(%s, %s)", (payload, sig)).fetchone()[0]


def deliver(conn, event, secret=WEBHOOK_SECRET):
    return ingest(conn, *signed(event, secret))


def test_no_secret_configured(conn):
    event = make_event("customer.created", make_customers(1)[0], BASE_CREATED, "evt_e2e_nosecret")
    e = sql_error(conn, "SELECT stripe.ingest_webhook(%s, %s)", signed(event, WEBHOOK_SECRET))
    assert e.sqlstate == "55000", error_text(e)


def test_signature_and_payload_errors(hooks):
    event = make_event("customer.created", make_customers(1)[0], BASE_CREATED, "evt_e2e_errors")
    payload, good = signed(event, WEBHOOK_SECRET)
    cases = {
        # A stale timestamp fails the signature check like a wrong signature does.
        "28000": [(payload, None), (payload, "garbage"), (payload, signature(payload, "whsec_other")),
                  (payload.replace("customer1@", "customerX@"), good),  # body altered after signing
                  (payload, signature(payload, WEBHOOK_SECRET, t=int(time.time()) - 3600))],
        "22P02": [("{not json", signature("{not json", WEBHOOK_SECRET))],
        "22023": [(json.dumps(shape("customer")), signature(json.dumps(shape("customer")), WEBHOOK_SECRET))],
    }
    for sqlstate, deliveries in cases.items():
        for p, sig in deliveries:
            e = sql_error(hooks, "SELECT stripe.ingest_webhook(%s, %s)", (p, sig))
            assert e.sqlstate == sqlstate, (sig, error_text(e))
            assert_no_secret(error_text(e), WEBHOOK_SECRET)
    assert hooks.execute("SELECT count(*) FROM stripe.events").fetchone()[0] == 0
    assert ingest(hooks, payload, good)["result"] == "applied"


def test_tolerance_setting_and_several_v1_signatures(hooks):
    event = make_event("customer.created", make_customers(1)[0], BASE_CREATED, "evt_e2e_old")
    payload = json.dumps(event)
    old = signature(payload, WEBHOOK_SECRET, t=int(time.time()) - 3600)
    assert sql_error(hooks, "SELECT stripe.ingest_webhook(%s, %s)", (payload, old)).sqlstate == "28000"
    hooks.execute("SET stripe.webhook_tolerance = 7200")
    # Stripe may send several v1 signatures (one per active secret); any valid one passes.
    t, mac = old.split(",")
    assert ingest(hooks, payload, f"{t},v1={'0' * 64},{mac}")["result"] == "applied"


def test_secret_rotation(hooks):
    new_secret = "whsec_e2e_rotated_" + WEBHOOK_SECRET[-8:]
    hooks.execute("SELECT stripe.add_webhook_secret(%s)", (new_secret,))
    customers = make_customers(2)
    assert deliver(hooks, make_event("customer.created", customers[0], BASE_CREATED, "evt_e2e_r1"))["result"] == "applied"
    assert deliver(hooks, make_event("customer.created", customers[1], BASE_CREATED, "evt_e2e_r2"),
                   new_secret)["result"] == "applied"
    assert hooks.execute("SELECT stripe.remove_webhook_secret(%s)", (WEBHOOK_SECRET,)).fetchone()[0] is True
    assert hooks.execute("SELECT stripe.remove_webhook_secret(%s)", (WEBHOOK_SECRET,)).fetchone()[0] is False
    late = make_event("customer.updated", customers[0], BASE_CREATED + 1, "evt_e2e_r3")
    assert sql_error(hooks, "SELECT stripe.ingest_webhook(%s, %s)", signed(late, WEBHOOK_SECRET)).sqlstate == "28000"


def test_event_is_recorded_with_its_columns(hooks):
    cus = make_customers(1)[0]
    event = make_event("customer.created", cus, BASE_CREATED + 5, "evt_e2e_cols")
    result = deliver(hooks, event)
    assert result == {"result": "applied", "event_id": "evt_e2e_cols", "event_type": "customer.created",
                      "object_type": "customer", "object_id": cus["id"]}
    row = hooks.execute("SELECT data, type, api_version, livemode, extract(epoch FROM created), object_type, "
                        "object_id, status, processed_at IS NOT NULL FROM stripe.events").fetchone()
    assert row == (event, "customer.created", "2023-08-16", False, BASE_CREATED + 5, "customer", cus["id"],
                   "applied", True)
    assert hooks.execute("SELECT data, synced_from, extract(epoch FROM stripe_as_of) FROM stripe.customers"
                         ).fetchone() == (cus, "evt_e2e_cols", BASE_CREATED + 5)


def test_types_not_mirrored_are_ignored(hooks):
    # A balance has no id and no table: the event is recorded, nothing else is written.
    result = deliver(hooks, make_event("balance.available", shape("balance"), BASE_CREATED, "evt_e2e_balance"))
    assert result == {"result": "ignored", "event_id": "evt_e2e_balance", "event_type": "balance.available",
                      "object_type": "balance", "object_id": None}
    assert hooks.execute("SELECT status, object_id FROM stripe.events WHERE id = 'evt_e2e_balance'"
                         ).fetchone() == ("ignored", None)


def test_ordering_older_events_never_overwrite(hooks):
    cus = make_customers(1)[0]
    T = BASE_CREATED + 1000

    def send(n, event_type, created, **changes):
        return deliver(hooks, make_event(event_type, {**cus, **changes}, created, f"evt_e2e_order{n}"))["result"]

    def current():
        return hooks.execute("SELECT email, deleted, synced_from FROM stripe.customers").fetchone()

    assert send(1, "customer.updated", T, email="newest@example.com") == "applied"
    assert send(2, "customer.updated", T - 5, email="older@example.com") == "stale"
    assert send(3, "customer.created", T, email="created@example.com") == "stale"   # a tie: created loses
    assert current() == ("newest@example.com", False, "evt_e2e_order1")
    assert send(4, "customer.updated", T, email="tie@example.com") == "applied"     # a tie: updated wins
    assert send(5, "customer.deleted", T + 10, email="tie@example.com") == "applied"
    assert send(6, "customer.updated", T + 10, email="zombie@example.com") == "stale"  # deleted stays deleted
    assert current() == ("tie@example.com", True, "evt_e2e_order5")
    statuses = dict(hooks.execute("SELECT id, status FROM stripe.events").fetchall())
    assert statuses == {"evt_e2e_order1": "applied", "evt_e2e_order2": "stale", "evt_e2e_order3": "stale",
                        "evt_e2e_order4": "applied", "evt_e2e_order5": "applied", "evt_e2e_order6": "stale"}


def test_sync_and_events_share_one_clock(hooks, fake_api):
    cus = make_customers(1)[0]
    fake_api.load(customer=[cus])
    assert hooks.execute("SELECT stripe.sync('customer')").fetchone()[0] == 1
    now = int(time.time())
    # An event from before the sync fetched the list is older than the row: stale.
    assert deliver(hooks, make_event("customer.updated", {**cus, "email": "old@example.com"}, now - 60,
                                     "evt_e2e_before_sync"))["result"] == "stale"
    assert deliver(hooks, make_event("customer.updated", {**cus, "email": "new@example.com"}, now + 5,
                                     "evt_e2e_after_sync"))["result"] == "applied"
    assert hooks.execute("SELECT email, synced_from FROM stripe.customers").fetchone() == (
        "new@example.com", "evt_e2e_after_sync")
    # And a later sync does not roll the row back to the listing fetched before that event.
    assert hooks.execute("SELECT stripe.sync('customer')").fetchone()[0] == 1
    assert hooks.execute("SELECT email FROM stripe.customers").fetchone()[0] == "new@example.com"


def test_concurrent_duplicated_deliveries_converge_on_the_newest(db, hooks):
    cus = make_customers(1)[0]
    events = [make_event("customer.updated", {**cus, "email": f"v{n}@example.com"}, BASE_CREATED + n,
                         f"evt_e2e_conc{n:02d}") for n in range(24)]
    deliveries = [signed(e, WEBHOOK_SECRET) for e in events] * 2  # Stripe may deliver twice
    random.Random(7).shuffle(deliveries)
    results, failures = [], []

    def worker(chunk):
        try:
            with db.connect() as c:
                results.extend(ingest(c, p, sig)["result"] for p, sig in chunk)
        except Exception as e:  # surfaced below; a thread's exception would vanish
            failures.append(e)

    threads = [threading.Thread(target=worker, args=(deliveries[i::6],)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert len(results) == 48 and results.count("duplicate") == 24
    assert hooks.execute("SELECT email, synced_from FROM stripe.customers").fetchone() == (
        "v23@example.com", "evt_e2e_conc23")
    assert hooks.execute("SELECT count(*) FROM stripe.events").fetchone()[0] == 24
