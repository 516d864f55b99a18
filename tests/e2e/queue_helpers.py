"""Shared helpers for the event-queue, worker and catch-up tests: signed deliveries, families of
events whose final state is known, and snapshots of the mirror to compare two databases by."""

import threading

from conftest import WEBHOOK_SECRET
from fixture_objects import BASE_CREATED, make_customers, make_event, make_products
from webhook_signing import signed

# Columns of a mirror row that say what was applied; typed columns follow from data.
ROW = "id, data, deleted, synced_from, extract(epoch FROM stripe_as_of)::bigint"


def ingest(conn, event, secret=WEBHOOK_SECRET):
    return conn.execute("SELECT stripe.ingest_webhook(%s, %s)", signed(event, secret)).fetchone()[0]


def ingest_signed(conn, payload, sig):
    return conn.execute("SELECT stripe.ingest_webhook(%s, %s)", (payload, sig)).fetchone()[0]


def customer_history(n_customers, versions, start=BASE_CREATED + 10_000, prefix="evt_e2e_h", delete_every=0):
    """For each customer: created, then `versions` updates (a new email each), all at distinct
    seconds across all customers; every `delete_every`-th customer is deleted at the end.
    Returns the events in created order."""
    events = []
    t = start
    for ci, cus in enumerate(make_customers(n_customers), 1):
        for v in range(versions + 1):
            kind = "customer.created" if v == 0 else "customer.updated"
            obj = {**cus, "email": f"c{ci}v{v}@example.com", "metadata": {"v": str(v)}}
            events.append(make_event(kind, obj, t, f"{prefix}_{ci:03d}_{v:03d}"))
            t += 1
        if delete_every and ci % delete_every == 0:
            events.append(make_event("customer.deleted", {**cus, "email": f"c{ci}v{versions}@example.com",
                                                          "metadata": {"v": str(versions)}},
                                     t, f"{prefix}_{ci:03d}_del"))
            t += 1
    # Interleave customers by time, as Stripe would emit them.
    return sorted(events, key=lambda e: (e["created"], e["id"]))


def product_history(n_products, versions, start=BASE_CREATED + 50_000, prefix="evt_e2e_p"):
    events = []
    t = start
    for pi, prod in enumerate(make_products(n_products), 1):
        for v in range(versions + 1):
            kind = "product.created" if v == 0 else "product.updated"
            obj = {**prod, "name": f"P{pi} v{v}", "active": v % 2 == 0}
            events.append(make_event(kind, obj, t, f"{prefix}_{pi:03d}_{v:03d}"))
            t += 1
    return events


def newest_event_per_object(events):
    """{object id: id of its newest event}"""
    newest = {}
    for e in sorted(events, key=lambda e: (e["created"], e["id"])):
        newest[e["data"]["object"]["id"]] = e["id"]
    return newest


def mirror_state(conn, tables=("customers", "products")):
    return {t: conn.execute(f"SELECT {ROW} FROM stripe.{t} ORDER BY id").fetchall() for t in tables}


def statuses(conn):
    return dict(conn.execute("SELECT id, status FROM stripe.events").fetchall())


def pending_count(conn):
    return conn.execute("SELECT count(*) FROM stripe.events WHERE status IN ('pending', 'failed')").fetchone()[0]


def run_threads(target, chunks):
    """Runs target(chunk) on one thread per chunk; returns the exceptions they raised."""
    failures = []

    def guarded(chunk):
        try:
            target(chunk)
        except Exception as e:  # a thread's exception would vanish otherwise
            failures.append(e)

    threads = [threading.Thread(target=guarded, args=(c,)) for c in chunks]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return failures


APPLICATION_LOG = """
CREATE TABLE public.applications (
    n bigserial PRIMARY KEY,
    tbl text NOT NULL,
    object_id text NOT NULL,
    synced_from text NOT NULL,
    at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE TABLE public.apply_delay (seconds float8 NOT NULL);
INSERT INTO public.apply_delay VALUES (0);
CREATE FUNCTION public.log_application() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.applications (tbl, object_id, synced_from)
    VALUES (TG_TABLE_NAME, NEW.id, NEW.synced_from);
    PERFORM pg_sleep(seconds) FROM public.apply_delay WHERE seconds > 0;
    RETURN NEW;
END $$;
CREATE TRIGGER e2e_log AFTER INSERT OR UPDATE ON stripe.customers
    FOR EACH ROW EXECUTE FUNCTION public.log_application();
"""


def install_application_log(conn):
    """A test-only trigger recording every write of a customer row, in the writing transaction:
    a rolled-back application leaves no entry, a repeated one leaves two. With
    UPDATE public.apply_delay SET seconds = … each write is that much slower, so that a test can
    interrupt a worker in the middle of a batch."""
    conn.execute(APPLICATION_LOG)


def applications(conn):
    """{event id: times it was written to a customer row}"""
    return dict(conn.execute("SELECT synced_from, count(*) FROM public.applications GROUP BY 1").fetchall())


def make_invoice(i, status="open", created=BASE_CREATED + 7_000, customer="cus_e2e_0001"):
    """An invoice from Stripe's example, with its (complete) inline lines re-parented."""
    from fixture_objects import shape
    inv = shape("invoice")
    inv.update(id=f"in_e2e_{i:04d}", status=status, created=created, customer=customer, subscription=None)
    for n, line in enumerate(inv["lines"]["data"], 1):
        line["id"] = f"il_e2e_{i:04d}_{n}"
        line["invoice"] = inv["id"]
    inv["lines"]["has_more"] = False
    inv["lines"]["url"] = f"/v1/invoices/{inv['id']}/lines"
    return inv
