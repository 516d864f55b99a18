"""The queries a billing team writes against the mirror, on a small account served by the fixture
server in Stripe's current shapes: active subscriptions with product names and prices
(subscriptions JOIN subscription_items JOIN prices JOIN products), monthly recurring revenue, and
invoice totals by month and customer. The expected rows are written out by hand."""

from datetime import datetime, timezone

import pytest

from fixture_objects import shape


def ts(*args):
    return int(datetime(*args, tzinfo=timezone.utc).timestamp())


def customer(id_, name):
    c = shape("customer")
    c.update(id=id_, name=name, email=f"billing@{name.split()[0].lower()}.example", created=ts(2023, 12, 1),
             discount=None, metadata={})
    return c


def product(id_, name):
    p = shape("product")
    p.update(id=id_, name=name, active=True, created=ts(2023, 11, 1), default_price=None, metadata={})
    return p


def price(id_, product_id, amount, interval, nickname):
    p = shape("price")
    p.update(id=id_, product=product_id, unit_amount=amount, unit_amount_decimal=str(amount), currency="usd",
             nickname=nickname, active=True, type="recurring", created=ts(2023, 11, 2), lookup_key=None)
    p["recurring"].update(interval=interval, interval_count=1, usage_type="licensed")
    return p


CUSTOMERS = [customer("cus_acme", "Acme Corp"), customer("cus_globex", "Globex"), customer("cus_initech", "Initech")]
PRODUCTS = [product("prod_analytics", "Analytics"), product("prod_storage", "Storage"),
            product("prod_support", "Premium Support"), product("prod_addons", "Add-ons")]
PRICES = [price("price_analytics_m", "prod_analytics", 4900, "month", "Analytics monthly"),
          price("price_analytics_y", "prod_analytics", 49000, "year", "Analytics yearly"),
          price("price_storage_m", "prod_storage", 1000, "month", "Storage per seat"),
          price("price_support_m", "prod_support", 19900, "month", "Support monthly")] + [
    price(f"price_addon_{k:02d}", "prod_addons", 100 * k, "month", f"Add-on {k}") for k in range(1, 12)]
PRICE = {p["id"]: p for p in PRICES}


def nested(url, entries):
    return {"object": "list", "data": entries[:10], "has_more": len(entries) > 10, "url": url}


def subscription(id_, cus, status, items, created):
    s = shape("subscription")
    url = f"/v1/subscription_items?subscription={id_}"
    entries = []
    for n, (price_id, quantity) in enumerate(items, 1):
        si = shape("subscription_item")
        si.update(id=f"si_{id_[4:]}_{n:02d}", subscription=id_, price=PRICE[price_id], quantity=quantity,
                  created=created, current_period_start=ts(2024, 3, 1), current_period_end=ts(2024, 4, 1))
        si.pop("plan", None)
        entries.append(si)
    s.update(id=id_, customer=cus, status=status, created=created, currency="usd", items=nested(url, entries),
             canceled_at=ts(2024, 2, 1) if status == "canceled" else None, ended_at=None, cancel_at=None,
             metadata={})
    return s, url, entries


ADDONS = [(f"price_addon_{k:02d}", 1) for k in range(1, 12)]
SUBSCRIPTIONS = [
    subscription("sub_acme_1", "cus_acme", "active", [("price_analytics_m", 1), ("price_storage_m", 5)], ts(2024, 1, 1)),
    subscription("sub_acme_2", "cus_acme", "canceled", [("price_support_m", 1)], ts(2024, 1, 2)),
    subscription("sub_globex_1", "cus_globex", "trialing", [("price_analytics_y", 1)], ts(2024, 1, 3)),
    subscription("sub_globex_2", "cus_globex", "past_due", [("price_storage_m", 20)], ts(2024, 1, 4)),
    subscription("sub_initech_1", "cus_initech", "active", ADDONS, ts(2024, 1, 5)),  # 11 items: truncated
]


def invoice(id_, cus, created, status, lines):
    inv = shape("invoice")
    url = f"/v1/invoices/{id_}/lines"
    entries = []
    for n, (price_id, quantity, amount) in enumerate(lines, 1):
        li = shape("line_item")
        li.update(id=f"il_{id_[3:]}_{n:02d}", invoice=id_, amount=amount, quantity=quantity, currency="usd",
                  pricing={"type": "price_details", "unit_amount_decimal": str(PRICE[price_id]["unit_amount"]),
                           "price_details": {"price": price_id, "product": PRICE[price_id]["product"]}})
        entries.append(li)
    total = sum(amount for _, _, amount in lines)
    inv.update(id=id_, customer=cus, created=created, status=status, currency="usd", total=total, subtotal=total,
               amount_due=total, amount_paid=total if status == "paid" else 0,
               amount_remaining=0 if status == "paid" else total, lines=nested(url, entries), metadata={})
    return inv, url, entries


ACME_MONTH = [("price_analytics_m", 1, 4900), ("price_storage_m", 5, 5000)]
INITECH_MONTH = [(p, 1, PRICE[p]["unit_amount"]) for p, _ in ADDONS]  # 11 lines: truncated
INVOICES = [
    invoice("in_acme_jan", "cus_acme", ts(2024, 1, 5), "paid", ACME_MONTH),
    invoice("in_acme_feb", "cus_acme", ts(2024, 2, 5), "paid", ACME_MONTH),
    invoice("in_acme_once", "cus_acme", ts(2024, 2, 20), "open", [("price_support_m", 1, 1500)]),
    invoice("in_globex_jan", "cus_globex", ts(2024, 1, 10), "paid", [("price_analytics_y", 1, 0)]),  # trial
    invoice("in_globex_feb", "cus_globex", ts(2024, 2, 10), "void", [("price_storage_m", 20, 20000)]),
    invoice("in_globex_mar", "cus_globex", ts(2024, 3, 10), "open", [("price_storage_m", 20, 20000)]),
    invoice("in_initech_draft", "cus_initech", ts(2024, 3, 1), "draft", INITECH_MONTH),
    invoice("in_initech_mar", "cus_initech", ts(2024, 3, 31, 23, 30), "paid", INITECH_MONTH),  # March in UTC
    invoice("in_initech_apr", "cus_initech", ts(2024, 4, 1, 0, 10), "paid", INITECH_MONTH),
]


@pytest.fixture
def billing(conn, fake_api):
    fake_api.load(customer=CUSTOMERS, product=PRODUCTS, price=PRICES)
    fake_api.serve("/v1/subscriptions", [s for s, _, _ in SUBSCRIPTIONS])
    fake_api.serve("/v1/invoices", [i for i, _, _ in INVOICES])
    for _, url, entries in SUBSCRIPTIONS + INVOICES:
        fake_api.serve(url, entries, sort=False)
    for name, n in (("customer", 3), ("product", 4), ("price", 15), ("subscription", 5), ("invoice", 9)):
        assert conn.execute("SELECT stripe.sync(%s)", (name,)).fetchone()[0] == n
    return conn


def test_a_customers_active_subscriptions_with_products_and_prices(billing):
    sql = """
        SELECT s.id, s.status, p.name, pr.nickname, pr.unit_amount, pr.currency, pr.recurring_interval,
               si.quantity, pr.unit_amount * si.quantity AS amount
          FROM stripe.subscriptions s
          JOIN stripe.subscription_items si ON si.subscription = s.id AND NOT si.deleted
          JOIN stripe.prices pr ON pr.id = si.price
          JOIN stripe.products p ON p.id = pr.product
         WHERE s.customer = %s AND s.status IN ('active', 'trialing') AND NOT s.deleted
         ORDER BY s.id, p.name, pr.unit_amount"""
    assert billing.execute(sql, ("cus_acme",)).fetchall() == [
        ("sub_acme_1", "active", "Analytics", "Analytics monthly", 4900, "usd", "month", 1, 4900),
        ("sub_acme_1", "active", "Storage", "Storage per seat", 1000, "usd", "month", 5, 5000),
    ]  # the canceled support subscription is not listed
    assert billing.execute(sql, ("cus_globex",)).fetchall() == [
        ("sub_globex_1", "trialing", "Analytics", "Analytics yearly", 49000, "usd", "year", 1, 49000),
    ]  # past_due is not active
    # All 11 items of a subscription whose items list Stripe truncated at 10.
    assert billing.execute(sql, ("cus_initech",)).fetchall() == [
        ("sub_initech_1", "active", "Add-ons", f"Add-on {k}", 100 * k, "usd", "month", 1, 100 * k)
        for k in range(1, 12)]


def test_monthly_recurring_revenue_by_customer(billing):
    rows = billing.execute("""
        SELECT c.name, count(DISTINCT s.id) AS subscriptions,
               round(sum(pr.unit_amount * si.quantity / CASE pr.recurring_interval WHEN 'year' THEN 12.0 ELSE 1 END))
                 AS mrr_cents
          FROM stripe.customers c
          JOIN stripe.subscriptions s ON s.customer = c.id AND s.status IN ('active', 'trialing', 'past_due')
          JOIN stripe.subscription_items si ON si.subscription = s.id
          JOIN stripe.prices pr ON pr.id = si.price
         GROUP BY c.name
         ORDER BY mrr_cents DESC""").fetchall()
    assert rows == [("Globex", 2, 24083), ("Acme Corp", 1, 9900), ("Initech", 1, 6600)]


def test_invoice_totals_by_month_and_customer(billing):
    rows = billing.execute("""
        SELECT to_char(i.created AT TIME ZONE 'UTC', 'YYYY-MM') AS month, c.name,
               count(*) AS invoices, sum(i.total) AS total, sum(i.amount_paid) AS paid,
               sum(i.amount_remaining) AS outstanding
          FROM stripe.invoices i
          JOIN stripe.customers c ON c.id = i.customer
         WHERE i.status IN ('paid', 'open') AND NOT i.deleted
         GROUP BY 1, 2
         ORDER BY 1, 2""").fetchall()
    assert rows == [
        ("2024-01", "Acme Corp", 1, 9900, 9900, 0),
        ("2024-01", "Globex", 1, 0, 0, 0),
        ("2024-02", "Acme Corp", 2, 11400, 9900, 1500),
        ("2024-03", "Globex", 1, 20000, 0, 20000),
        ("2024-03", "Initech", 1, 6600, 6600, 0),
        ("2024-04", "Initech", 1, 6600, 6600, 0),
    ]  # void and draft invoices are left out; 23:30 UTC on March 31st is March


def test_paid_revenue_by_product_from_invoice_lines(billing):
    rows = billing.execute("""
        SELECT p.name, count(*) AS lines, sum(l.amount) AS revenue
          FROM stripe.invoice_lines l
          JOIN stripe.invoices i ON i.id = l.invoice
          JOIN stripe.products p ON p.id = l.product
         WHERE i.status = 'paid'
         GROUP BY p.name
         ORDER BY p.name""").fetchall()
    # Initech's invoices have 11 lines each, one past what Stripe inlines.
    assert rows == [("Add-ons", 22, 13200), ("Analytics", 3, 9800), ("Storage", 2, 10000)]
