"""Stripe-shaped objects for the fixture server, built from Stripe's own example objects.

Every object starts as a deep copy of `resources.<object>` in vendor/stripe/fixtures3.json (the
current API's shapes, so the mirror sees every field a real response carries) and then gets a
distinct id and varied values, so that typed columns and joins have something to tell apart.
"""

import copy
import functools
import json
import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FIXTURES = Path(os.environ.get("E2E_FIXTURES", REPO / "vendor" / "stripe" / "fixtures3.json"))

# Distinct, increasing `created` times: object i was created at BASE_CREATED + i * STEP.
BASE_CREATED = 1_700_000_000
CURRENCIES = ["usd", "eur", "gbp", "jpy"]
INTERVALS = [("month", 1), ("year", 1), ("week", 2), ("day", 30)]
TAX_BEHAVIORS = ["unspecified", "exclusive", "inclusive"]


@functools.cache
def _shapes():
    return json.loads(FIXTURES.read_text())["resources"]


def shape(object_name):
    """A fresh copy of Stripe's example object of that type."""
    return copy.deepcopy(_shapes()[object_name])


def make_products(n, step=3600):
    products = []
    for i in range(1, n + 1):
        p = shape("product")
        p.update(
            id=f"prod_e2e_{i:04d}",
            name=f"E2E product {i}",
            description=None if i % 2 else f"Product number {i}",
            active=i % 4 != 0,  # every 4th product archived
            type="service",
            unit_label="seat" if i % 3 == 0 else None,
            tax_code="txcd_10000000" if i % 5 == 0 else None,
            metadata={"tier": ["bronze", "silver", "gold"][i % 3]},
            created=BASE_CREATED + i * step,
            updated=BASE_CREATED + i * step + 59,
            default_price=None,  # set by make_prices
        )
        products.append(p)
    return products


def make_prices(n, products, step=60):
    """n prices spread over `products` (round robin); each product's first price is its default."""
    prices = []
    for i in range(1, n + 1):
        product = products[(i - 1) % len(products)]
        currency = CURRENCIES[i % len(CURRENCIES)]
        amount = 100 + i * 7 if currency != "jpy" else 1000 + i  # jpy has no minor unit
        p = shape("price")
        p.update(
            id=f"price_e2e_{i:04d}",
            product=product["id"],
            active=i % 5 != 0,  # every 5th price archived
            currency=currency,
            unit_amount=amount,
            unit_amount_decimal=str(amount),
            lookup_key=f"e2e_lookup_{i}" if i % 7 == 0 else None,
            nickname=f"Price {i}" if i % 2 else None,
            tax_behavior=TAX_BEHAVIORS[i % len(TAX_BEHAVIORS)],
            metadata={"n": str(i)},
            created=BASE_CREATED + i * step,
        )
        if i % 3 == 0:  # every 3rd price is one-time
            p.update(type="one_time", recurring=None)
        else:
            interval, count = INTERVALS[i % len(INTERVALS)]
            p["type"] = "recurring"
            p["recurring"].update(interval=interval, interval_count=count,
                                  usage_type="metered" if i % 11 == 0 else "licensed")
        if product["default_price"] is None:
            product["default_price"] = p["id"]
        prices.append(p)
    return prices


def make_customers(n, step=600):
    customers = []
    for i in range(1, n + 1):
        c = shape("customer")
        c.update(
            id=f"cus_e2e_{i:04d}",
            email=f"customer{i}@example.com",
            name=f"Customer {i}",
            phone=f"+1555000{i:04d}" if i % 2 else None,
            currency=CURRENCIES[i % len(CURRENCIES)],
            balance=(-1) ** i * i * 100,
            delinquent=i % 6 == 0,
            metadata={"i": str(i)},
            created=BASE_CREATED + i * step,
        )
        c["invoice_settings"]["default_payment_method"] = f"pm_e2e_{i:04d}" if i % 3 == 0 else None
        customers.append(c)
    return customers


def make_event(event_type, obj, created, event_id, api_version="2023-08-16", livemode=False):
    """A Stripe event envelope (from the fixture shape) carrying `obj` as data.object."""
    e = shape("event")
    e.update(id=event_id, type=event_type, created=created, api_version=api_version,
             livemode=livemode, data={"object": obj})
    if event_type.endswith(".updated"):
        e["data"]["previous_attributes"] = {}
    return e
