"""Fixtures for the end-to-end tests. run.sh starts Postgres (with djstripe_pg installed) and
localstripe and passes them in through E2E_* variables; the fixture server and the webhook
receiver run in-process on threads.

Every test gets a database of its own, copied from a template in which the extension is created
and the roles below are granted what an installation would grant them. A copy is cheaper than
DROP/CREATE EXTENSION and leaves nothing behind from one test to the next.
"""

import contextlib
import itertools
import json
import os
import secrets
import urllib.parse
import urllib.request

import psycopg
import pytest
import stripe
from psycopg.conninfo import make_conninfo

# Asserts in these helpers then show their values on failure, like asserts in the tests.
pytest.register_assert_rewrite("expected_columns", "sql_errors", "column_docs")

from fixture_server import FixtureServer
from receiver import Receiver

# Session fixtures of the catalog tests: the world of every type, synced once.
pytest_plugins = ["catalog_fixtures"]

TEMPLATE = "djstripe_e2e_template"
# Fresh per run, so a leak check can search for them and never match anything else.
API_KEY = "sk_test_e2e" + secrets.token_hex(16)
WEBHOOK_SECRET = "whsec_e2e" + secrets.token_hex(16)
WEBHOOK_ROLE = "e2e_webhook"   # what a webhook endpoint connects as: EXECUTE on ingest_webhook only
READER_ROLE = "reader"         # reads the mirror, may ingest webhooks, nothing else
MIRROR_TABLES = ["customers", "products", "prices", "events", "sync_runs"]
# E2E_UPGRADE_FROM=0.1.0: every database starts at that release (its frozen install script, in
# releases/) and is updated with ALTER EXTENSION … UPDATE, so the suite runs on upgraded schemas.
UPGRADE_FROM = os.environ.get("E2E_UPGRADE_FROM") or None


def create_extension(c):
    """CREATE EXTENSION djstripe_pg, or the release E2E_UPGRADE_FROM names updated to this one."""
    if UPGRADE_FROM:
        c.execute(f"CREATE EXTENSION djstripe_pg VERSION '{UPGRADE_FROM}'")
        c.execute("ALTER EXTENSION djstripe_pg UPDATE")
    else:
        c.execute("CREATE EXTENSION djstripe_pg")


def pytest_configure(config):
    missing = [v for v in ("E2E_PG_DSN", "E2E_LOCALSTRIPE_URL") if not os.environ.get(v)]
    if missing:
        raise pytest.UsageError(f"{', '.join(missing)} not set: run the e2e tests with tests/e2e/run.sh")


ADMIN_DSN = os.environ.get("E2E_PG_DSN", "")
LOCALSTRIPE_URL = os.environ.get("E2E_LOCALSTRIPE_URL", "")


class Database:
    def __init__(self, name):
        self.name = name

    def dsn(self, user="postgres"):
        return make_conninfo(ADMIN_DSN, dbname=self.name, user=user)

    def connect(self, user="postgres"):
        """An autocommit connection that collects its NOTICEs in conn.notices."""
        conn = psycopg.connect(self.dsn(user), autocommit=True)
        conn.notices = []
        conn.add_notice_handler(lambda diag: conn.notices.append(diag.message_primary))
        return conn


def admin():
    return psycopg.connect(ADMIN_DSN, autocommit=True)


@pytest.fixture(scope="session")
def template():
    with admin() as c:
        for role in (WEBHOOK_ROLE, READER_ROLE):
            if not c.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone():
                c.execute(f"CREATE ROLE {role} LOGIN")
        c.execute(f"DROP DATABASE IF EXISTS {TEMPLATE} WITH (FORCE)")
        c.execute(f"CREATE DATABASE {TEMPLATE}")
    with psycopg.connect(make_conninfo(ADMIN_DSN, dbname=TEMPLATE), autocommit=True) as c:
        create_extension(c)
        c.execute(f"GRANT USAGE ON SCHEMA stripe TO {WEBHOOK_ROLE}, {READER_ROLE}")
        c.execute(f"GRANT EXECUTE ON FUNCTION stripe.ingest_webhook(text, text) TO {WEBHOOK_ROLE}, {READER_ROLE}")
        tables = ", ".join(f"stripe.{t}" for t in MIRROR_TABLES)
        c.execute(f"GRANT SELECT ON {tables} TO {READER_ROLE}")
    yield TEMPLATE
    with admin() as c:
        c.execute(f"DROP DATABASE IF EXISTS {TEMPLATE} WITH (FORCE)")


_db_numbers = itertools.count(1)


@contextlib.contextmanager
def scratch_database(template):
    """A database of its own copied from the template, dropped afterwards: for fixtures of a
    wider scope than one test."""
    d = Database(f"djstripe_e2e_{os.getpid()}_{next(_db_numbers)}")
    with admin() as c:
        c.execute(f"CREATE DATABASE {d.name} TEMPLATE {template}")
    try:
        yield d
    finally:
        with admin() as c:
            c.execute(f"DROP DATABASE IF EXISTS {d.name} WITH (FORCE)")


@pytest.fixture
def db(template):
    with scratch_database(template) as d:
        yield d


@pytest.fixture
def conn(db):
    """The extension owner's session, with the API key set."""
    with db.connect() as c:
        c.execute("SELECT stripe.set_api_key(%s)", (API_KEY,))
        yield c


# -- the fixture server -------------------------------------------------------------------------

@pytest.fixture(scope="session")
def _fixture_server():
    server = FixtureServer().start()
    yield server
    server.stop()


@pytest.fixture
def fake_api(_fixture_server, conn):
    """The fixture server, emptied, with the session's stripe.api_base pointing at it."""
    _fixture_server.reset()
    conn.execute("SELECT set_config('stripe.api_base', %s, false)", (_fixture_server.url,))
    yield _fixture_server
    _fixture_server.reset()


# -- localstripe --------------------------------------------------------------------------------

def localstripe_config(method, path, form=None):
    data = None if form is None else urllib.parse.urlencode(form).encode()
    req = urllib.request.Request(LOCALSTRIPE_URL + path, data=data, method=method)
    with urllib.request.urlopen(req, timeout=10) as r:
        assert r.status == 200, (path, r.status)


@pytest.fixture
def localstripe(conn):
    """The official stripe client and the session both pointed at an emptied localstripe."""
    localstripe_config("DELETE", "/_config/data")
    stripe.api_base = LOCALSTRIPE_URL
    stripe.api_key = API_KEY
    stripe.max_network_retries = 0
    conn.execute("SELECT set_config('stripe.api_base', %s, false)", (LOCALSTRIPE_URL,))
    return stripe


def api_json(obj):
    """The exact JSON the API answered for a stripe-python object (not the library's view)."""
    return json.loads(obj.last_response.body)


# -- webhooks -----------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def _receiver():
    r = Receiver().start()
    # localstripe POSTs every event to every registered URL, signed with this secret.
    localstripe_config("POST", "/_config/webhooks/e2e", {"url": r.url, "secret": WEBHOOK_SECRET})
    yield r
    r.target(None)
    r.stop()


@pytest.fixture
def receiver(_receiver, db, conn):
    """The receiver delivering into this test's database as the webhook role."""
    conn.execute("SELECT stripe.add_webhook_secret(%s)", (WEBHOOK_SECRET,))
    _receiver.target(db.dsn(WEBHOOK_ROLE))
    yield _receiver
    _receiver.target(None)
