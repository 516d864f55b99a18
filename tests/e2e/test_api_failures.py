"""stripe.sync when the API misbehaves: retries where Stripe says retrying helps, clear errors
where it does not, an unchanged mirror after a failed sync, and never the key in any message."""

import time

import pytest

from conftest import API_KEY
from fixture_objects import make_prices, make_products
from fixture_server import Reply
from sql_errors import assert_no_secret, error_text, sql_error

BAD_GATEWAY = ("<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
               "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
               "</body>\r\n</html>\r\n")


@pytest.fixture
def prices(fake_api):
    products = make_products(3)
    prices = make_prices(30, products)
    fake_api.load(price=prices, product=products)
    return prices


def sync_prices(conn):
    return conn.execute("SELECT stripe.sync('price')").fetchone()[0]


def test_500_twice_then_ok(conn, fake_api, prices):
    fake_api.script(Reply.stripe_error(500, "An unknown error occurred", "api_error"),
                    Reply(500, "Internal Server Error", content_type="text/plain"))
    assert sync_prices(conn) == 30
    assert len(fake_api.list_requests("/v1/prices")) == 3
    assert conn.execute("SELECT count(*) FROM stripe.prices").fetchone()[0] == 30


def test_429_waits_at_least_retry_after(conn, fake_api, prices):
    fake_api.script(Reply.stripe_error(429, "Too many requests", "rate_limit_error", headers={"Retry-After": "1"}))
    started = time.monotonic()
    assert sync_prices(conn) == 30
    assert time.monotonic() - started >= 1.0
    assert len(fake_api.list_requests("/v1/prices")) == 2


def test_401_reports_stripes_message_without_retrying(conn, fake_api, prices):
    # A hostile or buggy server echoing the whole key: the error must still not carry it.
    fake_api.script(Reply.stripe_error(401, f"Invalid API Key provided: {API_KEY}"))
    e = sql_error(conn, "SELECT stripe.sync('price')")
    text = error_text(e)
    assert e.sqlstate == "38000", text
    assert "Invalid API Key provided" in e.diag.message_primary
    assert "401" in e.diag.message_primary
    assert "set_api_key" in (e.diag.message_hint or "")
    assert_no_secret(text, API_KEY)
    assert len(fake_api.list_requests("/v1/prices")) == 1  # a 401 is not retried


def test_502_html_body_is_summarized(conn, fake_api, prices):
    conn.execute("SET stripe.max_retries = 1")  # one retry: two attempts
    fake_api.script(Reply(502, BAD_GATEWAY, content_type="text/html"), Reply(502, BAD_GATEWAY, content_type="text/html"))
    e = sql_error(conn, "SELECT stripe.sync('price')")
    msg = e.diag.message_primary
    assert e.sqlstate == "38000", msg
    assert "502" in msg and "502 Bad Gateway" in msg and "nginx" in msg
    assert "<" not in msg and "\n" not in msg  # tags stripped, one line
    assert "2 attempts" in msg
    assert_no_secret(error_text(e), API_KEY)
    assert len(fake_api.list_requests("/v1/prices")) == 2


def test_key_echoed_in_a_plain_error_body_is_scrubbed(conn, fake_api, prices):
    # Debug pages of proxies echo request headers; the summary of such a body must not carry the key.
    fake_api.script(Reply(400, f"Bad Request\nAuthorization: Bearer {API_KEY}\n", content_type="text/plain"))
    e = sql_error(conn, "SELECT stripe.sync('price')")
    assert "Authorization: Bearer" in e.diag.message_primary  # the body is reported...
    assert_no_secret(error_text(e), API_KEY)                      # ...without the key


def test_no_api_key_configured(db):
    with db.connect() as fresh:
        e = sql_error(fresh, "SELECT stripe.sync('customer')")
    assert e.sqlstate == "55000", error_text(e)
    assert "set_api_key" in (e.diag.message_hint or "")


def test_a_failed_sync_leaves_the_mirror_unchanged(conn, fake_api):
    products = make_products(5)
    fake_api.load(product=products, price=make_prices(250, products))
    # Page 1 is fine, page 2 fails: the sync is one statement, so page 1 is rolled back too.
    fake_api.script(None, Reply.stripe_error(400, "Invalid starting_after", param="starting_after"))
    e = sql_error(conn, "SELECT stripe.sync('price')")
    assert "Invalid starting_after" in e.diag.message_primary
    assert conn.execute("SELECT count(*) FROM stripe.prices").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM stripe.sync_runs").fetchone()[0] == 0
    # And the next sync is complete.
    assert sync_prices(conn) == 250


def test_timeout_is_a_connection_failure(conn, fake_api, prices):
    conn.execute("SET stripe.http_timeout = 1")
    conn.execute("SET stripe.max_retries = 0")
    fake_api.script(Reply(delay=3))
    started = time.monotonic()
    e = sql_error(conn, "SELECT stripe.sync('price')")
    assert time.monotonic() - started < 2.9
    assert e.sqlstate == "08006", error_text(e)
    assert "stripe.api_base" in (e.diag.message_hint or "")
    assert_no_secret(error_text(e), API_KEY)


def test_unreachable_api_is_a_connection_failure(conn):
    conn.execute("SET stripe.api_base = 'http://127.0.0.1:9'")  # discard port: nothing listens
    conn.execute("SET stripe.max_retries = 1")
    e = sql_error(conn, "SELECT stripe.sync('customer')")
    assert e.sqlstate == "08006", error_text(e)
    assert_no_secret(error_text(e), API_KEY)


def test_config_never_shows_the_key(conn, fake_api):
    conn.execute("SELECT stripe.sync('price')")
    rows = dict(conn.execute("SELECT setting, value FROM stripe.config()").fetchall())
    assert rows["api_key"].startswith("sk_test")
    assert rows["stripe.api_base"] == fake_api.url
    assert_no_secret(repr(rows), API_KEY, API_KEY[len("sk_test_"):])


def test_config_lists_the_settings_in_a_new_session(db):
    # What an operator runs first thing in psql, before anything else has loaded the library.
    with db.connect() as fresh:
        settings = {r[0] for r in fresh.execute("SELECT setting FROM stripe.config()")}
    for name in ("api_base", "api_version", "webhook_tolerance", "http_timeout", "max_retries"):
        assert f"stripe.{name}" in settings, settings
