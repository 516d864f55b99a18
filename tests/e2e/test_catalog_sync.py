"""Every catalog type round-trips through stripe.sync: the fixture server serves every list
endpoint (per-parent ones and nested lists' urls included) from Stripe's example objects, several
pages each, and the mirror must then hold every object exactly: data, each typed column as its
COMMENT documents it, the parent column of child rows, and every entry of nested lists longer
than the 10 Stripe inlines."""

import math
from datetime import datetime, timezone

import pytest

from catalog_fixtures import PAGE_SIZE, catalog_order, connect_to, serve_world
from column_docs import assert_table_matches, table_columns
from conftest import scratch_database
from fixture_catalog import CHILD_BY_NAME, CHILDREN, INLINE, TOP, TOP_BY_NAME, UNLISTED, build_world, catalog_names
from fixture_server import FixtureServer
from sql_errors import error_text, sql_error

LISTABLE = [t.name for t in TOP] + [c.name for c in CHILDREN]
INLINE_CHILDREN = [c.name for c in CHILDREN if c.inline]


def routes_of(name, world):
    """The list routes stripe.sync(name) must page through."""
    if name in TOP_BY_NAME:
        return [TOP_BY_NAME[name].path]
    c = CHILD_BY_NAME[name]
    return [c.route.format(parent=p["id"]) for p in world.objects[c.parent] if not p.get("deleted")]


def request_route(req, routes):
    """Which of `routes` a request was for (its path and required query), or None."""
    for r in routes:
        path, _, query = r.partition("?")
        if req.path == path and all(req.query.get(k) == v for k, v in
                                    (kv.split("=", 1) for kv in query.split("&") if kv)):
            return r
    return None


# -- the catalog the tests know is the catalog the extension has ---------------------------------

def test_fixtures_cover_every_catalog_type(synced_catalog):
    conn = synced_catalog.conn
    rows = conn.execute("SELECT object_type, table_name, endpoint, parent, created_filter "
                        "FROM stripe._catalog() ORDER BY ord").fetchall()
    assert {r[0] for r in rows} == catalog_names(), "a catalog type has no fixture here (or a fixture no type)"
    for name, table, endpoint, parent, created_filter in rows:
        if name in TOP_BY_NAME:
            t = TOP_BY_NAME[name]
            assert (table, endpoint, parent, created_filter) == (t.table, t.path, None, t.created_filter), name
        elif name in CHILD_BY_NAME:
            c = CHILD_BY_NAME[name]
            assert (table, endpoint, parent, created_filter) == (c.table, c.route, c.parent, False), name
        else:
            assert (table, endpoint) == (UNLISTED[name], None), name
    # parents come before their children, so sync_all fills parents first
    position = {r[0]: i for i, r in enumerate(rows)}
    for c in CHILDREN:
        assert position[c.parent] < position[c.name], c.name


# -- each type, synced on its own, parents first -------------------------------------------------

@pytest.mark.parametrize("name", LISTABLE)
def test_sync_round_trips(synced_catalog, name):
    world, conn = synced_catalog.world, synced_catalog.conn
    outcome = synced_catalog.outcomes[name]
    assert not isinstance(outcome.result, Exception), f"stripe.sync('{name}') failed: {error_text(outcome.result)}"
    assert outcome.result == world.count(name)

    # Every page asked for the most Stripe gives (100), followed starting_after, and the pages
    # recorded are the requests made to the type's own lists.
    routes = routes_of(name, world)
    own = [r for r in outcome.requests if request_route(r, routes)]
    assert {r.query.get("limit") for r in own} == {"100"}
    first_pages = [request_route(r, routes) for r in own if "starting_after" not in r.query]
    assert sorted(first_pages) == sorted(routes), "each list (each parent's) is listed exactly once"
    expected_pages = 0
    for route in routes:
        n = len(world.routes[route])
        size = PAGE_SIZE if n <= 100 else 100
        expected_pages += max(1, math.ceil(n / size))
    assert len(own) == expected_pages
    runs = conn.execute("SELECT objects, pages, since FROM stripe.sync_runs WHERE object_type = %s",
                        (name,)).fetchone()
    assert runs == (world.count(name), expected_pages, None)
    if name == "subscription":  # canceled subscriptions are only listed when asked for
        assert {r.query.get("status") for r in own} == {"all"}

    # The mirror holds exactly the world's objects: data, typed columns, parent column.
    table = (TOP_BY_NAME.get(name) or CHILD_BY_NAME[name]).table
    assert_table_matches(conn, table, world.rows(table))
    if name == "event":  # events listed from the Events API are recorded, not applied
        assert conn.execute("SELECT DISTINCT status FROM stripe.events").fetchall() == [("recorded",)]


@pytest.mark.parametrize("name", INLINE_CHILDREN)
def test_parent_sync_stores_every_nested_entry(synced_catalog, name):
    """Right after syncing the parent type (before the child type's own sync), the child table
    holds every entry of every nested list the parents carried, also past the inline 10."""
    world = synced_catalog.world
    c = CHILD_BY_NAME[name]
    parents = world.objects[c.parent]
    carried = [p for p in parents if isinstance(p.get(c.inline), dict)]
    assert any(p[c.inline]["has_more"] for p in carried), "the fixture has a truncated list"
    expected = {(k["id"], p["id"]) for p in carried for k in world.children[name][p["id"]]}
    assert len(expected) > INLINE
    after = synced_catalog.outcomes[c.parent].children_after[c.table]
    assert after == expected
    # the truncated lists were completed through their own url, continuing after the inline 10
    outcome = synced_catalog.outcomes[c.parent]
    for p in carried:
        url = p[c.inline]["url"]
        reqs = [r for r in outcome.requests if request_route(r, [url])]
        assert bool(reqs) == p[c.inline]["has_more"], (p["id"], url)


def test_sync_all_types_with_a_nested_list_were_checked(synced_catalog):
    # INLINE_CHILDREN must cover every parent field the catalog replaces from (invoice.lines,
    # credit_note.lines, subscription.items, transfer.reversals, application_fee.refunds,
    # checkout.session.line_items).
    assert sorted(INLINE_CHILDREN) == sorted(["subscription_item", "line_item", "credit_note_line_item",
                                              "checkout.session.line_item", "fee_refund", "transfer_reversal"])


def test_types_without_a_list_endpoint_are_skipped(synced_catalog):
    conn = synced_catalog.conn
    for name in UNLISTED:
        e = sql_error(conn, "SELECT stripe.sync(%s)", (name,))
        assert e.sqlstate == "0A000", error_text(e)
        assert "skipped" in e.diag.message_primary and name in e.diag.message_primary
    # Discounts still arrive, embedded in the customers, subscriptions and invoices carrying them.
    world = synced_catalog.world
    assert len(world.discounts) > 3
    assert_table_matches(conn, "discounts", world.rows("discounts"))
    assert conn.execute("SELECT count(*) FROM stripe.mandates").fetchone()[0] == 0


def test_no_child_row_without_its_parent(synced_catalog):
    conn = synced_catalog.conn
    for c in CHILDREN:
        parent_table = (TOP_BY_NAME.get(c.parent) or CHILD_BY_NAME[c.parent]).table
        orphans = conn.execute(
            f"SELECT c.id, c.{c.column} FROM stripe.{c.table} c "
            f"WHERE c.{c.column} IS NULL OR NOT EXISTS (SELECT 1 FROM stripe.{parent_table} p WHERE p.id = c.{c.column})"
        ).fetchall()
        assert orphans == [], c.table


def test_every_generated_column_documents_its_path(synced_catalog):
    """The check above reads each column's COMMENT; a generated column without one (or with one
    naming no JSON path) cannot be checked, and a reader of the schema cannot know it either."""
    conn = synced_catalog.conn
    undocumented = []
    for name, table, _endpoint, _parent in synced_catalog.order:
        for col in table_columns(conn, table):
            if col.generated and not (col.comment or "").startswith(("data.", "true once Stripe deleted")):
                undocumented.append(f"stripe.{table}.{col.name}: {col.comment!r}")
    assert undocumented == [], "\n".join(undocumented)


# -- a second sync after nested lists lost entries ------------------------------------------------

SHRUNK = {
    "line_item": {1: 15, 3: 6},            # 25 -> 15: still truncated; 10 -> 6: now all inline
    "subscription_item": {1: 4},           # 13 (truncated) -> 4 (all inline)
    "credit_note_line_item": {1: 11},      # 14 -> 11, still truncated
    "transfer_reversal": {1: 0},           # 11 -> none
    "fee_refund": {1: 10},                 # 12 -> exactly the inline 10, has_more false
    "checkout.session.line_item": {1: 5},  # 12 -> 5
}


def test_second_sync_removes_child_rows_a_nested_list_lost(template):
    before, after = build_world(), build_world(SHRUNK)
    parents = sorted({CHILD_BY_NAME[n].parent for n in SHRUNK}, key=lambda n: LISTABLE.index(n))
    server = FixtureServer().start()
    try:
        with scratch_database(template) as db, connect_to(db, server) as conn:
            for world in (before, after):
                serve_world(server, world)
                for p in parents:
                    assert conn.execute("SELECT stripe.sync(%s)", (p,)).fetchone()[0] == world.count(p)
                for name in SHRUNK:
                    c = CHILD_BY_NAME[name]
                    carried = {p["id"] for p in world.objects[c.parent] if isinstance(p.get(c.inline), dict)}
                    expected = {k: v for k, v in world.rows(c.table).items() if v[1] in carried}
                    assert_table_matches(conn, c.table, expected, what=f" (after the {'second' if world is after else 'first'} sync)")
            # the entries gone are gone, not kept as orphans or flagged
            gone = {k for name in SHRUNK for k in before.rows(CHILD_BY_NAME[name].table)} - \
                   {k for name in SHRUNK for k in after.rows(CHILD_BY_NAME[name].table)}
            assert len(gone) == 10 + 4 + 9 + 3 + 11 + 2 + 7
            for name in SHRUNK:
                table = CHILD_BY_NAME[name].table
                left = conn.execute(f"SELECT id FROM stripe.{table} WHERE id = ANY(%s)", (sorted(gone),)).fetchall()
                assert left == [], table
    finally:
        server.stop()


def test_second_per_parent_sync_flags_children_gone_from_their_lists(template):
    """tax IDs are listed per customer; one deleted at Stripe no longer appears under its
    customer, and the next full sync flags its row deleted (keeping its last state)."""
    world = build_world()
    server = FixtureServer().start()
    try:
        serve_world(server, world)
        with scratch_database(template) as db, connect_to(db, server) as conn:
            assert conn.execute("SELECT stripe.sync('customer')").fetchone()[0] == 150
            assert conn.execute("SELECT stripe.sync('tax_id')").fetchone()[0] == 15
            customer5 = world.objects["customer"][4]["id"]
            route = f"/v1/customers/{customer5}/tax_ids"
            kept = world.routes[route][:3]
            gone = world.routes[route][3:]
            server.serve(route, kept, sort=False, page_size=PAGE_SIZE)
            assert conn.execute("SELECT stripe.sync('tax_id')").fetchone()[0] == 13
            assert conn.execute("SELECT marked_deleted FROM stripe.sync_runs WHERE object_type = 'tax_id'"
                                ).fetchone()[0] == 2
            expected = world.rows("tax_ids")
            for t in gone:
                expected[t["id"]] = ({**t, "deleted": True}, customer5)
            assert_table_matches(conn, "tax_ids", expected)
    finally:
        server.stop()


# -- sync_all, object_types, since ---------------------------------------------------------------

CONNECT_MESSAGE = ("You can only create new accounts if you've signed up for Connect, which you can learn "
                   "how to do at https://stripe.com/docs/connect.")
ISSUING_MESSAGE = ("Your account is not set up to use Issuing. Please visit "
                   "https://dashboard.stripe.com/issuing/overview to get started.")


def test_sync_all_reports_each_type_and_object_types_shows_the_mirror(template):
    world = build_world()
    server = FixtureServer().start()
    problems = []  # every type is checked; all differences are reported together

    def check(ok, what):
        if not ok:
            problems.append(what)

    try:
        serve_world(server, world)
        server.fail("/v1/accounts", 400, CONNECT_MESSAGE)
        server.fail("/v1/issuing/cardholders", 400, ISSUING_MESSAGE)
        with scratch_database(template) as db, connect_to(db, server) as conn:
            order = catalog_order(conn)
            listable = [r[0] for r in order if r[2] is not None]
            assert set(listable) == set(LISTABLE)

            rows = conn.execute("SELECT object_type, objects, pages, seconds, status, error "
                                "FROM stripe.sync_all()").fetchall()
            assert [r[0] for r in rows] == listable, "one row per listable type, in catalog order"
            skipped = {"account": CONNECT_MESSAGE, "issuing.cardholder": ISSUING_MESSAGE}
            for name, objects, pages, seconds, status, error in rows:
                check(seconds is not None and seconds >= 0, f"{name}: seconds {seconds}")
                if name in skipped:
                    check((status, objects, pages) == ("skipped", None, None), f"{name}: {status} {objects} {pages}")
                    check(skipped[name] in (error or "") and "400" in (error or ""), f"{name}: error {error!r}")
                elif name == "external_account":
                    # no accounts were mirrored: no parents to list external accounts under
                    check((status, error, objects, pages) == ("ok", None, 0, 0),
                          f"{name}: {status} {objects} objects {pages} pages, error {error!r}")
                else:
                    check((status, error) == ("ok", None), f"{name}: {status}, error {error!r}")
                    check(status != "ok" or (objects == world.count(name) and pages >= 1),
                          f"{name}: {objects} objects in {pages} pages, expected {world.count(name)}")

            types = conn.execute("SELECT object_type, table_name, row_count, last_synced, last_sync_objects "
                                 "FROM stripe.object_types").fetchall()
            assert [t[0] for t in types] == [r[0] for r in order]
            outcome = {r[0]: r for r in rows}
            for name, table, row_count, last_synced, last_objects in types:
                check(row_count == conn.execute(f"SELECT count(*) FROM stripe.{table}").fetchone()[0],
                      f"object_types.row_count of {name}")
                if name in UNLISTED or outcome[name][4] != "ok":
                    check((last_synced, last_objects) == (None, None), f"{name}: last synced {last_synced}")
                else:
                    check(last_synced is not None and last_objects == outcome[name][1],
                          f"{name}: last_synced {last_synced}, last_sync_objects {last_objects}")
            counts = {t[0]: t[2] for t in types}
            check(counts["account"] == counts["issuing.cardholder"] == counts["external_account"] == 0,
                  "skipped types have no rows")
            check(counts["customer"] == 150 and counts["line_item"] == world.count("line_item")
                  and counts["subscription_item"] == world.count("subscription_item"), f"row counts {counts}")
            check(counts["discount"] == len(world.discounts), f"{counts['discount']} discounts")

            # since: types Stripe can filter by created get created[gte]; the others a full list
            since = world.objects["invoice"][11]["created"]
            server.requests.clear()
            rows = conn.execute("SELECT object_type, objects, status, error FROM stripe.sync_all(%s)",
                                (datetime.fromtimestamp(since, timezone.utc),)).fetchall()
            for name, objects, status, error in rows:
                if name in skipped:
                    check(status == "skipped", f"since: {name}: {status}")
                    continue
                reqs = [r for r in server.requests if request_route(r, routes_of(name, world))]
                if name in TOP_BY_NAME and TOP_BY_NAME[name].created_filter:
                    check(reqs and {r.query.get("created[gte]") for r in reqs} == {str(since)},
                          f"since: {name} was listed without created[gte]")
                    want = sum(1 for o in world.objects[name] if (o.get("created") or 0) >= since)
                    check((status, objects) == ("ok", want), f"since: {name}: {status} {objects}, expected {want}, {error}")
                else:
                    check(all("created[gte]" not in r.query for r in reqs), f"since: {name} sent created[gte]")
                    check(status == "ok", f"since: {name}: {status} {error}")
            check(conn.execute("SELECT since FROM stripe.sync_runs WHERE object_type = 'invoice'").fetchone()[0]
                  == datetime.fromtimestamp(since, timezone.utc), "sync_runs.since of invoice")
            check(conn.execute("SELECT since FROM stripe.sync_runs WHERE object_type = 'tax_code'").fetchone()[0]
                  is None, "sync_runs.since of tax_code")
    finally:
        server.stop()
    assert problems == [], "\n".join(problems)


def test_since_on_one_type_sends_created_gte_and_keeps_older_rows(template):
    world = build_world()
    server = FixtureServer().start()
    try:
        serve_world(server, world)
        with scratch_database(template) as db, connect_to(db, server) as conn:
            invoices = sorted(world.objects["invoice"], key=lambda o: o["created"])
            assert conn.execute("SELECT stripe.sync('invoice')").fetchone()[0] == 24
            since = invoices[20]["created"]
            server.requests.clear()
            n = conn.execute("SELECT stripe.sync('invoice', since => %s)",
                             (datetime.fromtimestamp(since, timezone.utc),)).fetchone()[0]
            assert n == 4
            reqs = server.list_requests("/v1/invoices")
            assert len(reqs) == 1 and reqs[0].query["created[gte]"] == str(since)
            assert conn.execute("SELECT count(*) FILTER (WHERE NOT deleted) FROM stripe.invoices").fetchone()[0] == 24
            # a type Stripe cannot filter by created says so instead of listing everything
            e = sql_error(conn, "SELECT stripe.sync('tax_code', since => now())")
            assert e.sqlstate == "0A000" and "created" in e.diag.message_primary, error_text(e)
    finally:
        server.stop()
