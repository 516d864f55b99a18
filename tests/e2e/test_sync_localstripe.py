"""stripe.sync against localstripe, a third-party fake of the Stripe API, with objects made by
the official stripe-python client: the mirror must hold exactly what the API returns."""

from conftest import api_json
from expected_columns import assert_row_matches


def create_customers(stripe, n):
    return [
        stripe.Customer.create(
            email=f"person{i}@example.com",
            name=f"Person {i}",
            phone=f"+4930{i:06d}",
            metadata={"plan": "pro" if i % 2 else "free", "i": str(i)},
            **({} if i % 2 else {"description": f"VIP number {i}"}),
        )
        for i in range(n)
    ]


def sync(conn, object_type):
    return conn.execute("SELECT stripe.sync(%s)", (object_type,)).fetchone()[0]


def test_customers_and_products_match_the_api(conn, localstripe):
    customers = create_customers(localstripe, 5)
    products = [localstripe.Product.create(name=n, description=f"{n} plan", metadata={"n": n})
                for n in ("Bronze", "Silver", "Gold")]

    assert sync(conn, "customer") == 5
    assert sync(conn, "product") == 3

    # Compare with what a GET of each object returns now, field for field.
    for c in customers:
        assert_row_matches(conn, "customers", api_json(localstripe.Customer.retrieve(c.id)))
    for p in products:
        assert_row_matches(conn, "products", api_json(localstripe.Product.retrieve(p.id)))
    assert conn.execute("SELECT count(*) FROM stripe.customers").fetchone()[0] == 5
    assert conn.execute("SELECT count(*) FROM stripe.products").fetchone()[0] == 3
    assert conn.execute("SELECT DISTINCT synced_from FROM stripe.customers").fetchall() == [("sync",)]
    runs = dict(conn.execute("SELECT object_type, objects FROM stripe.sync_runs").fetchall())
    assert runs == {"customer": 5, "product": 3}


def test_resync_applies_updates_and_checks_what_it_no_longer_lists(conn, localstripe):
    alice, bob, carol = create_customers(localstripe, 3)
    assert sync(conn, "customer") == 3
    before = conn.execute("SELECT data FROM stripe.customers WHERE id = %s", (bob.id,)).fetchone()[0]

    localstripe.Customer.modify(alice.id, email="alice.new@example.com")
    localstripe.Customer.delete(bob.id)

    assert sync(conn, "customer") == 2
    assert_row_matches(conn, "customers", api_json(localstripe.Customer.retrieve(alice.id)))
    assert_row_matches(conn, "customers", api_json(localstripe.Customer.retrieve(carol.id)))
    assert conn.execute("SELECT email FROM stripe.customers WHERE id = %s",
                        (alice.id,)).fetchone()[0] == "alice.new@example.com"
    # Bob is no longer listed, so he was retrieved before anything was marked. localstripe
    # answers a bare 404 where Stripe says resource_missing (or sends a deleted stub): not
    # Stripe's word, so he keeps his last known state, and the sync says it could not tell.
    data, deleted = conn.execute("SELECT data, deleted FROM stripe.customers WHERE id = %s", (bob.id,)).fetchone()
    assert (data, deleted) == (before, False)
    marked, sweep = conn.execute("SELECT marked_deleted, sweep FROM stripe.sync_runs WHERE object_type = 'customer'"
                                 ).fetchone()
    assert marked == 0 and "1 could not be checked" in sweep, sweep
    assert any(bob.id in n and "could not check" in n for n in conn.notices), conn.notices


def test_pagination_over_localstripe(conn, localstripe):
    # localstripe lists oldest-first; starting_after must still walk every object exactly once.
    ids = {localstripe.Customer.create(email=f"bulk{i}@example.com").id for i in range(105)}
    assert sync(conn, "customer") == 105
    pages = [n for n in conn.notices if n.startswith("stripe.sync('customer')")]
    assert len(pages) == 2, conn.notices
    assert {r[0] for r in conn.execute("SELECT id FROM stripe.customers")} == ids
    assert conn.execute("SELECT pages, objects FROM stripe.sync_runs").fetchone() == (2, 105)
