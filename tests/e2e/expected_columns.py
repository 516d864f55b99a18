"""What each typed column of a mirror table must hold for a given Stripe object, written from
Stripe's documentation of the fields (not from sql/schema.sql), so the tests check the schema.
"""

from datetime import datetime, timezone


def _ts(v):
    return None if v is None else datetime.fromtimestamp(v, timezone.utc)


def _id(v):
    """An expandable reference: an id string, or the expanded object carrying it."""
    return v.get("id") if isinstance(v, dict) else v


def _common(o):
    return {
        "metadata": o.get("metadata"),
        "livemode": o.get("livemode"),
        "created": _ts(o.get("created")),
        "deleted": bool(o.get("deleted", False)),
    }


def customer(o):
    return {
        "email": o.get("email"),
        "name": o.get("name"),
        "description": o.get("description"),
        "phone": o.get("phone"),
        "currency": o.get("currency"),
        "balance": o.get("balance"),
        "delinquent": o.get("delinquent"),
        "default_source": _id(o.get("default_source")),
        "invoice_settings_default_payment_method":
            _id((o.get("invoice_settings") or {}).get("default_payment_method")),
        **_common(o),
    }


def product(o):
    return {
        "name": o.get("name"),
        "description": o.get("description"),
        "active": o.get("active"),
        "type": o.get("type"),
        "default_price": _id(o.get("default_price")),
        "unit_label": o.get("unit_label"),
        "tax_code": _id(o.get("tax_code")),
        "updated": _ts(o.get("updated")),
        **_common(o),
    }


def price(o):
    recurring = o.get("recurring") or {}
    return {
        "product": _id(o.get("product")),
        "active": o.get("active"),
        "currency": o.get("currency"),
        "unit_amount": o.get("unit_amount"),
        "type": o.get("type"),
        "billing_scheme": o.get("billing_scheme"),
        "recurring_interval": recurring.get("interval"),
        "recurring_interval_count": recurring.get("interval_count"),
        "recurring_usage_type": recurring.get("usage_type"),
        "lookup_key": o.get("lookup_key"),
        "nickname": o.get("nickname"),
        "tax_behavior": o.get("tax_behavior"),
        **_common(o),
    }


BY_TABLE = {"customers": customer, "products": product, "prices": price}


def assert_row_matches(conn, table, obj):
    """The mirror row for obj holds obj as data and every typed column as Stripe defines it."""
    expected = BY_TABLE[table](obj)
    cols = ", ".join(expected)
    row = conn.execute(f"SELECT data, {cols} FROM stripe.{table} WHERE id = %s", (obj["id"],)).fetchone()
    assert row is not None, f"{table}: no row for {obj['id']}"
    assert row[0] == obj, f"{table} {obj['id']}: data differs from the API object"
    actual = dict(zip(expected, row[1:]))
    assert actual == expected, f"{table} {obj['id']}: typed columns differ"
