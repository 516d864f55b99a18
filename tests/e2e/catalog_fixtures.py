"""Session fixtures shared by the catalog tests (loaded from conftest.py as a plugin): the world
of every catalog type (fixture_catalog), a fixture server serving it, and a database synced from
it one type at a time in catalog order, with what each sync returned and requested.

Syncing the world takes a few seconds, so it is done once and only read afterwards; tests that
change what the API serves use a server and a database of their own.
"""

from dataclasses import dataclass, field

import psycopg
import pytest

from conftest import API_KEY, scratch_database
from fixture_catalog import CHILDREN, COUNTS, TOP_BY_NAME, build_world
from fixture_server import FixtureServer

# Most lists are served 4 to a page (below the limit=100 the extension asks for, as Stripe may),
# so that 9 objects take 3 pages; the 150-object lists use Stripe's own 100.
PAGE_SIZE = 4


def serve_world(server, world, page_size=PAGE_SIZE):
    server.reset()
    server.serve_many(world.routes, ordered=world.ordered, page_size=page_size)
    for name in COUNTS:
        if COUNTS[name] > 100:
            server.set_page_size(TOP_BY_NAME[name].path, None)


def catalog_order(conn):
    """[(name, table, endpoint, parent)] in the catalog's order (the view's)."""
    return conn.execute("SELECT object_type, table_name, endpoint, parent FROM stripe.object_types").fetchall()


def connect_to(db, server):
    conn = db.connect()
    conn.execute("SELECT stripe.set_api_key(%s)", (API_KEY,))
    conn.execute("SELECT set_config('stripe.api_base', %s, false)", (server.url,))
    return conn


@dataclass
class SyncOutcome:
    result: object                     # objects synced, or the psycopg error raised
    requests: list                     # fixture-server requests during the sync
    notices: list
    children_after: dict = field(default_factory=dict)  # child table -> {(id, parent)} right after


@dataclass
class SyncedCatalog:
    world: object
    server: FixtureServer
    db: object
    conn: object
    order: list
    outcomes: dict                     # type name -> SyncOutcome


@pytest.fixture(scope="session")
def catalog_world():
    return build_world()


@pytest.fixture(scope="session")
def catalog_api(catalog_world):
    server = FixtureServer().start()
    serve_world(server, catalog_world)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def synced_catalog(template, catalog_world, catalog_api):
    """A database into which every listable type was synced, parents first."""
    with scratch_database(template) as db, connect_to(db, catalog_api) as conn:
        order = catalog_order(conn)
        outcomes = {}
        inline_children = {c.parent: [] for c in CHILDREN if c.inline}
        for c in CHILDREN:
            if c.inline:
                inline_children[c.parent].append(c)
        for name, _table, endpoint, _parent in order:
            if endpoint is None:
                continue
            catalog_api.requests.clear()
            conn.notices.clear()
            try:
                result = conn.execute("SELECT stripe.sync(%s)", (name,)).fetchone()[0]
            except psycopg.Error as e:
                result = e
            outcome = SyncOutcome(result, list(catalog_api.requests), list(conn.notices))
            for c in inline_children.get(name, []):
                outcome.children_after[c.table] = set(
                    conn.execute(f"SELECT id, {c.column} FROM stripe.{c.table}").fetchall())
            outcomes[name] = outcome
        yield SyncedCatalog(catalog_world, catalog_api, db, conn, order, outcomes)
