"""The three kinds of access: stripe.grant_webhook_access, grant_reader_access, grant_admin_access.

The anonymous role of a PostgREST setup, given webhook access, may call stripe.webhook(json) and
nothing else: not read a table, not call stripe.sync or any other function, not change a setting,
not read a secret. Checked through the PostgREST emulation of test_postgrest_webhook (what an HTTP
client can reach) and in SQL as that role (what any statement in its transaction could do).
"""

import json

import pytest

from conftest import API_KEY, WEBHOOK_SECRET
from sql_errors import assert_no_secret, error_text, sql_error
from test_postgrest_webhook import (  # noqa: F401 (fixtures)
    ANON, DbError, api, as_bytes, customer_event, deliver, make_api, owner, pgrst_roles, written)

READER = "e2e_pgrst_reader"
ADMIN = "e2e_pgrst_admin"
NOBODY = "e2e_pgrst_nobody"
EVIL = "http://127.0.0.1:9/steal"


@pytest.fixture(scope="module")
def login_roles(pgrst_roles):
    from conftest import admin
    with admin() as c:
        for role in (READER, ADMIN, NOBODY):
            if not c.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone():
                c.execute(f"CREATE ROLE {role} LOGIN")


def access(conn, role):
    return conn.execute("SELECT object, kind, privileges FROM stripe.access_report(%s)", (role,)).fetchall()


def relations(conn):
    return [r[0] for r in conn.execute(
        "SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'stripe'::regnamespace "
        "AND c.relkind IN ('r', 'p', 'v', 'm') ORDER BY 1").fetchall()]


def functions(conn):
    """(name, signature, {IN argument: type}) of every function in stripe."""
    rows = conn.execute(
        "SELECT p.proname, p.oid::regprocedure::text, coalesce(p.proargnames, '{}'), "
        "       coalesce(p.proargmodes::text[], '{}'), "
        "       array(SELECT format_type(t, NULL) FROM unnest(p.proargtypes) t) "
        "FROM pg_proc p WHERE p.pronamespace = 'stripe'::regnamespace ORDER BY 2").fetchall()
    out = []
    for name, sig, names, modes, types in rows:
        modes = modes or ["i"] * len(names)
        names = [n for n, m in zip(names, modes) if m in ("i", "b", "v")]
        out.append((name, sig, dict(zip(names, types))))
    return out


SAMPLE = {"text": "x", "bigint": 1, "integer": 1, "boolean": True, "text[]": ["x"], "regrole": ANON, "json": {},
          "jsonb": {},
          "timestamp with time zone": "2024-01-01T00:00:00Z"}
ARGS = {"set_api_key": {"key": "sk_test_attackerkey123"}, "add_webhook_secret": {"secret": "whsec_attacker"},
        "remove_webhook_secret": {"secret": WEBHOOK_SECRET}, "sync": {"object_type": "customer"},
        "sync_async": {"object_type": "customer"}, "_row_count": {"table_name": "customers"}}


SELF_CHECKING = {"stripe.set_api_key(text)", "stripe.add_webhook_secret(text)", "stripe.remove_webhook_secret(text)"}


# -- the webhook role ---------------------------------------------------------------------------

def test_webhook_role_reaches_only_the_webhook(owner):
    assert access(owner, ANON) == [("stripe.webhook(json)", "function", "EXECUTE"), ("stripe", "schema", "USAGE")]
    for _, sig, _ in functions(owner):
        can = owner.execute("SELECT has_function_privilege(%s, %s, 'EXECUTE')", (ANON, sig)).fetchone()[0]
        # PUBLIC may call the three that take secrets in: they refuse it themselves (42501), so
        # that a refusal never logs the secret; the access report leaves them out.
        assert can is (sig == "stripe.webhook(json)" or sig in SELF_CHECKING), sig
    for rel in relations(owner):
        assert owner.execute("SELECT has_table_privilege(%s, %s, 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE')",
                             (ANON, f"stripe.{rel}")).fetchone()[0] is False, rel


def test_anonymous_requests_reach_nothing_else(api, owner):
    assert deliver(api, as_bytes(customer_event())).status == 200
    before = owner.execute("SELECT * FROM stripe.config()").fetchall(), written(owner)
    seen = []
    for rel in relations(owner):
        r = api.request("GET", f"/{rel}")
        seen.append(r)
        assert (r.status, r.body["code"]) == (401, "42501"), (rel, r.body)
    for name, sig, params in functions(owner):
        if sig == "stripe.webhook(json)":
            continue
        args = {k: ARGS.get(name, {}).get(k, SAMPLE[t]) for k, t in params.items()}
        r = api.post(f"/rpc/{name}", json.dumps(args).encode(), {"Content-Type": "application/json"})
        seen.append(r)
        assert (r.status, r.body["code"]) == (401, "42501"), (sig, r.body)
    for method, path, body in [("POST", "/customers", b'[{"id": "cus_evil", "data": {}}]'),
                               ("POST", "/workers", b'{"database": "x", "kind": "events", "pid": 1}'),
                               ("DELETE", "/events", b""), ("DELETE", "/refetch_queue", b"")]:
        r = api.request(method, path, body, {"Content-Type": "application/json"})
        seen.append(r)
        assert (r.status, r.body["code"]) == (401, "42501"), (method, path, r.body)
    for r in seen:
        assert_no_secret(r.text, API_KEY, WEBHOOK_SECRET)
    assert (owner.execute("SELECT * FROM stripe.config()").fetchall(), written(owner)) == before


def in_transaction_as(api, role, statements):
    """Runs each statement in a PostgREST-style transaction as `role`; its SQLSTATE or None."""
    out = []
    for sql in statements:
        api._exec("BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE")
        api._exec("select set_config('role', $1, true)", [role])
        try:
            api._exec(sql)
            out.append(None)
        except DbError as e:
            out.append(e.sqlstate)
            assert_no_secret(f"{e.message} {e.details} {e.hint}", API_KEY, WEBHOOK_SECRET)
        api._exec("ROLLBACK")
    return out


def test_anonymous_sql_cannot_change_settings_or_read_secrets(api, owner):
    assert deliver(api, as_bytes(customer_event())).status == 200  # loads the library
    denied = [
        f"SET stripe.api_base = '{EVIL}'",
        f"SELECT set_config('stripe.api_base', '{EVIL}', true)",
        "SET stripe.webhook_tolerance = 0",
        "SET stripe.max_retries = 20",
        "SELECT * FROM stripe_secrets.api_key",
        "SELECT * FROM stripe_secrets.webhook_secrets",
        "SELECT * FROM stripe.config()",
        "SELECT stripe.sync('customer')",
        "SELECT stripe.set_api_key('sk_test_attackerkey123')",
        "SELECT stripe.add_webhook_secret('whsec_attacker')",
        "SELECT stripe.ingest_webhook('{}', 't=1,v1=00')",
        "SELECT stripe.receive_webhook('{}', 't=1,v1=00')",
        "SELECT stripe.grant_admin_access('e2e_pgrst_anon')",
        "SELECT stripe._row_count('customers')",
        "SELECT * FROM stripe.customers",
    ]
    assert in_transaction_as(api, ANON, denied) == ["42501"] * len(denied)


def test_placeholders_set_before_the_library_loads_do_not_count(api, owner):
    # A fresh session as the anonymous role, library not loaded yet: SET only makes placeholders.
    # The first call loads the library, which must discard them rather than use them.
    api._exec("BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE")
    api._exec("select set_config('role', $1, true)", [ANON])
    api._exec(f"SET stripe.api_base = '{EVIL}'")
    api._exec("SET stripe.webhook_max_bytes = '10'")
    api._exec("SET stripe.webhook_tolerance = '999999'")
    api._exec("COMMIT")
    r = deliver(api, as_bytes(customer_event()))
    assert (r.status, r.body.get("result")) == (200, "applied"), r.body  # 10 bytes was no limit
    api._exec("BEGIN")
    res = api._exec("SELECT current_setting('stripe.api_base'), "
                    "(SELECT setting FROM pg_settings WHERE name = 'stripe.webhook_tolerance')")
    assert (res.get_value(0, 0), res.get_value(0, 1)) == (b"https://api.stripe.com", b"300")
    api._exec("ROLLBACK")


def test_revoke_access(owner):
    owner.execute("SELECT stripe.revoke_access(%s)", (ANON,))
    assert access(owner, ANON) == []


# -- reader and admin ---------------------------------------------------------------------------

def test_reader(db, owner, login_roles):
    owner.execute("SELECT stripe.grant_reader_access(%s)", (READER,))
    with db.connect(READER) as r:
        for rel in relations(owner):
            if rel.startswith("_"):  # internal, never granted
                assert sql_error(r, f"SELECT * FROM stripe.{rel}").sqlstate == "42501", rel
            else:
                r.execute(f"SELECT * FROM stripe.{rel}").fetchall()
        for secrets in ("stripe_secrets.api_key", "stripe_secrets.webhook_secrets"):
            assert sql_error(r, f"SELECT * FROM {secrets}").sqlstate == "42501", secrets
        assert r.execute("SELECT count(*) > 0 FROM stripe.object_types").fetchone()[0] is True
        assert r.execute("SELECT stripe.text_at('{\"a\": {\"b\": 1}}', 'a.b')").fetchone()[0] == "1"
        for sql in ["SELECT stripe.webhook('{}')", "SELECT stripe.sync('customer')", "SELECT * FROM stripe.config()",
                    "SELECT stripe.set_api_key('sk_test_attackerkey123')", "SELECT stripe.ingest_webhook('{}', 'x')",
                    "SELECT stripe.grant_reader_access('e2e_pgrst_nobody')",
                    "INSERT INTO stripe.customers (id, data, synced_from, stripe_as_of) VALUES ('c', '{}', 'x', now())"]:
            e = sql_error(r, sql)
            assert e.sqlstate == "42501", (sql, error_text(e))
    functions_granted = {o for o, kind, _ in access(owner, READER) if kind == "function"}
    # what object_types calls, and the functions typed columns are made with
    assert functions_granted == {"stripe._catalog()", "stripe._row_count(text)", "stripe.text_at(jsonb,text)",
                                 "stripe.id_at(jsonb,text)", "stripe.time_at(jsonb,text)"}


def test_admin(db, owner, login_roles):
    owner.execute("SELECT stripe.grant_admin_access(%s)", (ADMIN,))
    with db.connect(ADMIN) as a:
        a.execute("SELECT stripe.set_api_key('sk_test_adminsetkey123')")
        a.execute("SELECT stripe.add_webhook_secret('whsec_admin')")
        assert a.execute("SELECT stripe.remove_webhook_secret('whsec_admin')").fetchone()[0] is True
        config = dict(a.execute("SELECT * FROM stripe.config()").fetchall())
        assert config["api_key"].startswith("sk_test") and "adminsetkey" not in config["api_key"]
        a.execute("SELECT stripe.grant_reader_access(%s)", (NOBODY,))
        a.execute("SELECT stripe.revoke_access(%s)", (NOBODY,))
        a.execute("SELECT * FROM stripe.customers").fetchall()
        for fn in ("sync(text,timestamptz)", "sync_all(timestamptz)", "process_pending(integer)",
                   "webhook(json)", "grant_webhook_access(regrole)"):
            assert a.execute("SELECT has_function_privilege(%s, 'EXECUTE')", (f"stripe.{fn}",)).fetchone()[0], fn
        for sql in ["SELECT * FROM stripe_secrets.api_key", "SELECT * FROM stripe_secrets.webhook_secrets",
                    f"SET stripe.api_base = '{EVIL}'", "SELECT stripe._apply_event('evt_x')"]:
            e = sql_error(a, sql)
            assert e.sqlstate == "42501", (sql, error_text(e))
            assert_no_secret(error_text(e), API_KEY, WEBHOOK_SECRET, "sk_test_adminsetkey123")


def test_grant_helpers_are_the_owners(db, owner, login_roles):
    with db.connect(NOBODY) as n:
        for fn in ("grant_webhook_access", "grant_reader_access", "grant_admin_access", "revoke_access"):
            e = sql_error(n, f"SELECT stripe.{fn}('{NOBODY}')")
            assert e.sqlstate == "42501", (fn, error_text(e))
    assert sql_error(owner, "SELECT stripe.grant_reader_access('e2e_no_such_role')").sqlstate == "42704"
    assert sql_error(owner, "SELECT stripe.grant_reader_access(0)").sqlstate == "22023"
    assert sql_error(owner, "SELECT stripe.grant_webhook_access(NULL)").sqlstate == "22023"


def test_grant_webhook_access_warns_about_more(owner, login_roles):
    owner.execute("SELECT stripe.grant_reader_access(%s)", (READER,))
    owner.notices.clear()
    owner.execute("SELECT stripe.grant_webhook_access(%s)", (READER,))
    assert any("can do more than receive webhooks" in n and "(SELECT)" in n for n in owner.notices), owner.notices


def test_nothing_in_stripe_is_public(db, conn, login_roles):
    # After install, at most stripe.version() is left to PUBLIC (created after sql/postgrest.sql;
    # sql/grants.sql does not revoke it yet). grant_webhook_access takes it back.
    assert {o for o, _, _ in access(conn, NOBODY)} <= {"stripe.version()"}
    conn.execute("SELECT stripe.grant_webhook_access(%s)", (ANON,))
    assert access(conn, NOBODY) == []


def test_definer_functions_pin_search_path_and_take_no_url(conn):
    definer = dict(conn.execute(
        "SELECT p.oid::regprocedure::text, p.proconfig FROM pg_proc p "
        "WHERE p.pronamespace = 'stripe'::regnamespace AND p.prosecdef").fetchall())
    assert "stripe.webhook(json)" in definer and "stripe.grant_admin_access(regrole)" in definer
    for sig, config in definer.items():
        assert config and any(c.startswith("search_path=pg_catalog") for c in config), sig
    # No parameter through which a caller could say where requests (and the key) go.
    for _, sig, params in functions(conn):
        assert not any(w in n for n in params for w in ("url", "base", "endpoint", "host")), (sig, params)


def test_legacy_header_settings_cannot_exist_on_postgres_15(conn):
    # PostgREST <= 8 set request.header.<name>; PostgreSQL 14+ refuses such names, so on 15 the
    # signature can only come through request.headers.
    e = sql_error(conn, "SELECT set_config('request.header.stripe-signature', 't=1', true)")
    assert e.sqlstate == "42602", error_text(e)
