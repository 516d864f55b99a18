"""stripe.sync paging through Stripe-shaped lists (newest first, 100 a page) served by the
fixture server from Stripe's example objects."""

from datetime import datetime, timezone

import pytest

from conftest import API_KEY
from expected_columns import assert_row_matches
from fixture_objects import BASE_CREATED, make_customers, make_prices, make_products
from sql_errors import sql_error


@pytest.fixture
def catalog(fake_api):
    products = make_products(10)
    prices = make_prices(250, products)
    fake_api.load(product=products, price=prices)
    return products, prices


def sync(conn, object_type, since=None):
    if since is None:
        return conn.execute("SELECT stripe.sync(%s)", (object_type,)).fetchone()[0]
    return conn.execute("SELECT stripe.sync(%s, since => %s)", (object_type, since)).fetchone()[0]


def test_250_prices_in_3_pages(conn, fake_api, catalog):
    _, prices = catalog
    assert sync(conn, "price") == 250

    for p in prices:
        assert_row_matches(conn, "prices", p)
    assert conn.execute("SELECT count(*) FROM stripe.prices").fetchone()[0] == 250

    # One request per page, each continuing after the last id of the page before.
    reqs = fake_api.list_requests("/v1/prices")
    assert [r.query.get("limit") for r in reqs] == ["100"] * 3
    newest_first = sorted(prices, key=lambda p: p["created"], reverse=True)
    assert [r.query.get("starting_after") for r in reqs] == [None, newest_first[99]["id"], newest_first[199]["id"]]

    # A NOTICE per page, with the running count.
    notices = [n for n in conn.notices if n.startswith("stripe.sync('price')")]
    assert len(notices) == 3, conn.notices
    for page, total, notice in zip((1, 2, 3), (100, 200, 250), notices):
        assert f"page {page}" in notice and f"{total} objects" in notice, notice

    run = conn.execute("SELECT objects, pages, marked_deleted, since, finished_at >= started_at "
                       "FROM stripe.sync_runs WHERE object_type = 'price'").fetchone()
    assert run == (250, 3, 0, None, True)


def test_requests_carry_key_version_and_user_agent(conn, fake_api, catalog):
    sync(conn, "product")
    default_version = conn.execute("SELECT current_setting('stripe.api_version')").fetchone()[0]
    conn.execute("SET stripe.api_version = '2024-06-20'")
    sync(conn, "product")
    conn.execute("SET stripe.api_version = ''")  # empty: the account's default, no header
    sync(conn, "product")

    first, second, third = fake_api.list_requests("/v1/products")
    for r in (first, second, third):
        assert r.headers["authorization"] == f"Bearer {API_KEY}"
        assert r.headers["user-agent"].startswith("djstripe_pg/")
        assert r.method == "GET"
    assert default_version and first.headers["stripe-version"] == default_version
    assert second.headers["stripe-version"] == "2024-06-20"
    assert "stripe-version" not in third.headers


def test_since_filters_by_created_and_marks_nothing_deleted(conn, fake_api, catalog):
    products, prices = catalog
    assert sync(conn, "price") == 250
    fake_api.load(price=prices[5:])  # the 5 oldest are gone from the API
    fake_api.requests.clear()

    since = datetime.fromtimestamp(BASE_CREATED + 200 * 60, timezone.utc)  # price 200 onwards
    assert sync(conn, "price", since) == 51

    (req,) = fake_api.list_requests("/v1/prices")
    assert req.query["created[gte]"] == str(BASE_CREATED + 200 * 60)
    # A windowed sync cannot know what disappeared: nothing is marked deleted.
    assert conn.execute("SELECT count(*) FROM stripe.prices WHERE deleted").fetchone()[0] == 0
    run = conn.execute("SELECT objects, pages, marked_deleted, since FROM stripe.sync_runs").fetchone()
    assert run == (51, 1, 0, since)


def test_full_sync_marks_only_missing_rows_of_the_keys_mode(conn, fake_api):
    customers = make_customers(12)
    live = customers[11]
    live["livemode"] = True  # a live-mode object cannot be judged by a test-mode key's listing
    fake_api.load(customer=customers)
    assert sync(conn, "customer") == 12

    gone = customers[:3]
    fake_api.load(customer=customers[3:11])  # 3 test-mode customers and the live one vanish
    assert sync(conn, "customer") == 8

    deleted = {r[0] for r in conn.execute("SELECT id FROM stripe.customers WHERE deleted")}
    assert deleted == {c["id"] for c in gone}
    for c in gone:
        assert_row_matches(conn, "customers", {**c, "deleted": True})
    for c in customers[3:]:
        assert_row_matches(conn, "customers", c)
    assert conn.execute("SELECT marked_deleted FROM stripe.sync_runs").fetchone()[0] == 3


def test_unknown_object_type_is_rejected(conn, fake_api):
    e = sql_error(conn, "SELECT stripe.sync('unicorn')")
    assert e.sqlstate == "22023"
    known = f"{e.diag.message_primary} {e.diag.message_hint}"
    assert "unicorn" in e.diag.message_primary
    for t in ("customer", "product", "price"):
        assert t in known
    assert fake_api.requests == []  # rejected before any request


def peak_private_kb(pid, work):
    """The backend's peak private memory (RssAnon, kB) while work() runs, polled every 5 ms."""
    import threading
    import time
    peak, done = [0], threading.Event()

    def poll():
        while not done.is_set():
            for line in open(f"/proc/{pid}/status"):
                if line.startswith("RssAnon:"):
                    peak[0] = max(peak[0], int(line.split()[1]))
            time.sleep(0.005)

    t = threading.Thread(target=poll)
    t.start()
    try:
        work()
    finally:
        done.set()
        t.join()
    return peak[0]


def test_backend_memory_does_not_grow_with_the_pages_of_a_sync(conn, fake_api):
    """Each page's JSON is freed once the page is written: a sync of 40 pages of ~1 MB peaks
    where a sync of 4 such pages does (it used to hold every page until the statement ended)."""
    padding = "x" * 10_000
    customers = [{**c, "description": padding} for c in make_customers(4000, step=1)]
    pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
    fake_api.load(customer=customers[:400])
    small = peak_private_kb(pid, lambda: sync(conn, "customer"))
    fake_api.load(customer=customers)
    large = peak_private_kb(pid, lambda: sync(conn, "customer"))
    assert conn.execute("SELECT count(*) FROM stripe.customers").fetchone()[0] == 4000
    # 36 more pages of ~1 MB each: held, they would add ~40 MB (twice that as text and jsonb)
    assert large - small < 12_000, (small, large)
