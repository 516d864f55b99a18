"""The same object delivered as a signed webhook lands exactly as a sync put it: for every type
with event prefixes, a `<prefix>.updated` event carrying the world's object is ingested into a
database of its own and the row (data, typed columns, parent column) is compared with the row the
sync wrote. Parents whose event carries a truncated nested list (has_more) make ingest fetch the
rest from the API (the fixture server), so the child table ends up with every entry."""

import copy
import itertools
import time

import pytest

from catalog_fixtures import connect_to
from column_docs import assert_table_matches, parent_column, table_columns
from conftest import WEBHOOK_SECRET, scratch_database
from fixture_catalog import CHILD_BY_NAME, CHILDREN, INLINE, TABLE_OF, TOP_BY_NAME
from fixture_objects import make_event, shape
from webhook_signing import signed

# The event prefixes each type is delivered under (`<prefix>.<action>`; Stripe's spelling, e.g.
# customer.subscription, issuing_card). test_prefixes_are_the_catalogs holds them to the catalog.
EVENT_PREFIXES = {
    # Events about events do not exist; the Events API is mirrored by sync('event') only, so the
    # catalog gives `event` no prefix and ingest never routes an object into stripe.events.
    **{t.name: [t.name] for t in TOP_BY_NAME.values() if t.name != "event"},
    "refund": ["refund", "charge.refund"],
    "dispute": ["charge.dispute"],
    "subscription": ["customer.subscription"],
    "issuing.cardholder": ["issuing_cardholder"],
    "issuing.card": ["issuing_card"],
    "issuing.authorization": ["issuing_authorization"],
    "issuing.transaction": ["issuing_transaction"],
    "issuing.dispute": ["issuing_dispute"],
    "tax_id": ["customer.tax_id"],
    "payment_method": ["payment_method"],
    "customer_source": ["customer.source"],
    "fee_refund": ["application_fee.refund"],
    "external_account": ["account.external_account"],
    "discount": ["customer.discount"],
    "mandate": ["mandate"],
}
DELIVERED = [(name, prefix) for name, prefixes in EVENT_PREFIXES.items() for prefix in prefixes]
INLINE_BY_PARENT = {}
for _c in CHILDREN:
    if _c.inline:
        INLINE_BY_PARENT.setdefault(_c.parent, []).append(_c)

_event_numbers = itertools.count(1)
_clock = itertools.count(int(time.time()))  # each event a second newer than the one before


def representative(world, name):
    """The object of a type to deliver: the first one, whose nested lists are the truncated ones."""
    if name == "discount":
        return world.discounts[0]
    if name == "mandate":
        m = shape("mandate")
        m["id"] = "mandate_e2e_001"
        return m
    return world.objects[name][0]


def row(conn, table, id_, cols):
    """The row's data, generated columns and parent column, by name; None if absent."""
    names = ["data"] + [c.name for c in cols if c.generated] + ([parent_column(cols)] if parent_column(cols) else [])
    select = ", ".join(f'"{n}"' for n in names)
    r = conn.execute(f"SELECT {select} FROM stripe.{table} WHERE id = %s", (id_,)).fetchone()
    return None if r is None else dict(zip(names, r))


@pytest.fixture(scope="module")
def hooks(template, catalog_api):
    """A database that gets its objects only from webhooks; ingest may fetch truncated lists
    from the fixture server."""
    with scratch_database(template) as db, connect_to(db, catalog_api) as conn:
        conn.execute("SELECT stripe.add_webhook_secret(%s)", (WEBHOOK_SECRET,))
        yield conn


def test_prefixes_are_the_catalogs(synced_catalog):
    rows = synced_catalog.conn.execute(
        "SELECT object_type, event_prefixes FROM stripe._catalog() WHERE cardinality(event_prefixes) > 0").fetchall()
    assert dict(rows) == EVENT_PREFIXES


@pytest.mark.parametrize("name,prefix", DELIVERED, ids=[f"{n}:{p}" for n, p in DELIVERED])
def test_webhook_lands_like_the_sync(synced_catalog, hooks, catalog_api, name, prefix):
    world = synced_catalog.world
    table = TABLE_OF[name]
    obj = copy.deepcopy(representative(world, name))
    n = next(_event_numbers)
    event = make_event(f"{prefix}.updated", obj, next(_clock), f"evt_e2e_wh_{n:03d}")
    catalog_api.requests.clear()

    result = hooks.execute("SELECT stripe.ingest_webhook(%s, %s)", signed(event, WEBHOOK_SECRET)).fetchone()[0]
    assert result == {"result": "applied", "event_id": event["id"], "event_type": event["type"],
                      "object_type": obj["object"], "object_id": obj["id"]}
    assert hooks.execute("SELECT status, object_id FROM stripe.events WHERE id = %s",
                         (event["id"],)).fetchone() == ("applied", obj["id"])

    cols = table_columns(hooks, table)
    delivered = row(hooks, table, obj["id"], cols)
    assert delivered is not None, f"no {table} row for {obj['id']}"
    assert delivered["data"] == obj
    # Typed columns as documented, and the parent a child names itself (own field).
    child = CHILD_BY_NAME.get(name)
    parent = obj.get(child.own_field) if child and child.own_field else None
    assert_table_matches(hooks, table, {obj["id"]: (obj, parent)}, cols, subset=True)

    # And exactly what the sync wrote.
    if name != "mandate":  # mandates cannot be listed, so no sync wrote one
        synced = row(synced_catalog.conn, table, obj["id"], cols)
        assert synced is not None, f"the synced database has no {table} row {obj['id']} to compare with"
        assert delivered == synced

    # Nested lists: every entry, also those past the inline 10, fetched from the list's url.
    for c in INLINE_BY_PARENT.get(name, []):
        nested = obj.get(c.inline)
        if not isinstance(nested, dict):
            continue
        kids = world.children[c.name][obj["id"]]
        assert len(kids) > INLINE and nested["has_more"], "the representative's list is truncated"
        kid_cols = table_columns(hooks, c.table)
        assert_table_matches(hooks, c.table, {k["id"]: (k, obj["id"]) for k in kids}, kid_cols,
                             what=f" (children of {obj['id']})", subset=True)
        assert hooks.execute(f"SELECT count(*) FROM stripe.{c.table} WHERE {c.column} = %s",
                             (obj["id"],)).fetchone()[0] == len(kids)
        path = nested["url"].split("?")[0]
        assert catalog_api.list_requests(path), f"ingest did not fetch {nested['url']}"
        synced_kids = {k["id"]: row(synced_catalog.conn, c.table, k["id"], kid_cols) for k in kids}
        assert {k["id"]: row(hooks, c.table, k["id"], kid_cols) for k in kids} == synced_kids


def test_an_event_about_an_event_is_only_recorded(hooks, synced_catalog):
    inner = synced_catalog.world.objects["event"][0]
    event = make_event("event.updated", copy.deepcopy(inner), next(_clock), "evt_e2e_wh_meta")
    result = hooks.execute("SELECT stripe.ingest_webhook(%s, %s)", signed(event, WEBHOOK_SECRET)).fetchone()[0]
    assert result["result"] == "ignored"
    assert hooks.execute("SELECT count(*) FROM stripe.events WHERE id = %s", (inner["id"],)).fetchone()[0] == 0


def test_a_newer_event_with_a_shorter_complete_list_removes_children(hooks, synced_catalog):
    """An event whose nested list is complete (has_more false) replaces the parent's children;
    an older event (stale) changes neither the parent nor its children."""
    world = synced_catalog.world
    sub = copy.deepcopy(world.objects["subscription"][1])  # 3 items, all inline
    items = world.children["subscription_item"][sub["id"]]
    assert len(items) == 3 and not sub["items"]["has_more"]

    def deliver(obj, created, n):
        event = make_event("customer.subscription.updated", obj, created, f"evt_e2e_wh_short{n}")
        return hooks.execute("SELECT stripe.ingest_webhook(%s, %s)", signed(event, WEBHOOK_SECRET)).fetchone()[0]

    def children():
        return [r[0] for r in hooks.execute(
            "SELECT id FROM stripe.subscription_items WHERE subscription = %s ORDER BY id", (sub["id"],))]

    t = next(_clock) + 100
    assert deliver(sub, t, 1)["result"] == "applied"
    assert children() == sorted(i["id"] for i in items)
    shorter = copy.deepcopy(sub)
    shorter["items"]["data"] = shorter["items"]["data"][:1]
    assert deliver(shorter, t + 10, 2)["result"] == "applied"
    assert children() == [items[0]["id"]]
    older = copy.deepcopy(sub)  # all three again, but from before the shorter list
    assert deliver(older, t + 5, 3)["result"] == "stale"
    assert children() == [items[0]["id"]]
    assert hooks.execute("SELECT data FROM stripe.subscriptions WHERE id = %s", (sub["id"],)).fetchone()[0] == shorter
