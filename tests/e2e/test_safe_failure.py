"""Failing safely: every wait on Stripe ends within a second or two of a cancel, no secret
reaches the server log or an error in any form, payloads that can never succeed are refused
for good (and recorded), one object Postgres cannot store does not stop its type's sync, ids
from data stay one path segment, and the request log cannot grow without bound."""

import json
import re
import threading
import time
from pathlib import Path

import psycopg
import pytest

from conftest import API_KEY, READER_ROLE, WEBHOOK_SECRET
from fault_proxy import FaultProxy
from fixture_objects import BASE_CREATED, make_customers, make_event, shape
from fixture_server import Reply
from sql_errors import error_text, sql_error
from webhook_signing import signature, signed

LOG = Path(__import__("os").environ.get("E2E_PG_LOG", "/nonexistent"))


@pytest.fixture
def proxy(_fixture_server):
    p = FaultProxy(_fixture_server.url).start()
    yield p
    p.stop()


@pytest.fixture
def api(fake_api, proxy, conn):
    """The fixture server behind the fault proxy, which the session's stripe.api_base names."""
    conn.execute("SELECT set_config('stripe.api_base', %s, false)", (proxy.url,))
    conn.execute("SELECT stripe.add_webhook_secret(%s)", (WEBHOOK_SECRET,))
    return fake_api


def ingest(conn, event):
    return conn.execute("SELECT stripe.ingest_webhook(%s, %s)", signed(event, WEBHOOK_SECRET)).fetchone()[0]


def subscription_event(n_items=12, has_more=True, url="/v1/subscription_items?subscription=sub_sf"):
    sub = shape("subscription")
    item = sub["items"]["data"][0]
    items = []
    for i in range(min(n_items, 10)):
        it = json.loads(json.dumps(item))
        it.update(id=f"si_sf_{i:02d}", subscription="sub_sf")
        items.append(it)
    sub.update(id="sub_sf", customer="cus_sf", created=BASE_CREATED)
    sub["items"] = {"object": "list", "data": items, "has_more": has_more, "total_count": n_items, "url": url}
    return make_event("customer.subscription.updated", sub, BASE_CREATED + 10, "evt_sf_sub")


# -- every HTTP wait ends at a cancel -----------------------------------------------------------

def timed_out(conn, sql, params=None):
    """Seconds until `sql` fails with statement_timeout (1 s): it must fail with 57014."""
    conn.execute("SET statement_timeout = '1s'")
    started = time.monotonic()
    e = sql_error(conn, sql, params)
    took = time.monotonic() - started
    conn.execute("RESET statement_timeout")
    assert e.sqlstate == "57014", error_text(e)
    return took


def test_a_hanging_api_never_holds_a_statement_past_its_timeout(conn, api, proxy):
    customers = make_customers(3)
    api.load(customer=customers)
    api.serve(f"/v1/customers/{customers[0]['id']}/tax_ids", [])
    conn.execute("SELECT stripe.sync('customer')")
    proxy.hang(30)
    waits = {
        "a list page": timed_out(conn, "SELECT stripe.sync('customer')"),
        "a per-parent walk": timed_out(conn, "SELECT stripe.sync('tax_id')"),
        "a nested list in a webhook": timed_out(conn, "SELECT stripe.ingest_webhook(%s, %s)",
                                                signed(subscription_event(), WEBHOOK_SECRET)),
    }
    job = conn.execute("INSERT INTO stripe.sync_jobs (object_type) VALUES ('customer') RETURNING id").fetchone()[0]
    waits["a sync job's step"] = timed_out(conn, "SELECT stripe.run_sync_job(%s)", (job,))
    conn.execute("SET stripe.revalidate = 'customer'")
    conn.execute("SET stripe.ingest_mode = queue")
    ingest(conn, make_event("customer.updated", customers[1], BASE_CREATED + 99, "evt_sf_reval"))
    conn.execute("RESET stripe.ingest_mode")
    waits["revalidation"] = timed_out(conn, "SELECT stripe.process_pending()")
    conn.execute("UPDATE stripe.events SET status = 'applied'")
    conn.execute("INSERT INTO stripe.refetch_queue (object_type, object_id, reason) VALUES ('customer', %s, 'tie')",
                 (customers[2]["id"],))
    waits["a queued retrieve"] = timed_out(conn, "SELECT stripe.process_pending()")
    for what, took in waits.items():
        assert took < 2.5, f"{what} held the statement {took:.1f}s"


def test_a_cancel_ends_a_request_on_the_wire(db, conn, api, proxy):
    api.load(customer=make_customers(2))
    proxy.hang(30)
    pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
    threading.Timer(0.5, lambda: db.connect().execute("SELECT pg_cancel_backend(%s)", (pid,)).close()).start()
    started = time.monotonic()
    e = sql_error(conn, "SELECT stripe.sync('customer')")
    assert e.sqlstate == "57014" and time.monotonic() - started < 2.0, error_text(e)
    proxy.up()
    assert conn.execute("SELECT stripe.sync('customer')").fetchone()[0] == 2  # the session is fine


# -- no secret in the log or an error, in any form ----------------------------------------------

def log_text():
    return LOG.read_text(errors="replace") if LOG.exists() else ""


def test_failed_secret_calls_never_log_the_secret(db, conn):
    secret = "SoakedInLog" + "9" * 20
    marker = f"marker_{int(time.time() * 1000)}"
    conn.execute("SELECT stripe.version()")
    # The log does keep failing statements, so the test would see a leak.
    sql_error(conn, f"SELECT 1 / 0 AS {marker}")
    with db.connect(READER_ROLE) as r:
        for sql in (f"SELECT stripe.set_api_key('sk_live_{secret}')",
                    f"SELECT stripe.add_webhook_secret('whsec_{secret}')",
                    f"SELECT stripe.remove_webhook_secret('whsec_{secret}')"):
            assert sql_error(r, sql).sqlstate == "42501"
    for sql in (f"SELECT stripe.set_api_key('pk_live_{secret}')",
                f"SELECT stripe.set_api_key('sk_live_{secret} ')",
                f"SELECT stripe.add_webhook_secret('whsec_{secret}!')"):
        assert sql_error(conn, sql).sqlstate == "22023"
    deadline = time.monotonic() + 5
    while marker not in log_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    text = log_text()
    assert marker in text, "the server log is not where the test reads it"
    assert "permission denied for function stripe.set_api_key" in text
    assert secret not in text


def normalised(s):
    return re.sub(r"[^a-z0-9]", "", s.lower())


@pytest.mark.parametrize("echo", ["upper", "dashed", "split", "escaped", "html", "base64", "hex", "reversed"])
def test_transformed_echoes_of_the_key_never_reach_an_error(conn, api, echo):
    secret = API_KEY.split("_", 2)[2]
    shown = {
        "upper": API_KEY.upper(),
        "dashed": "-".join(API_KEY[i:i + 4] for i in range(0, len(API_KEY), 4)),
        "split": API_KEY[:20] + "\n" + API_KEY[20:],
        "escaped": API_KEY.replace("_", "%5F"),
        "html": "".join(f"&#{ord(c)};" for c in API_KEY),
        "base64": __import__("base64").b64encode(API_KEY.encode()).decode(),
        "hex": API_KEY.encode().hex(),
        "reversed": API_KEY[::-1],
    }[echo]
    api.script(Reply(401, f"<html>Bad key: {shown}</html>", content_type="text/html"))
    conn.execute("SET stripe.max_retries = 0")
    e = sql_error(conn, "SELECT stripe.sync('customer')")
    text = normalised(error_text(e))
    windows = {normalised(secret)[i:i + 10] for i in range(len(normalised(secret)) - 9)}
    assert not [w for w in windows if w in text or w[::-1] in text], error_text(e)
    assert shown not in error_text(e), error_text(e)


def test_ids_that_echo_the_key_never_reach_a_warning_an_error_or_a_table(conn, api):
    """A hostile server puts the key into what it sends: an unstorable object's id, a parent's
    id in a nested list it cannot complete."""
    bad = {**make_customers(1)[0], "id": "cus_" + API_KEY, "name": "a\u0000b"}
    api.load(customer=[bad, *make_customers(2)])
    conn.notices.clear()
    conn.execute("SELECT stripe.sync('customer')")
    skipped = conn.execute("SELECT skipped::text FROM stripe.sync_runs WHERE object_type = 'customer'").fetchone()[0]
    secret = API_KEY.split("_", 2)[2]
    assert "cannot be stored" in " ".join(conn.notices)
    assert secret not in " ".join(conn.notices) and secret not in skipped, skipped
    sub = subscription_event(url=None)
    sub["id"] = "evt_key_echo"
    sub["data"]["object"]["id"] = "sub_" + API_KEY
    e = sql_error(conn, "SELECT stripe.ingest_webhook(%s, %s)", signed(sub, WEBHOOK_SECRET))
    assert e.sqlstate == "38000" and secret not in error_text(e), error_text(e)


@pytest.mark.parametrize("reply, sqlstate", [
    # A request Stripe calls wrong is a failure to fix, not a type this account cannot use.
    (Reply.stripe_error(400, "Received unknown parameter: foo", code="parameter_unknown", param="foo"), "38000"),
    (Reply.stripe_error(400, "Invalid Stripe API version: 2099-01-01"), "38000"),
    (Reply.stripe_error(404, "Unrecognized request URL (GET: /v2/customers)."), "38000"),
    (Reply.stripe_error(400, "Keys for idempotent requests can only be used once.", "idempotency_error"), "38000"),
    # The account may not use the product: skipped, with Stripe's reason.
    (Reply.stripe_error(400, "Your account is not set up to use Issuing."), "0A000"),
    (Reply.stripe_error(403, "The provided key does not have the required permissions.", "permission_error"),
     "0A000"),
])
def test_only_a_refusal_of_the_product_skips_a_type(conn, api, reply, sqlstate):
    conn.execute("SET stripe.max_retries = 0")
    api.script(reply)
    e = sql_error(conn, "SELECT stripe.sync('customer')")
    assert e.sqlstate == sqlstate, error_text(e)
    assert ("skipped" in e.diag.message_primary) == (sqlstate == "0A000"), error_text(e)


def test_the_log_hook_cuts_secrets_from_query_and_context_lines(conn):
    secret = "HookedInLog" + "7" * 20
    marker = f"marker_{int(time.time() * 1000)}"
    conn.execute("SELECT stripe.version()")
    for sql in (f"DO $$ BEGIN PERFORM stripe.set_api_key('sk_test_{secret}'::int); END $$",
                f"DO $$ BEGIN PERFORM '{{\"k\": \"whsec_{secret}\"'::jsonb; END $$",
                f"SELECT 'sk_live_{secret}'::int"):
        sql_error(conn, sql)
    # Every statement logged: the hook cuts what the statement line holds.
    conn.execute("SET log_statement = 'all'")
    conn.execute(f"SELECT 'rk_live_{secret}' AS logged")
    conn.execute("RESET log_statement")
    sql_error(conn, f"SELECT 1 / 0 AS {marker}")
    deadline = time.monotonic() + 5
    while marker not in log_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    text = log_text()
    assert marker in text
    assert secret not in text
    assert "sk_test_…" in text and "rk_live_…" in text  # the reports are there, cut


# -- payloads that can never succeed: 400 for good, recorded with the reason --------------------

def webhook_call(db, body, sig):
    """stripe.webhook as PostgREST calls it: (status, body, its request-log row)."""
    with db.connect() as c:
        with c.transaction():
            c.execute("SELECT set_config('request.headers', %s, true)", (json.dumps({"stripe-signature": sig}),))
            out = c.execute("SELECT stripe.webhook(%s::json)", (body,)).fetchone()[0]
            status = c.execute("SELECT current_setting('response.status', true)").fetchone()[0]
        log = c.execute("SELECT result, sqlstate, error FROM stripe.webhook_requests ORDER BY id DESC LIMIT 1"
                        ).fetchone()
    return int(status or 200), out, log


def deep(n):
    return "[" * n + "]" * n


def never_succeed():
    cus = make_customers(1)[0]
    event = make_event("customer.updated", cus, int(time.time()), "evt_sf_bad")
    text = json.dumps(event)
    obj = json.dumps(cus)
    return {
        "a NUL character": text.replace('"Customer 1"', '"Customer \\u0000 1"'),
        "a lone surrogate": text.replace('"Customer 1"', '"Customer \\ud800 1"'),
        "100,000 levels of nesting": text.replace(obj, obj[:-1] + ', "deep": ' + deep(100_000) + "}"),
        "a 300 kB id": text.replace(cus["id"], "cus_" + "x" * 300_000),
        "a number beyond any type": text.replace('"balance": -100', '"balance": 1e400'),
        "a time beyond the calendar": text.replace(f'"created": {cus["created"]}', '"created": 1e15'),
        "a numeric object id": text.replace(f'"id": "{cus["id"]}"', '"id": 5'),
        "an empty object id": text.replace(f'"id": "{cus["id"]}"', '"id": ""'),
        "no object id": text.replace(f'"id": "{cus["id"]}", ', ""),
    }


@pytest.mark.parametrize("case", list(never_succeed()))
def test_a_payload_that_can_never_succeed_is_refused_for_good(db, conn, case):
    conn.execute("SELECT stripe.add_webhook_secret(%s)", (WEBHOOK_SECRET,))
    body = never_succeed()[case]
    sig = signature(body, WEBHOOK_SECRET)
    # receive_webhook (text): refused, recorded with the reason, nothing else written.
    out = conn.execute("SELECT stripe.receive_webhook(%s, %s)", (body, sig)).fetchone()[0]
    assert out["result"] == "rejected" and out["sqlstate"][:2] in ("22", "54"), out
    logged = conn.execute("SELECT result, sqlstate FROM stripe.webhook_requests ORDER BY id DESC LIMIT 1").fetchone()
    assert logged == ("rejected", out["sqlstate"])
    assert conn.execute("SELECT count(*) FROM stripe.events").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM stripe.customers").fetchone()[0] == 0
    # stripe.webhook (json, through PostgREST): a body PostgreSQL's json type itself refuses
    # (a lone surrogate, nesting deeper than max_stack_depth) fails in PostgREST's own cast,
    # before the function runs; everything else is answered 400 and recorded.
    try:
        conn.execute("SELECT %s::json IS NOT NULL", (body,))
    except psycopg.Error as e:
        assert e.sqlstate[:2] in ("22", "54"), error_text(e)
        return
    status, out, (result, sqlstate, error) = webhook_call(db, body, sig)
    assert status == 400, (out, sqlstate, error)
    assert out["code"] == "PT400" and "signature" not in out["message"], out
    assert (result, sqlstate[:2]) in {("rejected", "22"), ("rejected", "54")}, (result, sqlstate, error)
    assert conn.execute("SELECT count(*) FROM stripe.events").fetchone()[0] == 0


def test_a_stale_signature_is_told_apart_from_a_payload_that_cannot_be_stored(db, conn):
    conn.execute("SELECT stripe.add_webhook_secret(%s)", (WEBHOOK_SECRET,))
    body = never_succeed()["a time beyond the calendar"]
    status, out, (_, sqlstate, _) = webhook_call(db, body, signature(body, WEBHOOK_SECRET, t=int(time.time()) - 3600))
    assert (status, sqlstate) == (400, "28000") and out["message"] == "stripe.webhook: signature verification failed"
    status, out, (_, sqlstate, _) = webhook_call(db, body, signature(body, WEBHOOK_SECRET))
    assert status == 400 and sqlstate == "22008" and out["message"] == "stripe.webhook: the event cannot be stored"


def test_a_truncated_nested_list_without_url_is_an_error(conn, api):
    e = sql_error(conn, "SELECT stripe.ingest_webhook(%s, %s)", signed(subscription_event(url=None), WEBHOOK_SECRET))
    assert e.sqlstate == "38000" and "without its url" in error_text(e), error_text(e)


# -- one object Postgres cannot store -----------------------------------------------------------

def test_an_object_postgres_cannot_store_does_not_stop_its_types_sync(conn, api):
    customers = make_customers(5)
    bad = customers[2]
    body_name = "Bad \u0000 name"
    bad["name"] = body_name
    api.load(customer=customers)
    conn.notices.clear()
    assert conn.execute("SELECT stripe.sync('customer')").fetchone()[0] == 4  # what was stored
    stored = {r[0] for r in conn.execute("SELECT id FROM stripe.customers")}
    assert stored == {c["id"] for c in customers} - {bad["id"]}
    (warning,) = [n for n in conn.notices if "cannot be stored" in n]
    assert bad["id"] in warning and "customer" in warning and "page 1" in warning, warning
    skipped = conn.execute("SELECT skipped FROM stripe.sync_runs WHERE object_type = 'customer'").fetchone()[0]
    assert [s["id"] for s in skipped] == [bad["id"]] and skipped[0]["sqlstate"].startswith("22"), skipped


# -- ids from data are one path segment ---------------------------------------------------------

def test_ids_from_data_are_percent_encoded_in_paths(conn, api):
    odd = make_customers(1)[0]
    odd["id"] = "cus_a/../b?x=1#y"
    ingest(conn, make_event("customer.created", odd, BASE_CREATED, "evt_sf_odd"))
    api.serve("/v1/customers/cus_a%2F..%2Fb%3Fx%3D1%23y/tax_ids", [])
    conn.execute("SELECT stripe.sync('tax_id')")
    paths = [r.path for r in api.requests]
    assert "/v1/customers/cus_a%2F..%2Fb%3Fx%3D1%23y/tax_ids" in paths, paths
    conn.execute("INSERT INTO stripe.refetch_queue (object_type, object_id, reason) VALUES ('customer', %s, 'tie')",
                 (odd["id"],))
    conn.execute("SELECT stripe.process_pending()")
    assert "/v1/customers/cus_a%2F..%2Fb%3Fx%3D1%23y" in [r.path for r in api.requests]


# -- the request log is bounded -----------------------------------------------------------------

def test_the_request_log_is_pruned_by_age_and_count(db, conn):
    conn.execute("SELECT stripe.add_webhook_secret(%s)", (WEBHOOK_SECRET,))
    good = make_event("customer.created", make_customers(1)[0], int(time.time()), "evt_sf_log")
    conn.execute("SELECT stripe.receive_webhook(%s, %s)", signed(good, WEBHOOK_SECRET))
    junk = "x" * 50_000
    for _ in range(150):
        conn.execute("SELECT stripe.receive_webhook(%s, 't=1,v1=00')", (junk,))
    sizes = conn.execute("SELECT max(pg_column_size(r.*)) FILTER (WHERE result = 'applied'), "
                         "max(pg_column_size(r.*)) FILTER (WHERE result = 'rejected') "
                         "FROM stripe.webhook_requests r").fetchone()
    assert sizes[0] < 300 and sizes[1] < 3600, sizes
    conn.execute("SET stripe.webhook_log_max_rows = 100")
    assert conn.execute("SELECT stripe.prune_webhook_requests()").fetchone()[0] == 51
    conn.execute("UPDATE stripe.webhook_requests SET received_at = now() - interval '8 days' "
                 "WHERE id IN (SELECT id FROM stripe.webhook_requests ORDER BY id LIMIT 10)")
    assert conn.execute("SELECT stripe.prune_webhook_requests()").fetchone()[0] == 10
    assert conn.execute("SELECT count(*) FROM stripe.webhook_requests").fetchone()[0] == 90
