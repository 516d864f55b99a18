"""Webhooks end to end: localstripe signs and POSTs each event to the receiver, which hands the
raw body and Stripe-Signature to stripe.ingest_webhook as a role that may do nothing else."""

import time

from conftest import api_json


def poll(conn, sql, params, until, timeout=15.0):
    """Re-run a query until `until(row)` holds; returns that row."""
    deadline = time.monotonic() + timeout
    while True:
        row = conn.execute(sql, params).fetchone()
        if until(row):
            return row
        assert time.monotonic() < deadline, f"timed out waiting; last row: {row}"
        time.sleep(0.1)


def test_create_update_delete_reach_the_mirror(conn, localstripe, receiver):
    row_sql = "SELECT email, deleted, data, synced_from FROM stripe.customers WHERE id = %s"
    c = localstripe.Customer.create(email="hook@example.com", name="Hook")
    created = poll(conn, row_sql, (c.id,), lambda r: r is not None)
    assert created[:2] == ("hook@example.com", False)
    assert created[2] == api_json(c)

    updated_obj = localstripe.Customer.modify(c.id, email="hook.new@example.com")
    updated = poll(conn, row_sql, (c.id,), lambda r: r[0] == "hook.new@example.com")
    assert updated[1] is False
    assert updated[2] == api_json(updated_obj)

    localstripe.Customer.delete(c.id)
    deleted = poll(conn, row_sql, (c.id,), lambda r: r[1])
    assert deleted[2] == {**api_json(updated_obj), "deleted": True}  # last state, flagged

    events = conn.execute(
        "SELECT type, status, id, object_type FROM stripe.events WHERE object_id = %s ORDER BY created, type",
        (c.id,)).fetchall()
    assert sorted(e[0] for e in events) == ["customer.created", "customer.deleted", "customer.updated"]
    assert {e[1] for e in events} == {"applied"}
    assert {e[3] for e in events} == {"customer"}
    delete_event = next(e[2] for e in events if e[0] == "customer.deleted")
    assert deleted[3] == delete_event

    # What the receiver saw: every delivery for this customer signed and applied.
    mine = [d for d in receiver.deliveries if d.event.get("data", {}).get("object", {}).get("id") == c.id]
    assert len(mine) == 3
    for d in mine:
        assert d.status == 200 and d.result["result"] == "applied", d
        assert d.signature.startswith("t=") and ",v1=" in d.signature
        assert d.result["object_id"] == c.id and d.result["event_id"] == d.event["id"]


def test_redelivery_is_a_duplicate(conn, localstripe, receiver):
    p = localstripe.Product.create(name="Webhook product")
    d = receiver.wait_for(lambda d: d.event.get("type") == "product.created"
                          and d.event["data"]["object"]["id"] == p.id)
    assert d.result["result"] == "applied"
    assert conn.execute("SELECT name, data FROM stripe.products WHERE id = %s", (p.id,)).fetchone() == (
        "Webhook product", api_json(p))

    # Stripe retries deliveries it thinks failed: the same body and signature again.
    again = conn.execute("SELECT stripe.ingest_webhook(%s, %s)", (d.body, d.signature)).fetchone()[0]
    assert again == {**d.result, "result": "duplicate"}
    assert conn.execute("SELECT count(*) FROM stripe.events WHERE object_id = %s", (p.id,)).fetchone()[0] == 1
