"""What the mirror is for: plain SQL joins over synced data, checked against the same question
answered in Python over the objects the API served."""

from fixture_objects import make_prices, make_products


def test_prices_join_products(conn, fake_api):
    products = make_products(8)
    prices = make_prices(120, products)
    fake_api.load(product=products, price=prices)
    assert conn.execute("SELECT stripe.sync('product')").fetchone()[0] == 8
    assert conn.execute("SELECT stripe.sync('price')").fetchone()[0] == 120

    # Active recurring prices of active products, with the product's name.
    rows = conn.execute("""
        SELECT pr.id, p.name, pr.currency, pr.unit_amount, pr.recurring_interval
          FROM stripe.prices pr JOIN stripe.products p ON p.id = pr.product
         WHERE pr.active AND pr.type = 'recurring' AND p.active AND NOT pr.deleted
         ORDER BY p.name, pr.unit_amount, pr.id""").fetchall()
    by_id = {p["id"]: p for p in products}
    expected = sorted(
        ((pr["id"], by_id[pr["product"]]["name"], pr["currency"], pr["unit_amount"], pr["recurring"]["interval"])
         for pr in prices
         if pr["active"] and pr["type"] == "recurring" and by_id[pr["product"]]["active"]),
        key=lambda r: (r[1], r[3], r[0]))
    assert rows == expected
    assert 20 < len(rows) < 120  # the filters did filter

    # Each product's default price, through products.default_price.
    defaults = conn.execute("""
        SELECT p.id, pr.unit_amount, pr.currency
          FROM stripe.products p JOIN stripe.prices pr ON pr.id = p.default_price
         ORDER BY p.id""").fetchall()
    prices_by_id = {pr["id"]: pr for pr in prices}
    assert defaults == [(p["id"], prices_by_id[p["default_price"]]["unit_amount"],
                         prices_by_id[p["default_price"]]["currency"]) for p in products]
