"""stripe.sync against localstripe for every type it implements, with objects made by the official
stripe-python client: each mirror row must hold exactly what a GET of that object returns (and
its typed columns what the schema documents, here for localstripe's older API shapes).

What localstripe 1.15 implements (probed): lists of customers, products, plans, coupons, tax
rates, payment and setup intents, charges, refunds, balance transactions, subscriptions (with
status=all), invoices and /v1/invoices/{id}/lines, invoice items (pending ones only) and events.
It has no Prices API (404), no /v1/customers/{id}/payment_methods (404), rejects the
`subscription` filter of /v1/subscription_items and the `limit` of /v1/customers/{id}/tax_ids
and /sources (400). For those, stripe.sync must say why, not pretend: a list localstripe refuses
(Stripe's error object) is skipped, one it lacks (a plain 404 page) is a failure."""

import json
import urllib.parse
import urllib.request

import pytest
import stripe as stripe_client

from column_docs import assert_table_matches
from conftest import API_KEY, LOCALSTRIPE_URL, localstripe_config, scratch_database
from sql_errors import error_text, sql_error

# Types localstripe lists (synced in catalog order, parents first).
LISTED = ["customer", "product", "plan", "coupon", "tax_rate", "payment_intent", "setup_intent", "charge", "refund",
          "balance_transaction", "subscription", "invoice", "line_item", "invoiceitem", "event"]
TABLES = {"customer": "customers", "product": "products", "plan": "plans", "coupon": "coupons",
          "tax_rate": "tax_rates", "payment_intent": "payment_intents", "setup_intent": "setup_intents",
          "charge": "charges", "refund": "refunds", "balance_transaction": "balance_transactions",
          "subscription": "subscriptions", "subscription_item": "subscription_items", "invoice": "invoices",
          "line_item": "invoice_lines", "invoiceitem": "invoiceitems", "event": "events", "tax_id": "tax_ids",
          "payment_method": "payment_methods", "price": "prices", "customer_source": "customer_sources"}
# What localstripe answers for the lists it lacks, as stripe.sync must report it: refused with
# Stripe's error object (skipped, 0A000), or not there at all (a failure, 38000).
NOT_LISTABLE = {
    "price": ("38000", "404 on GET /v1/prices"),
    "subscription_item": ("0A000", "400 on GET /v1/subscription_items (invalid_request_error): Unexpected subscription"),
    "tax_id": ("0A000", "(invalid_request_error): Unexpected limit"),
    "payment_method": ("38000", "404 on GET /v1/customers/"),
    "customer_source": ("0A000", "(invalid_request_error): Unexpected limit"),
}


def ls_get(path, **query):
    """GET from localstripe, the exact JSON it answers."""
    url = LOCALSTRIPE_URL + path + ("?" + urllib.parse.urlencode(query) if query else "")
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {API_KEY}"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def ls_list(path, **query):
    """Every object of a localstripe list, following has_more."""
    out, after = [], None
    while True:
        page = ls_get(path, limit=100, **query, **({"starting_after": after} if after else {}))
        out += page["data"]
        if not page["has_more"]:
            return out
        after = page["data"][-1]["id"]


def create_everything(s):
    """Objects of every type localstripe knows, through the official client. Returns ids worth
    naming in the tests."""
    customers = [s.Customer.create(email=f"ls{i}@example.com", name=f"LS customer {i}", phone=f"+3312345{i:04d}",
                                   description=f"customer {i}", metadata={"i": str(i)}) for i in range(3)]
    gold, silver = (s.Product.create(name=n, metadata={"tier": n.lower()}) for n in ("Gold", "Silver"))
    plans = [s.Plan.create(amount=amount, currency="usd", interval=interval, product=product.id, nickname=nick)
             for amount, interval, product, nick in ((1500, "month", gold, "gold-monthly"),
                                                     (15000, "year", gold, "gold-yearly"),
                                                     (500, "month", silver, "silver-monthly"))]
    s.Coupon.create(id="E2E10", percent_off=10, duration="once", metadata={"campaign": "spring"})
    s.Coupon.create(id="E2E5OFF", amount_off=500, currency="usd", duration="repeating", duration_in_months=3)
    vat = s.TaxRate.create(display_name="VAT", percentage=20, inclusive=False, jurisdiction="DE")
    s.TaxRate.create(display_name="GST", percentage=7.5, inclusive=True, description="inclusive")

    pms = []
    for c in customers:
        pm = s.PaymentMethod.create(type="card", card={"number": "4242424242424242", "exp_month": 12,
                                                       "exp_year": 2030, "cvc": "123"})
        s.PaymentMethod.attach(pm.id, customer=c.id)
        s.Customer.modify(c.id, invoice_settings={"default_payment_method": pm.id})
        pms.append(pm)
    s.Customer.create_tax_id(customers[0].id, type="eu_vat", value="DE123456789")
    s.Customer.create_tax_id(customers[0].id, type="eu_vat", value="FR12345678901")

    # (localstripe takes one item per subscription)
    sub_a = s.Subscription.create(customer=customers[0].id, items=[{"plan": plans[0].id, "quantity": 2}])
    s.Subscription.create(customer=customers[0].id, items=[{"plan": plans[2].id}])
    s.Subscription.create(customer=customers[1].id, items=[{"plan": plans[1].id}], default_tax_rates=[vat.id])
    canceled = s.Subscription.create(customer=customers[2].id, items=[{"plan": plans[2].id}])
    s.Subscription.cancel(canceled.id)  # listed only with status=all

    # An invoice with 13 lines (the subscription's and 12 items): its inline list stops at 10
    # (has_more), the rest is behind its url. (localstripe invoices need an active subscription.)
    for i in range(12):
        s.InvoiceItem.create(customer=customers[1].id, amount=100 + i, currency="usd", description=f"item {i}")
    big = s.Invoice.create(customer=customers[1].id, description="thirteen lines")
    for i in range(2):  # pending items (localstripe lists only those)
        s.InvoiceItem.create(customer=customers[0].id, amount=250 * (i + 1), currency="usd", description=f"pending {i}")

    pi_paid = s.PaymentIntent.create(amount=2000, currency="usd", customer=customers[0].id,
                                     payment_method=pms[0].id, confirm=True)
    s.PaymentIntent.create(amount=4200, currency="usd", customer=customers[1].id, payment_method=pms[1].id,
                           confirm=True)
    s.PaymentIntent.create(amount=999, currency="usd", customer=customers[2].id)  # not confirmed
    s.Refund.create(payment_intent=pi_paid.id, amount=500)
    s.Charge.create(amount=1234, currency="usd", customer=customers[1].id, source=pms[1].id, description="direct")
    s.SetupIntent.create(customer=customers[0].id)
    s.SetupIntent.create(customer=customers[1].id, usage="on_session")
    return {"customers": [c.id for c in customers], "canceled": canceled.id, "sub_a": sub_a.id,
            "big_invoice": big.id}


class LocalstripeMirror:
    def __init__(self, conn, ids):
        self.conn, self.ids = conn, ids
        self.synced, self.errors, self.api = {}, {}, {}
        self.big_invoice_lines_after_invoice_sync = None


@pytest.fixture(scope="module")
def mirror(template):
    """localstripe emptied and filled through the client, then every type synced, parents
    first; and what the API answers for each object, fetched right after the sync."""
    localstripe_config("DELETE", "/_config/data")
    stripe_client.api_base = LOCALSTRIPE_URL
    stripe_client.api_key = API_KEY
    stripe_client.max_network_retries = 0
    ids = create_everything(stripe_client)
    with scratch_database(template) as db, db.connect() as conn:
        conn.execute("SELECT stripe.set_api_key(%s)", (API_KEY,))
        conn.execute("SELECT set_config('stripe.api_base', %s, false)", (LOCALSTRIPE_URL,))
        m = LocalstripeMirror(conn, ids)
        order = [r[0] for r in conn.execute("SELECT object_type FROM stripe.object_types")]
        for name in sorted(LISTED + list(NOT_LISTABLE), key=order.index):
            try:
                m.synced[name] = conn.execute("SELECT stripe.sync(%s)", (name,)).fetchone()[0]
            except Exception as e:  # reported by the tests
                m.errors[name] = e
            if name == "invoice":
                m.big_invoice_lines_after_invoice_sync = conn.execute(
                    "SELECT count(*) FROM stripe.invoice_lines WHERE invoice = %s", (ids["big_invoice"],)).fetchone()[0]
        # What a GET of each object returns now (lists: what the list endpoint returns).
        for name, path in (("customer", "/v1/customers"), ("product", "/v1/products"), ("plan", "/v1/plans"),
                           ("coupon", "/v1/coupons"), ("tax_rate", "/v1/tax_rates"),
                           ("payment_intent", "/v1/payment_intents"), ("setup_intent", "/v1/setup_intents"),
                           ("charge", "/v1/charges"), ("refund", "/v1/refunds"),
                           ("balance_transaction", "/v1/balance_transactions"), ("invoiceitem", "/v1/invoiceitems"),
                           ("event", "/v1/events")):
            m.api[name] = {o["id"]: (ls_get(f"{path}/{o['id']}"), None) for o in ls_list(path)}
        subs = ls_list("/v1/subscriptions", status="all")
        m.api["subscription"] = {s["id"]: (ls_get(f"/v1/subscriptions/{s['id']}"), None) for s in subs}
        m.api["subscription_item"] = {i["id"]: (ls_get(f"/v1/subscription_items/{i['id']}"), s["id"])
                                      for s in subs for i in s["items"]["data"]}
        invoices = ls_list("/v1/invoices")
        m.api["invoice"] = {i["id"]: (ls_get(f"/v1/invoices/{i['id']}"), None) for i in invoices}
        m.api["line_item"] = {li["id"]: (li, i["id"]) for i in invoices for li in ls_list(f"/v1/invoices/{i['id']}/lines")}
        yield m


def test_the_world_is_as_intended(mirror):
    """What the comparisons below rest on: objects of every kind, a canceled subscription and an
    invoice whose inline lines are truncated."""
    api = mirror.api
    for name in LISTED:
        assert api[name], f"localstripe lists no {name}"
    assert api["subscription"][mirror.ids["canceled"]][0]["status"] == "canceled"
    big = api["invoice"][mirror.ids["big_invoice"]][0]
    assert len(big["lines"]["data"]) == 10 and big["lines"]["has_more"] is True
    assert sum(1 for _, inv in api["line_item"].values() if inv == big["id"]) == 13


@pytest.mark.parametrize("name", LISTED)
def test_synced_rows_are_what_the_api_returns(mirror, name):
    if name in mirror.errors:
        pytest.fail(f"stripe.sync('{name}') failed: {error_text(mirror.errors[name])}")
    expected = mirror.api[name]
    assert mirror.synced[name] == len(expected)  # line_item: every invoice's lines, listed per invoice
    # Exactly those rows; each row's data what a GET returns; typed columns as documented.
    assert_table_matches(mirror.conn, TABLES[name], expected)
    assert mirror.conn.execute(f"SELECT DISTINCT synced_from FROM stripe.{TABLES[name]}").fetchall() == [("sync",)]


def test_invoice_sync_completes_the_truncated_lines(mirror):
    """Before line_item's own sync, the invoice sync already paged the 13-line invoice's lines."""
    assert mirror.big_invoice_lines_after_invoice_sync == 13


def test_older_api_shapes_fill_the_typed_columns(mirror):
    """localstripe speaks an old API version: the columns that read an older field first (or
    only) must be filled from it."""
    q = mirror.conn.execute
    assert q("SELECT count(*), count(current_period_start), count(current_period_end) FROM stripe.subscriptions"
             ).fetchone() == (4, 4, 4)
    assert q("SELECT count(*) = count(paid) FROM stripe.invoices").fetchone()[0]
    assert q("SELECT array_agg(DISTINCT type ORDER BY type) FROM stripe.invoice_lines").fetchone()[0] == [
        "invoiceitem", "subscription"]
    assert q("SELECT count(*) FROM stripe.subscription_items WHERE plan IS NULL OR quantity IS NULL").fetchone()[0] == 0
    assert q("SELECT sum(amount) FROM stripe.invoice_lines WHERE invoice = %s AND type = 'invoiceitem'",
             (mirror.ids["big_invoice"],)).fetchone()[0] == sum(100 + i for i in range(12))


def test_subscription_items_come_with_their_subscriptions(mirror):
    """localstripe cannot list items per subscription, but every subscription carries its items:
    syncing subscriptions mirrors them, with their parent."""
    assert_table_matches(mirror.conn, "subscription_items", mirror.api["subscription_item"])
    assert mirror.conn.execute("SELECT subscription, quantity FROM stripe.subscription_items s "
                               "JOIN stripe.subscriptions p ON p.id = s.subscription WHERE p.id = %s",
                               (mirror.ids["sub_a"],)).fetchall() == [(mirror.ids["sub_a"], 2)]


@pytest.mark.parametrize("name", sorted(NOT_LISTABLE))
def test_types_localstripe_cannot_list_are_reported_with_the_reason(mirror, name):
    e = mirror.errors.get(name)
    assert e is not None, f"stripe.sync('{name}') returned {mirror.synced.get(name)} from a list localstripe lacks"
    sqlstate, reason = NOT_LISTABLE[name]
    assert e.sqlstate == sqlstate, error_text(e)
    message = e.diag.message_primary
    said = "skipped" if sqlstate == "0A000" else ""
    assert message.startswith(f"stripe.sync('{name}') {said}".strip()) and reason in message, message
    if name in ("price", "tax_id", "payment_method", "customer_source"):
        assert mirror.conn.execute(f"SELECT count(*) FROM stripe.{TABLES[name]}").fetchone()[0] == 0
    run = mirror.conn.execute("SELECT 1 FROM stripe.sync_runs WHERE object_type = %s", (name,)).fetchone()
    assert run is None, "a skipped sync is not recorded as a sync"


def test_a_skipped_type_raises_the_same_again(mirror):
    e = sql_error(mirror.conn, "SELECT stripe.sync('tax_id')")
    assert e.sqlstate == "0A000" and "Unexpected limit" in e.diag.message_primary
