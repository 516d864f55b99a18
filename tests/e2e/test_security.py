"""Who may do what. `reader` has USAGE on stripe, SELECT on the mirror and EXECUTE on
stripe.ingest_webhook (see conftest): it must not reach the key, the webhook secrets, the network
or the settings that decide where the key is sent, and no error it can provoke may reveal either."""

import os
import time

import psycopg
import pytest

from conftest import API_KEY, MIRROR_TABLES, READER_ROLE, WEBHOOK_SECRET
from fixture_objects import BASE_CREATED, make_customers, make_event
from sql_errors import assert_no_secret, error_text, sql_error
from webhook_signing import signature, signed

EVIL = "http://127.0.0.1:9/steal"


@pytest.fixture
def reader(db, conn):
    conn.execute("SELECT stripe.add_webhook_secret(%s)", (WEBHOOK_SECRET,))
    with db.connect(READER_ROLE) as r:
        yield r


def test_reader_cannot_reach_secrets_or_the_api(reader):
    denied = [
        "SELECT * FROM stripe_secrets.api_key",
        "SELECT * FROM stripe_secrets.webhook_secrets",
        "SELECT stripe.sync('customer')",
        "SELECT stripe.sync('price', now())",
        "SELECT stripe.set_api_key('sk_test_attackerskey123')",
        "SELECT stripe.add_webhook_secret('whsec_attacker')",
        "SELECT stripe.remove_webhook_secret('whsec_guess')",
        "SELECT * FROM stripe.config()",
        "INSERT INTO stripe.customers (id, data, synced_from, stripe_as_of) VALUES ('cus_x', '{}', 'x', now())",
        "DELETE FROM stripe.events",
    ]
    for sql in denied:
        e = sql_error(reader, sql)
        assert e.sqlstate == "42501", (sql, error_text(e))
        assert_no_secret(error_text(e), API_KEY, WEBHOOK_SECRET)
    # What it was granted works.
    for t in MIRROR_TABLES:
        reader.execute(f"SELECT * FROM stripe.{t}").fetchall()


def test_reader_cannot_redirect_the_api(reader):
    # Before the library is loaded in this backend, SET only makes a placeholder; Postgres must
    # drop it when the library defines the (superuser-only) setting.
    try:
        reader.execute(f"SET stripe.api_base = '{EVIL}'")
    except psycopg.Error as e:
        assert e.sqlstate == "42501", error_text(e)
    sql_error(reader, "SELECT stripe.ingest_webhook('{}', 't=1,v1=00')")  # loads the library
    assert reader.execute("SELECT current_setting('stripe.api_base')").fetchone()[0] != EVIL
    # Once it is loaded, the setting is refused outright.
    for setting in ("api_base", "api_version", "max_retries", "webhook_tolerance", "http_timeout"):
        e = sql_error(reader, f"SET stripe.{setting} = '1'")
        assert e.sqlstate == "42501", (setting, error_text(e))
    e = sql_error(reader, f"SELECT set_config('stripe.api_base', '{EVIL}', false)")
    assert e.sqlstate == "42501", error_text(e)


def test_reader_errors_from_ingest_reveal_nothing(reader):
    event = make_event("customer.created", make_customers(1)[0], BASE_CREATED, "evt_e2e_reader")
    payload, good = signed(event, WEBHOOK_SECRET)
    provoked = [
        (payload, None),
        (payload, "nonsense"),
        (payload, "t=1,v1=" + "0" * 64),
        (payload, signature(payload, "whsec_guess", t=int(time.time()))),
        (payload, signature(payload, WEBHOOK_SECRET, t=int(time.time()) - 86400)),
        (None, good),
    ]
    for p, sig in provoked:
        e = sql_error(reader, "SELECT stripe.ingest_webhook(%s, %s)", (p, sig))
        assert e.sqlstate not in ("XX000", "42501"), error_text(e)
        assert_no_secret(error_text(e), API_KEY, WEBHOOK_SECRET)
    # A genuine delivery is accepted from this role, and it can read the result.
    assert reader.execute("SELECT stripe.ingest_webhook(%s, %s)", (payload, good)).fetchone()[0]["result"] == "applied"
    assert reader.execute("SELECT email FROM stripe.customers").fetchone()[0] == "customer1@example.com"


def test_nothing_is_granted_to_public(db, conn):
    conn.execute("DROP ROLE IF EXISTS e2e_nobody")
    conn.execute("CREATE ROLE e2e_nobody LOGIN")
    try:
        for fn in ("stripe.sync(text, timestamptz)", "stripe.ingest_webhook(text, text)", "stripe.config()",
                   "stripe._manage_secrets()"):
            assert conn.execute("SELECT has_function_privilege('e2e_nobody', %s, 'EXECUTE')",
                                (fn,)).fetchone()[0] is False, fn
        # The three that take secrets in are PUBLIC's so that they, not Postgres, refuse a caller
        # (whose statement, secret and all, Postgres would log); they refuse this one.
        with db.connect("e2e_nobody") as nobody:
            for sql in ("SELECT stripe.set_api_key('sk_test_nobodys123')",
                        "SELECT stripe.add_webhook_secret('whsec_nobodys')",
                        "SELECT stripe.remove_webhook_secret('whsec_nobodys')"):
                assert sql_error(nobody, sql).sqlstate == "42501", sql
        assert conn.execute("SELECT count(*) FROM stripe.access_report('e2e_nobody')").fetchone()[0] == 0
        for t in [f"stripe.{t}" for t in MIRROR_TABLES] + ["stripe_secrets.api_key", "stripe_secrets.webhook_secrets"]:
            assert conn.execute("SELECT has_table_privilege('e2e_nobody', %s, 'SELECT')", (t,)).fetchone()[0] is False, t
    finally:
        conn.execute("DROP ROLE e2e_nobody")


def test_statistics_do_not_expose_secrets(conn, reader):
    # ANALYZE copies column values into pg_statistic; pg_stats must hide them from the reader.
    conn.execute("ANALYZE stripe_secrets.api_key, stripe_secrets.webhook_secrets")
    rows = reader.execute("SELECT * FROM pg_stats WHERE schemaname IN ('stripe', 'stripe_secrets')").fetchall()
    assert_no_secret(repr(rows), API_KEY, WEBHOOK_SECRET)


def test_server_log_holds_no_secret(conn, reader):
    # Provoke the logged error paths of this test run first, then read the cluster's log.
    log = os.environ.get("E2E_PG_LOG")
    if not log:
        pytest.skip("E2E_PG_LOG not set (run.sh sets it)")
    sql_error(conn, "SELECT stripe.set_api_key('pk_test_notasecretkey')")
    sql_error(reader, "SELECT * FROM stripe_secrets.api_key")
    sql_error(reader, "SELECT stripe.ingest_webhook('{}', 't=1,v1=00')")
    conn.execute("SET stripe.api_base = 'http://127.0.0.1:9'")
    conn.execute("SET stripe.max_retries = 0")
    sql_error(conn, "SELECT stripe.sync('customer')")
    with open(log, errors="replace") as f:
        text = f.read()
    assert "stripe.sync" in text  # the log is the one this run writes to
    assert_no_secret(text, API_KEY, WEBHOOK_SECRET)


def test_grants_on_schema_stripe_never_reach_the_secrets(db, conn):
    """A DBA's habit (or Supabase exposing the schema): everything of schema stripe to a role. The
    secrets are in schema stripe_secrets, on which nobody but the owner has USAGE, so even a
    grant on their tables (a second careless habit) reaches nothing — and access_report shows it."""
    conn.execute("SELECT stripe.set_api_key(%s)", (API_KEY,))
    conn.execute("SELECT stripe.add_webhook_secret(%s)", (WEBHOOK_SECRET,))
    conn.execute("DROP ROLE IF EXISTS e2e_app")
    conn.execute("CREATE ROLE e2e_app LOGIN")
    try:
        conn.execute("GRANT USAGE ON SCHEMA stripe TO e2e_app")
        conn.execute("GRANT SELECT ON ALL TABLES IN SCHEMA stripe TO e2e_app")
        conn.execute("GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA stripe TO e2e_app")
        conn.execute("GRANT SELECT ON ALL TABLES IN SCHEMA stripe_secrets TO e2e_app")
        with db.connect("e2e_app") as app:
            app.execute("SELECT count(*) FROM stripe.customers").fetchone()
            for sql in ("SELECT * FROM stripe_secrets.api_key", "SELECT * FROM stripe_secrets.webhook_secrets"):
                e = sql_error(app, sql)
                assert e.sqlstate == "42501" and "schema stripe_secrets" in e.diag.message_primary, error_text(e)
            # Nothing in schema stripe holds a secret: every table and view readable, none leaks one.
            for (table,) in app.execute(
                    "SELECT c.oid::regclass::text FROM pg_class c WHERE c.relnamespace = 'stripe'::regnamespace "
                    "AND c.relkind IN ('r', 'v', 'm')").fetchall():
                assert_no_secret(repr(app.execute(f"SELECT * FROM {table}").fetchall()), API_KEY, WEBHOOK_SECRET)
        report = conn.execute("SELECT object, kind FROM stripe.access_report('e2e_app')").fetchall()
        assert ("stripe_secrets.api_key", "table") in report  # the second grant shows as a leak …
        assert ("stripe_secrets", "schema") not in report     # … that the missing USAGE stops
    finally:
        conn.execute("DROP OWNED BY e2e_app")
        conn.execute("DROP ROLE e2e_app")
