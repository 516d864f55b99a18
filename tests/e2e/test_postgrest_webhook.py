"""Stripe's webhooks through PostgREST, reproduced without a PostgREST binary.

`PostgREST` below does, against the running cluster, what PostgREST (9 and later; read in its
source at main 48346789, after v16.1) does with an HTTP request, at the level that matters here:

- it connects as the authenticator (LOGIN NOINHERIT, a member of the anonymous role) and runs each
  request in one transaction: `BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE` (READ ONLY for
  GET and for STABLE/IMMUTABLE functions), COMMIT on success, ROLLBACK on error
  (hasql Transaction/Private/SQL.hs, Plan.hs callReadPlan, MainTx.hs);
- its first statement sets, with set_config(..., true): search_path (the exposed schema), role
  (the anonymous role), request.jwt.claims, request.method, request.path, request.headers (one
  JSON object, header names lowercased, Cookie left out) and request.cookies
  (Query/PreQuery.hs txVarQuery, ApiRequest.hs);
- POST /rpc/<fn> finds the function like findProc in Plan.hs (named parameters matching the body's
  keys, else the one function with a single unnamed json/jsonb parameter), and calls the latter
  with the raw request body as an untyped text parameter (OID 705) cast to the parameter's type:
  `"schema"."fn"($1::json)` (Query/QueryBuilder.hs callPlanToQuery, Query/SqlFragment.hs
  singleParameter); the body must parse as JSON first or the answer is 400 PGRST102, and a bare
  JSON scalar is replaced by [] (ApiRequest/Payload.hs);
- an error's SQLSTATE becomes the HTTP status as in Error.hs mapSQLtoHTTP (PTxyz -> xyz, ...);
  a successful call answers response.status if set, else 200.

The statements are the same SQL PostgREST sends, or equivalent to it where PostgREST's text is
longer (the aggregation around the call); the bytes of the body are passed exactly as PostgREST
passes them, through libpq's extended protocol.
"""

import hashlib
import hmac
import json
import re
import time
from dataclasses import dataclass, field

import pytest
from psycopg import pq

from conftest import API_KEY, WEBHOOK_SECRET, admin
from fixture_objects import BASE_CREATED, make_customers, make_event, shape
from fixture_server import Reply
from sql_errors import assert_no_secret

AUTHENTICATOR = "e2e_pgrst_authenticator"
ANON = "e2e_pgrst_anon"          # PostgREST's db-anon-role, given webhook access
SUPA_ANON = "e2e_supabase_anon"  # Supabase's anon role, reached through the API gateway
UNKNOWN = 705                     # the OID hasql's `unknown` encoder sends parameters with


# -- the PostgREST emulation --------------------------------------------------------------------

@dataclass
class Response:
    status: int
    body: object                  # the decoded JSON body
    headers: dict = field(default_factory=dict)

    @property
    def text(self):
        return json.dumps(self.body)


class PgrstError(Exception):
    def __init__(self, status, code, message, details=None, hint=None):
        super().__init__(message)
        self.response = Response(status, {"code": code, "details": details, "hint": hint, "message": message})


class DbError(Exception):
    def __init__(self, sqlstate, message, details, hint):
        super().__init__(message)
        self.sqlstate, self.message, self.details, self.hint = sqlstate, message, details, hint

    def response(self, authed):
        status = http_status(self.sqlstate, self.message, authed)
        return Response(status, {"code": self.sqlstate, "details": self.details, "hint": self.hint,
                                 "message": self.message})


# Error.hs mapSQLtoHTTP, in order (the first matching prefix wins).
_SQLSTATE_STATUS = [
    ("08", 503), ("09", 500), ("0L", 403), ("0P", 403), ("23503", 409), ("23505", 409),
    ("25006", 405), ("25", 500), ("28", 403), ("2D", 500), ("38", 500), ("39", 500), ("3B", 500),
    ("40", 500), ("53400", 500), ("53", 503), ("54", 500), ("55", 500), ("57P01", 503), ("57", 500),
    ("58", 500), ("F0", 500), ("HV", 500), ("P0001", 400), ("P0", 500), ("XX", 500),
    ("42883", 404), ("42P01", 404), ("42P17", 500),
]


def http_status(sqlstate, message, authed):
    if sqlstate.startswith("PT"):
        return int(sqlstate[2:]) if sqlstate[2:].isdigit() else 500
    if sqlstate == "42501":
        return 403 if authed else 401
    if sqlstate == "22023" and message.startswith("role") and message.endswith("does not exist"):
        return 401
    if sqlstate == "21000":
        return 400 if message.endswith("requires a WHERE clause") else 500
    for prefix, status in _SQLSTATE_STATUS:
        if sqlstate.startswith(prefix):
            return status
    return 400


def quote_ident(name):
    return '"' + name.replace('"', '""') + '"'


_OPERATORS = ("eq", "neq", "gt", "gte", "lt", "lte", "like", "ilike", "match", "imatch", "in", "is",
              "isdistinct", "fts", "plfts", "phfts", "wfts", "cs", "cd", "ov", "sl", "sr", "nxr", "nxl",
              "adj", "not", "all", "any")


class PostgREST:
    """One PostgREST server: db-schemas, db-anon-role, a connection as the authenticator."""

    def __init__(self, dsn, schemas, anon_role, role_settings=None):
        self.schemas = list(schemas)
        self.anon_role = anon_role
        # db-role settings of the impersonated roles (ALTER ROLE ... SET), which PostgREST reads
        # at startup and applies in each transaction before switching role (PreQuery.hs)
        self.role_settings = role_settings or {}
        self.conn = pq.PGconn.connect(dsn.encode())
        assert self.conn.status == pq.ConnStatus.OK, self.conn.get_error_message()
        self.statements = []      # (sql, params) of the last request, for inspection

    def close(self):
        self.conn.finish()

    # one HTTP request
    def request(self, method, path, body=b"", headers=None, query="", claims=None):
        headers = {k.lower(): v for k, v in (headers or {}).items()}  # names are case-insensitive
        authed = claims is not None
        claims = dict(claims or {})
        role = claims.get("role", self.anon_role)
        claims["role"] = role
        try:
            schema = self._schema(method, headers)
            self._check_query(method, path, query)
            if path.startswith("/rpc/"):
                sql, params, read_only = self._call(schema, path[len("/rpc/"):], method, body, headers)
            else:
                sql, params, read_only = self._relation(schema, path.lstrip("/"), method, body, headers)
            self._negotiate(headers)
        except PgrstError as e:
            return e.response
        return self._run(schema, role, claims, method, path, headers, sql, params, read_only, authed)

    def post(self, path, body, headers=None, **kw):
        return self.request("POST", path, body, headers, **kw)

    # -- ApiRequest ----------------------------------------------------------------------------

    def _schema(self, method, headers):
        profile = headers.get("content-profile" if method in ("POST", "PATCH", "PUT", "DELETE") else "accept-profile")
        if profile is None:
            return self.schemas[0]
        if profile not in self.schemas:
            raise PgrstError(406, "PGRST106", "Invalid schema: " + profile)
        return profile

    @staticmethod
    def _check_query(method, path, query):
        # QueryParams.parse: on anything but an RPC read, a parameter that is not reserved is a
        # filter and must read "<operator>.<value>" (supabase/supabase#28930: a local gateway
        # that passes ?apikey= on fails here).
        if not query or (method == "GET" and path.startswith("/rpc/")):
            return
        for pair in query.split("&"):
            key, _, value = pair.partition("=")
            if key in ("select", "columns", "on_conflict", "order", "limit", "offset", "and", "or"):
                continue
            if value.split(".", 1)[0] not in _OPERATORS or "." not in value:
                raise PgrstError(400, "PGRST100", f'"failed to parse filter ({value})" (line 1, column 1)')

    @staticmethod
    def _negotiate(headers):
        # Negotiate.hs: the client's types by descending q; a function's JSON result is produced
        # for application/json and */* (Stripe sends "*/*; q=0.5, application/xml").
        accept = headers.get("accept")
        if accept is None:
            return
        ranked = []
        for i, part in enumerate(accept.split(",")):
            mt, *params = [p.strip() for p in part.split(";")]
            q = 1.0
            for p in params:
                if p.startswith("q="):
                    q = float(p[2:])
            ranked.append((-q, i, mt.lower()))
        if not any(mt in ("application/json", "*/*", "application/*") for _, _, mt in sorted(ranked)):
            raise PgrstError(406, "PGRST107", "None of these media types are available: " + accept)

    @staticmethod
    def _payload(body, headers, is_proc):
        """(raw bytes passed on, top-level keys): ApiRequest/Payload.hs for application/json."""
        ctype = headers.get("content-type", "application/json").split(";")[0].strip().lower()
        if ctype != "application/json":
            raise PgrstError(400, "PGRST102", "Content-Type not acceptable: " + ctype)
        if body == b"" and is_proc:
            return body, set()
        try:
            value = json.loads(body.decode("utf-8"), parse_constant=lambda c: 1 / 0)
        except (UnicodeDecodeError, ValueError, ZeroDivisionError):
            raise PgrstError(400, "PGRST102", "Empty or invalid json")
        if isinstance(value, dict):
            return body, set(value)
        if isinstance(value, list):
            if value and not all(isinstance(v, dict) and set(v) == set(value[0]) for v in value):
                raise PgrstError(400, "PGRST102", "All object keys must match")
            return body, set(value[0]) if value else set()
        return b"[]", set()  # a bare scalar is truncated to an empty array

    # -- Plan ----------------------------------------------------------------------------------

    def _routines(self, schema, name):
        # The schema cache lists every function of the exposed schemas, whatever its privileges.
        res = self._exec(
            "SELECT coalesce(p.proargnames, '{}'), coalesce(p.proargmodes::text[], '{}'), p.pronargs, "
            "       p.pronargdefaults, array(SELECT format_type(t, NULL) FROM unnest(p.proargtypes) t), "
            "       p.provolatile, p.proretset OR t.typtype = 'c' OR p.prorettype = 'record'::regtype "
            "FROM pg_proc p JOIN pg_type t ON t.oid = p.prorettype "
            "WHERE p.pronamespace = $1::regnamespace AND p.proname = $2 AND p.prokind = 'f'",
            [quote_ident(schema), name])
        out = []
        for r in range(res.ntuples):
            names, modes = _pg_array(res.get_value(r, 0)), _pg_array(res.get_value(r, 1))
            nargs, ndefaults = int(res.get_value(r, 2)), int(res.get_value(r, 3))
            types = _pg_array(res.get_value(r, 4))
            modes = modes or ["i"] * len(names)
            names = [n for n, m in zip(names, modes) if m in ("i", "b", "v")]  # IN parameters only
            names = (names + [""] * nargs)[:nargs]
            out.append({
                "params": [{"name": n, "type": t, "required": i < nargs - ndefaults}
                           for i, (n, t) in enumerate(zip(names, types))],
                "volatile": res.get_value(r, 5) == b"v",
                "returns_rows": res.get_value(r, 6) == b"t",
            })
        return out

    def _call(self, schema, name, method, body, headers):
        is_post = method == "POST"
        raw, keys = self._payload(body, headers, True) if is_post else (b"", set())
        matching, fallback = [], []
        for f in self._routines(schema, name):
            params = f["params"]
            required = {p["name"] for p in params if p["required"]}
            optional = {p["name"] for p in params if not p["required"]}
            if not params:
                matches = not keys
            else:
                matches = required <= keys and keys - required <= optional
            if matches:
                matching.append(f)
            elif is_post and len(params) == 1 and params[0]["name"] == "" and params[0]["type"] in ("json", "jsonb"):
                fallback.append(f)
        found = matching or fallback
        if not found:
            raise PgrstError(404, "PGRST202", f"Could not find the function {schema}.{name} in the schema cache")
        if len(found) > 1:
            raise PgrstError(300, "PGRST203", f"Could not choose the best candidate function {schema}.{name}")
        f = found[0]
        fn = f"{quote_ident(schema)}.{quote_ident(name)}"
        params, prefix = f["params"], ""
        if len(params) == 1 and params[0]["name"] == "":
            call, args = f"{fn}($1::{params[0]['type']})", [raw]   # the body, as it arrived
        elif params:
            given = [p for p in params if p["name"] in keys]
            cols = ", ".join(f"{quote_ident(p['name'])} {p['type']}" for p in given)
            named = ", ".join(f"{quote_ident(p['name'])} := pgrst_body.{quote_ident(p['name'])}" for p in given)
            call, args = f"{fn}({named})", [raw]
            prefix = f"json_to_record($1::json) AS pgrst_body({cols}), LATERAL "
        else:
            call, args = f"{fn}()", []
        source = (f"SELECT pgrst_call.* FROM {prefix}{call} pgrst_call" if f["returns_rows"] else
                  f"SELECT pgrst_call.pgrst_scalar FROM {prefix}(SELECT {call} pgrst_scalar) pgrst_call")
        agg = ("coalesce(json_agg(_postgrest_t), '[]')" if f["returns_rows"]
               else "coalesce(json_agg(_postgrest_t.pgrst_scalar)->0, 'null')")
        sql = (f"WITH pgrst_source AS ({source}) "
               f"SELECT null::bigint AS total_result_set, pg_catalog.count(_postgrest_t) AS page_total, "
               f"{agg} AS body, "
               f"nullif(current_setting('response.headers', true), '') AS response_headers, "
               f"nullif(current_setting('response.status', true), '') AS response_status, "
               f"'' AS response_inserted "
               f"FROM (SELECT * FROM pgrst_source) _postgrest_t")
        read_only = not is_post or not f["volatile"]
        return sql, args, read_only

    def _relation(self, schema, name, method, body, headers):
        rel = f"{quote_ident(schema)}.{quote_ident(name)}"
        if method == "GET":
            source, args, read_only = f"SELECT {rel}.* FROM {rel}", [], True
        elif method == "POST":
            raw, keys = self._payload(body, headers, False)
            cols = ", ".join(quote_ident(k) for k in sorted(keys))
            source = (f"INSERT INTO {rel} ({cols}) SELECT {cols} FROM "
                      f"json_populate_recordset(NULL::{rel}, $1::json) RETURNING 1")
            args, read_only = [raw], False
        elif method == "DELETE":
            source, args, read_only = f"DELETE FROM {rel} RETURNING 1", [], False
        else:
            raise PgrstError(405, "PGRST117", "Unsupported HTTP method: " + method)
        sql = (f"WITH pgrst_source AS ({source}) SELECT null::bigint AS total_result_set, "
               f"pg_catalog.count(_postgrest_t) AS page_total, coalesce(json_agg(_postgrest_t), '[]') AS body, "
               f"nullif(current_setting('response.headers', true), '') AS response_headers, "
               f"nullif(current_setting('response.status', true), '') AS response_status, '' AS response_inserted "
               f"FROM (SELECT * FROM pgrst_source) _postgrest_t")
        return sql, args, read_only

    # -- the transaction -----------------------------------------------------------------------

    def _run(self, schema, role, claims, method, path, headers, sql, params, read_only, authed):
        self.statements = []
        mode = "READ ONLY" if read_only else "READ WRITE"
        self._exec(f"BEGIN ISOLATION LEVEL READ COMMITTED {mode}")
        hdrs = {k: v for k, v in headers.items() if k != "cookie"}
        tx_vars = [("search_path", quote_ident(schema)), *self.role_settings.get(role, {}).items(), ("role", role),
                   ("request.jwt.claims", json.dumps(claims)), ("request.method", method),
                   ("request.path", path), ("request.headers", json.dumps(hdrs)),
                   ("request.cookies", "{}")]
        setup = "select " + ", ".join(f"set_config('{k}', ${i}, true)" for i, (k, _) in enumerate(tx_vars, 1))
        try:
            self._exec(setup, [v for _, v in tx_vars])
            res = self._exec(sql, params)
        except DbError as e:
            self._exec("ROLLBACK")
            return e.response(authed)
        body_col, hdr_col, status_col = (res.get_value(0, i) for i in (2, 3, 4))
        self._exec("COMMIT")
        out_headers = {"content-type": "application/json; charset=utf-8"}
        for h in json.loads(hdr_col) if hdr_col else []:
            out_headers.update({k.lower(): v for k, v in h.items()})
        return Response(int(status_col) if status_col else 200, json.loads(body_col), out_headers)

    def _exec(self, sql, params=None):
        self.statements.append((sql, params))
        if params is None:
            res = self.conn.exec_(sql.encode())
        else:
            values = [p if isinstance(p, bytes) else p.encode() for p in params]
            res = self.conn.exec_params(sql.encode(), values, [UNKNOWN] * len(values), [0] * len(values))
        if res.status == pq.ExecStatus.FATAL_ERROR:
            f = lambda name: (res.error_field(getattr(pq.DiagnosticField, name)) or b"").decode() or None
            raise DbError(f("SQLSTATE"), f("MESSAGE_PRIMARY"), f("MESSAGE_DETAIL"), f("MESSAGE_HINT"))
        assert res.status in (pq.ExecStatus.COMMAND_OK, pq.ExecStatus.TUPLES_OK), res.status
        return res


def _pg_array(value):
    """A one-dimensional text[] from its text form (names and type names only)."""
    inner = value.decode()[1:-1]
    if not inner:
        return []
    return [s[1:-1].replace('\\"', '"') if s.startswith('"') else s
            for s in re.findall(r'"(?:[^"\\]|\\.)*"|[^,]+', inner)]


# -- what Stripe sends ---------------------------------------------------------------------------

def sign(body, secret=WEBHOOK_SECRET, t=None):
    """Stripe-Signature for exact bytes: v1 = HMAC-SHA256(secret, "<t>." + body)."""
    t = int(time.time()) if t is None else t
    mac = hmac.new(secret.encode(), str(t).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def stripe_headers(signature):
    """The headers of a real Stripe delivery (Stripe cannot add others)."""
    h = {"Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-cache",
         "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
         "Accept": "*/*; q=0.5, application/xml"}
    if signature is not None:
        h["Stripe-Signature"] = signature
    return h


def deliver(api, body, signature="sign", path="/rpc/webhook", **kw):
    if signature == "sign":
        signature = sign(body)
    return api.post(path, body, stripe_headers(signature), **kw)


def customer_event(event_id="evt_pgrst_1", created=BASE_CREATED, email=None, n=1):
    c = make_customers(n)[n - 1]
    if email:
        c["email"] = email
    return make_event("customer.created", c, created, event_id)


def as_bytes(event, **dumps):
    return json.dumps(event, **dumps).encode()


# -- fixtures -----------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def pgrst_roles():
    with admin() as c:
        for role, login in ((AUTHENTICATOR, True), (ANON, False), (SUPA_ANON, False)):
            if not c.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone():
                c.execute(f"CREATE ROLE {role} {'LOGIN NOINHERIT' if login else 'NOLOGIN'}")
        c.execute(f"GRANT {ANON}, {SUPA_ANON} TO {AUTHENTICATOR}")
    return AUTHENTICATOR


@pytest.fixture
def owner(db, conn, pgrst_roles):
    """The owner's session with a webhook secret configured and the anonymous role granted."""
    conn.execute("SELECT stripe.add_webhook_secret(%s)", (WEBHOOK_SECRET,))
    conn.execute("SELECT stripe.grant_webhook_access(%s)", (ANON,))
    return conn


@pytest.fixture
def make_api(db, pgrst_roles):
    servers = []

    def make(schemas=("stripe",), anon_role=ANON, role_settings=None):
        s = PostgREST(db.dsn(AUTHENTICATOR), schemas, anon_role, role_settings)
        servers.append(s)
        return s

    yield make
    for s in servers:
        s.close()


@pytest.fixture
def api(owner, make_api):
    """PostgREST with db-schemas = stripe, db-anon-role = the webhook role."""
    return make_api()


def written(conn):
    """Tables of schema stripe that hold rows (the secrets are in schema stripe_secrets)."""
    tables = conn.execute(
        "SELECT c.relname, c.oid::regclass::text FROM pg_class c WHERE c.relnamespace = 'stripe'::regnamespace "
        "AND c.relkind IN ('r', 'p') ORDER BY 1").fetchall()
    return [(name,) for name, table in tables
            if conn.execute(f"SELECT EXISTS (SELECT FROM {table})").fetchone()[0]]


# -- accepted deliveries -------------------------------------------------------------------------

def test_valid_event_is_applied(api, owner):
    body = as_bytes(customer_event(), indent=2)
    r = deliver(api, body)
    assert r.status == 200, r.body
    assert r.body["result"] == "applied" and r.body["event_id"] == "evt_pgrst_1"
    assert r.headers["content-type"].startswith("application/json")
    assert owner.execute("SELECT email, synced_from FROM stripe.customers").fetchall() == [
        ("customer1@example.com", "evt_pgrst_1")]
    assert {("customers",), ("events",)} <= set(written(owner))  # (and what the customer embeds)
    # the call PostgREST makes: the body as an untyped parameter cast to the parameter's type
    sql, params = api.statements[-2]
    assert '"stripe"."webhook"($1::json)' in sql and params == [body]
    setup, values = api.statements[1]
    assert "set_config('role', $2, true)" in setup and values[1] == ANON
    assert json.loads(values[5])["stripe-signature"].startswith("t=")


def test_duplicate_stale_and_ignored_are_2xx(api, owner):
    first = as_bytes(customer_event("evt_pgrst_new", BASE_CREATED + 100))
    assert deliver(api, first).body["result"] == "applied"
    again = deliver(api, first)
    assert (again.status, again.body["result"]) == (200, "duplicate")
    older = as_bytes(make_event("customer.updated", make_customers(1)[0], BASE_CREATED, "evt_pgrst_old"))
    stale = deliver(api, older)
    assert (stale.status, stale.body["result"]) == (200, "stale")
    balance = make_event("balance.available", shape("balance"), BASE_CREATED, "evt_pgrst_balance")
    ignored = deliver(api, as_bytes(balance))
    assert (ignored.status, ignored.body["result"]) == (200, "ignored")
    assert owner.execute("SELECT id, status FROM stripe.events ORDER BY id").fetchall() == [
        ("evt_pgrst_balance", "ignored"), ("evt_pgrst_new", "applied"), ("evt_pgrst_old", "stale")]


def test_queued_is_2xx(db, owner, make_api):
    # stripe.ingest_mode = queue (the server's configuration): verified and recorded, applied later.
    owner.execute(f"ALTER DATABASE {db.name} SET stripe.ingest_mode = 'queue'")
    r = deliver(make_api(), as_bytes(customer_event("evt_pgrst_queued")))
    assert (r.status, r.body["result"]) == (200, "queued"), r.body
    assert owner.execute("SELECT status FROM stripe.events").fetchall() == [("pending",)]


def _spelled(event, spelling):
    """The same event serialized in ways jsonb would not preserve."""
    compact = json.dumps(event, separators=(",", ":"))
    if spelling == "compact":
        return compact.encode()
    if spelling == "whitespace":
        # tabs, CRLF, spaces before colons, leading and trailing whitespace
        return ("\r\n\t " + json.dumps(event, indent="\t", separators=(" ,\r\n", " :  ")) + "\n\n").encode()
    if spelling == "key_order":
        def reverse(v):
            if isinstance(v, dict):
                return {k: reverse(v[k]) for k in reversed(list(v))}
            return [reverse(x) for x in v] if isinstance(v, list) else v
        return json.dumps(reverse(event)).encode()
    if spelling == "unicode_escapes":
        event["data"]["object"]["name"] = "Zoë 😀 \u2028 Ω"
        event["data"]["object"]["description"] = 'quote " slash / back \\ tab \t'
        text = json.dumps(event, ensure_ascii=True)  # \u00eb, \ud83d\ude00 surrogate pair, \u2028
        return text.replace('"slash / back', '"slash \\/ back').replace("\\u00eb", "\\u00EB").encode()
    if spelling == "raw_utf8":
        event["data"]["object"]["name"] = "Zoë 😀 日本"
        return json.dumps(event, ensure_ascii=False).encode("utf-8")
    if spelling == "large_numbers":
        text = json.dumps(event)
        numbers = ('"x_numbers": [12345678901234567890123456789012345678901234567890, 1.0, 1.50, 1E+2, '
                   '1e400, -0, 0.000000000000000000001, 9007199254740993]')
        return text.replace('"pending_webhooks"', numbers + ', "pending_webhooks"', 1).encode()
    raise ValueError(spelling)


SPELLINGS = ["compact", "whitespace", "key_order", "unicode_escapes", "raw_utf8", "large_numbers"]


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_body_reaches_the_verifier_byte_for_byte(api, owner, make_api, spelling):
    event = customer_event(f"evt_pgrst_{spelling}")
    body = _spelled(event, spelling)
    assert json.loads(body)["id"] == event["id"]
    r = deliver(api, body)
    assert (r.status, r.body.get("result")) == (200, "applied"), r.body
    stored = owner.execute("SELECT data FROM stripe.events WHERE id = %s", (event["id"],)).fetchone()[0]
    assert stored["data"]["object"]["id"] == event["data"]["object"]["id"]
    if spelling in ("unicode_escapes", "raw_utf8"):
        assert owner.execute("SELECT name FROM stripe.customers").fetchone()[0] == json.loads(body)["data"]["object"]["name"]

    # Control: the same bytes through a jsonb parameter (which normalizes them) are rejected, so
    # the acceptance above is the signature matching the exact body, not a lenient check.
    owner.execute("CREATE FUNCTION public.webhook_jsonb(jsonb) RETURNS jsonb LANGUAGE sql "
                  "AS $$ SELECT stripe.webhook($1::json) $$")
    other = make_api(schemas=("public",))
    again = event.copy()
    again["id"] += "_jsonb"
    r = deliver(other, _spelled(again, spelling), path="/rpc/webhook_jsonb")
    assert r.status == 400 and r.body["code"] == "PT400", r.body
    assert "signature" in r.body["message"]


def test_stripe_accept_header_gets_json(api):
    # Stripe prefers application/xml; PostgREST answers JSON under */*.
    assert deliver(api, as_bytes(customer_event())).headers["content-type"].startswith("application/json")


# -- rejections: every one answered with its status; nothing written but the request's log line -

def only_logged(conn, result, sqlstate=None):
    """What a failed delivery leaves: its line in stripe.webhook_requests, nothing else."""
    assert written(conn) == [("webhook_requests",)]
    row = conn.execute("SELECT result, sqlstate FROM stripe.webhook_requests ORDER BY id DESC LIMIT 1").fetchone()
    assert row[0] == result and (sqlstate is None or row[1] == sqlstate), row


def _rejections():
    event = customer_event("evt_pgrst_rejected")
    body = as_bytes(event, indent=2)
    now = int(time.time())
    not_event = json.dumps(shape("customer")).encode()
    return {
        "missing signature": (body, None, 400, "PT400", "28000"),
        "garbage signature": (body, "garbage", 400, "PT400", "28000"),
        "wrong secret": (body, sign(body, "whsec_someoneelse"), 400, "PT400", "28000"),
        "v0 only": (body, f"t={now},v0={'0' * 64}", 400, "PT400", "28000"),
        "body altered after signing": (body.replace(b"customer1@", b"customerX@"), sign(body), 400, "PT400", "28000"),
        "body re-serialized": (json.dumps(event).encode(), sign(body), 400, "PT400", "28000"),
        "timestamp too old": (body, sign(body, t=now - 3600), 400, "PT400", "28000"),
        "timestamp in the future": (body, sign(body, t=now + 3600), 400, "PT400", "28000"),
        "signed but not an event": (not_event, sign(not_event), 400, "PT400", "22023"),
        "signed JSON array": (b"[]", sign(b"[]"), 400, "PT400", "22023"),
        "not JSON": (b"{not json", sign(b"{not json"), 400, "PGRST102", None),
        "JSON scalar": (b'"evt"', sign(b'"evt"'), 400, "PT400", "28000"),  # PostgREST passes []
        "empty body": (b"", sign(b""), 400, "22P02", None),
        "too large": (b'{"id": "' + b"x" * (1 << 20) + b'"}', None, 413, "PT413", None),
    }


REJECTIONS = _rejections()


@pytest.mark.parametrize("case", list(REJECTIONS))
def test_rejection(api, owner, case):
    body, signature, status, code, sqlstate = REJECTIONS[case]
    r = deliver(api, body, signature)
    assert (r.status, r.body["code"]) == (status, code), r.body
    if sqlstate:
        assert f"SQLSTATE {sqlstate}" in r.body["details"]
    if code.startswith("PT"):
        assert r.body["message"].startswith("stripe.webhook: ")
        # PostgREST takes a PTxyz response's reason phrase from the message: one short ASCII line
        assert re.fullmatch(r"[ -~]{1,80}", r.body["message"])
    assert_no_secret(r.text, WEBHOOK_SECRET, API_KEY)
    if code.startswith("PT"):
        only_logged(owner, "rejected", sqlstate or code)
    else:
        assert written(owner) == []  # PostgREST refused it before calling the function


def test_too_large_says_so(api, owner):
    r = deliver(api, REJECTIONS["too large"][0], None)
    assert r.body["message"] == "stripe.webhook: request body too large"
    assert "limit is 1048576 bytes" in r.body["details"]


def test_no_secret_configured_is_500(conn, make_api, pgrst_roles):
    conn.execute("SELECT stripe.grant_webhook_access(%s)", (ANON,))
    r = deliver(make_api(), as_bytes(customer_event()))
    assert (r.status, r.body["code"]) == (500, "PT500"), r.body
    assert "SQLSTATE 55000" in r.body["details"] and "add_webhook_secret" in r.body["hint"]
    only_logged(conn, "failed", "55000")


def _subscription_with_truncated_items():
    sub = shape("subscription")
    item = sub["items"]["data"][0]
    sub.update(id="sub_pgrst_1", customer="cus_pgrst_1", created=BASE_CREATED)
    items = []
    for i in range(10):
        it = json.loads(json.dumps(item))
        it.update(id=f"si_pgrst_{i:02d}", subscription="sub_pgrst_1")
        items.append(it)
    sub["items"] = {"object": "list", "data": items, "has_more": True, "total_count": 12,
                    "url": "/v1/subscription_items?subscription=sub_pgrst_1"}
    return make_event("customer.subscription.updated", sub, BASE_CREATED + 10, "evt_pgrst_sub")


def test_stripe_unreachable_is_502(db, owner, make_api):
    # Completing a truncated nested list needs the API; here nothing listens. Settings are the
    # server's (superuser) configuration, seen by the authenticator's sessions.
    owner.execute(f"ALTER DATABASE {db.name} SET stripe.api_base = 'http://127.0.0.1:9'")
    owner.execute(f"ALTER DATABASE {db.name} SET stripe.max_retries = 0")
    r = deliver(make_api(), as_bytes(_subscription_with_truncated_items()))
    assert (r.status, r.body["code"]) == (502, "PT502"), r.body
    assert "SQLSTATE 08006" in r.body["details"]
    assert_no_secret(r.text, API_KEY, WEBHOOK_SECRET)
    only_logged(owner, "failed", "08006")


def test_stripe_api_error_is_502(db, owner, make_api, fake_api):
    owner.execute(f"ALTER DATABASE {db.name} SET stripe.api_base = '{fake_api.url}'")
    owner.execute(f"ALTER DATABASE {db.name} SET stripe.max_retries = 0")
    fake_api.script(Reply.stripe_error(401, f"Invalid API Key provided: {API_KEY}"))
    r = deliver(make_api(), as_bytes(_subscription_with_truncated_items()))
    assert (r.status, r.body["code"]) == (502, "PT502"), r.body
    assert "SQLSTATE 38000" in r.body["details"]
    assert_no_secret(r.text, API_KEY, WEBHOOK_SECRET)
    only_logged(owner, "failed", "38000")


def test_statement_timeout_is_a_5xx(owner, make_api):
    # A cancelled statement stays one (57014), which PostgREST answers 500, never a 4xx.
    owner.execute("CREATE FUNCTION public.slow() RETURNS trigger LANGUAGE plpgsql AS "
                  "$$ BEGIN PERFORM pg_sleep(0.5); RETURN NEW; END $$")
    owner.execute("CREATE TRIGGER slow BEFORE INSERT ON stripe.events FOR EACH ROW EXECUTE FUNCTION public.slow()")
    api = make_api(role_settings={ANON: {"statement_timeout": "100ms"}})
    r = deliver(api, as_bytes(customer_event()))
    assert (r.status, r.body["code"]) == (500, "57014"), r.body
    assert written(owner) == []


# -- Supabase: PostgREST behind an API gateway, exposing public ---------------------------------

SUPABASE_WRAPPER = """
CREATE FUNCTION public.stripe_webhook(json) RETURNS jsonb
LANGUAGE sql AS $$ SELECT stripe.webhook($1) $$;
"""


def supabase_gateway(api, query, body, headers):
    """Hosted Supabase's gateway: takes the apikey query parameter, which Stripe can send (it
    cannot send headers), off the URL and passes the request on as the key's role (anon)."""
    kept = "&".join(p for p in query.split("&") if p and not p.startswith("apikey="))
    claims = {"role": SUPA_ANON, "iss": "supabase"} if "apikey=" in query else None
    return api.post("/rpc/stripe_webhook", body, headers, query=kept, claims=claims)


def test_supabase_wrapper_in_public(owner, make_api):
    owner.execute(SUPABASE_WRAPPER)
    owner.execute("SELECT stripe.grant_webhook_access(%s)", (SUPA_ANON,))
    api = make_api(schemas=("public",), anon_role=SUPA_ANON)
    body = as_bytes(customer_event("evt_supabase_1"), indent=2)
    r = supabase_gateway(api, "apikey=sb_publishable_e2e", body, stripe_headers(sign(body)))
    assert (r.status, r.body["result"]) == (200, "applied"), r.body
    r = supabase_gateway(api, "apikey=sb_publishable_e2e", body, stripe_headers("t=1,v1=00"))
    assert (r.status, r.body["code"]) == (400, "PT400"), r.body
    # A gateway that passes ?apikey= on (the local Supabase CLI, supabase/supabase#28930) fails
    # in PostgREST's query parsing: locally, send the key as a header instead.
    r = api.post("/rpc/stripe_webhook", body, stripe_headers(sign(body)), query="apikey=sb_publishable_e2e")
    assert (r.status, r.body["code"]) == (400, "PGRST100"), r.body
    # Exposing stripe as well (Accept-Profile / Content-Profile) reaches nothing more.
    both = make_api(schemas=("public", "stripe"), anon_role=SUPA_ANON)
    r = both.request("GET", "/customers", headers={"Accept-Profile": "stripe"})
    assert r.status == 401, r.body
    r = both.post("/rpc/sync", b'{"object_type": "customer"}', {"Content-Profile": "stripe"})
    assert r.status == 401, r.body
