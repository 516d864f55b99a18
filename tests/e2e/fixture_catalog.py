"""Every Stripe type the mirror keeps, as Stripe's API would serve it: a "world" of objects built
from Stripe's example objects (vendor/stripe/fixtures3.json), with distinct ids and values, the
list endpoints that serve them (per-parent ones included), and nested lists longer than the 10
entries Stripe inlines in a parent.

The type list below is written from Stripe's API reference (list endpoints, where a type hangs off
a parent, which parent field inlines it), not from the extension's catalog: the tests compare the
two, so a type added to the catalog without a fixture here fails loudly.

    world = build_world()
    server.serve_many(world.routes, ordered=world.ordered, page_size=...)
    world.rows("invoice_lines")       # {id: (object, parent id)} the mirror must hold
"""

import copy
from dataclasses import dataclass, field

from fixture_objects import BASE_CREATED, CURRENCIES, make_customers, make_event, make_prices, make_products, shape

INLINE = 10  # entries Stripe inlines in a parent's nested list; the rest behind the list's url


@dataclass(frozen=True)
class Top:
    name: str          # Stripe's object name (catalog name)
    table: str
    path: str          # list endpoint
    resource: str      # key in fixtures3.json resources
    id_prefix: str
    created_filter: bool = True


@dataclass(frozen=True)
class Child:
    name: str
    table: str
    parent: str                  # parent type name
    column: str                  # parent id column of the child table
    route: str                   # list endpoint, {parent} for the parent id
    resources: tuple             # fixtures3.json resources, used in turn
    id_prefix: str
    inline: str | None = None    # the parent's field inlining this list
    own_field: str | None = None  # the child's own field naming its parent


TOP = [
    Top("account", "accounts", "/v1/accounts", "account", "acct_"),
    Top("customer", "customers", "/v1/customers", "customer", "cus_"),
    Top("product", "products", "/v1/products", "product", "prod_"),
    Top("price", "prices", "/v1/prices", "price", "price_"),
    Top("plan", "plans", "/v1/plans", "plan", "plan_"),
    Top("coupon", "coupons", "/v1/coupons", "coupon", "coupon_"),
    Top("promotion_code", "promotion_codes", "/v1/promotion_codes", "promotion_code", "promo_"),
    Top("tax_rate", "tax_rates", "/v1/tax_rates", "tax_rate", "txr_"),
    Top("tax_code", "tax_codes", "/v1/tax_codes", "tax_code", "txcd_", created_filter=False),
    Top("shipping_rate", "shipping_rates", "/v1/shipping_rates", "shipping_rate", "shr_"),
    Top("billing.meter", "billing_meters", "/v1/billing/meters", "billing.meter", "meter_", created_filter=False),
    Top("entitlements.feature", "entitlements_features", "/v1/entitlements/features", "entitlements.feature",
        "feat_", created_filter=False),
    Top("file", "files", "/v1/files", "file", "file_"),
    Top("file_link", "file_links", "/v1/file_links", "file_link", "link_"),
    Top("payment_intent", "payment_intents", "/v1/payment_intents", "payment_intent", "pi_"),
    Top("setup_intent", "setup_intents", "/v1/setup_intents", "setup_intent", "seti_"),
    Top("charge", "charges", "/v1/charges", "charge", "ch_"),
    Top("refund", "refunds", "/v1/refunds", "refund", "re_"),
    Top("dispute", "disputes", "/v1/disputes", "dispute", "dp_"),
    Top("review", "reviews", "/v1/reviews", "review", "prv_"),
    Top("radar.early_fraud_warning", "early_fraud_warnings", "/v1/radar/early_fraud_warnings",
        "radar.early_fraud_warning", "issfr_", created_filter=False),
    Top("payout", "payouts", "/v1/payouts", "payout", "po_"),
    Top("balance_transaction", "balance_transactions", "/v1/balance_transactions", "balance_transaction", "txn_"),
    Top("subscription", "subscriptions", "/v1/subscriptions", "subscription", "sub_"),
    Top("subscription_schedule", "subscription_schedules", "/v1/subscription_schedules", "subscription_schedule",
        "sub_sched_"),
    Top("invoice", "invoices", "/v1/invoices", "invoice", "in_"),
    Top("invoiceitem", "invoiceitems", "/v1/invoiceitems", "invoiceitem", "ii_"),
    Top("credit_note", "credit_notes", "/v1/credit_notes", "credit_note", "cn_", created_filter=False),
    Top("quote", "quotes", "/v1/quotes", "quote", "qt_", created_filter=False),
    Top("checkout.session", "checkout_sessions", "/v1/checkout/sessions", "checkout.session", "cs_test_",
        created_filter=False),
    Top("application_fee", "application_fees", "/v1/application_fees", "application_fee", "fee_"),
    Top("transfer", "transfers", "/v1/transfers", "transfer", "tr_"),
    Top("identity.verification_session", "identity_verification_sessions", "/v1/identity/verification_sessions",
        "identity.verification_session", "vs_"),
    Top("identity.verification_report", "identity_verification_reports", "/v1/identity/verification_reports",
        "identity.verification_report", "vr_"),
    Top("issuing.cardholder", "issuing_cardholders", "/v1/issuing/cardholders", "issuing.cardholder", "ich_"),
    Top("issuing.card", "issuing_cards", "/v1/issuing/cards", "issuing.card", "ic_"),
    Top("issuing.authorization", "issuing_authorizations", "/v1/issuing/authorizations", "issuing.authorization",
        "iauth_"),
    Top("issuing.transaction", "issuing_transactions", "/v1/issuing/transactions", "issuing.transaction", "ipi_"),
    Top("issuing.dispute", "issuing_disputes", "/v1/issuing/disputes", "issuing.dispute", "idp_"),
    Top("event", "events", "/v1/events", "event", "evt_"),
]

CHILDREN = [
    Child("subscription_item", "subscription_items", "subscription", "subscription",
          "/v1/subscription_items?subscription={parent}", ("subscription_item",), "si_", inline="items",
          own_field="subscription"),
    Child("line_item", "invoice_lines", "invoice", "invoice", "/v1/invoices/{parent}/lines", ("line_item",), "il_",
          inline="lines", own_field="invoice"),
    Child("credit_note_line_item", "credit_note_lines", "credit_note", "credit_note",
          "/v1/credit_notes/{parent}/lines", ("credit_note_line_item",), "cnli_", inline="lines"),
    Child("tax_id", "tax_ids", "customer", "customer", "/v1/customers/{parent}/tax_ids", ("tax_id",), "txi_",
          own_field="customer"),
    Child("payment_method", "payment_methods", "customer", "customer", "/v1/customers/{parent}/payment_methods",
          ("payment_method",), "pm_", own_field="customer"),
    Child("customer_source", "customer_sources", "customer", "customer", "/v1/customers/{parent}/sources",
          ("card", "bank_account", "source"), "src_", own_field="customer"),
    Child("checkout.session.line_item", "checkout_session_line_items", "checkout.session", "checkout_session",
          "/v1/checkout/sessions/{parent}/line_items", ("item",), "li_", inline="line_items"),
    Child("fee_refund", "application_fee_refunds", "application_fee", "fee", "/v1/application_fees/{parent}/refunds",
          ("fee_refund",), "fr_", inline="refunds", own_field="fee"),
    Child("transfer_reversal", "transfer_reversals", "transfer", "transfer", "/v1/transfers/{parent}/reversals",
          ("transfer_reversal",), "trr_", inline="reversals", own_field="transfer"),
    Child("external_account", "external_accounts", "account", "account", "/v1/accounts/{parent}/external_accounts",
          ("card", "bank_account"), "ba_", own_field="account"),
    Child("product_feature", "product_features", "product", "product", "/v1/products/{parent}/features",
          ("product_feature",), "prodft_"),
    Child("entitlements.active_entitlement", "active_entitlements", "customer", "customer",
          "/v1/entitlements/active_entitlements?customer={parent}", ("entitlements.active_entitlement",), "ent_"),
]

# Types Stripe has no list endpoint for: they arrive inside other objects or by events.
UNLISTED = {"discount": "discounts", "mandate": "mandates"}

TOP_BY_NAME = {t.name: t for t in TOP}
CHILD_BY_NAME = {c.name: c for c in CHILDREN}
TABLE_OF = {**{t.name: t.table for t in TOP}, **{c.name: c.table for c in CHILDREN}, **UNLISTED}

# How many of each top-level type (the rest: DEFAULT_COUNT). 150 makes two pages of 100.
COUNTS = {"customer": 150, "price": 150, "event": 150, "product": 12, "invoice": 24}
DEFAULT_COUNT = 9

# Children per parent, by the parent's number (1-based); parents not named have `default(i)`.
# Lists longer than INLINE are truncated in the parent (has_more) and complete behind the url.
NESTED = {
    "subscription_item": ({1: 13, 2: 3}, lambda i: 1 + i % 2),
    "line_item": ({1: 25, 2: 12, 3: 10}, lambda i: 1 + i % 3),
    "credit_note_line_item": ({1: 14}, lambda i: 1 + i % 2),
    "fee_refund": ({1: 12, 2: 2}, lambda i: 0),
    "transfer_reversal": ({1: 11, 2: 1}, lambda i: 0),
    "checkout.session.line_item": ({1: 12, 2: 3, 3: 1}, lambda i: 0),
    "tax_id": ({1: 1, 2: 2, 3: 3, 4: 4, 5: 5}, lambda i: 0),
    "payment_method": ({1: 2, 2: 2, 3: 2, 4: 2}, lambda i: 0),
    "customer_source": ({1: 3, 2: 3, 3: 3}, lambda i: 0),
    "external_account": ({1: 2, 2: 2, 3: 2}, lambda i: 0),
    "product_feature": ({1: 1, 2: 2, 3: 3, 4: 4}, lambda i: 0),
    "entitlements.active_entitlement": ({1: 1, 2: 2, 3: 3}, lambda i: 0),
}
# Parents whose nested list the API inlines only when expanded: just the first one carries it.
INLINED_ONLY_FOR_FIRST = {"checkout.session.line_item"}


def nested_list(url, entries):
    """A parent's nested list field as Stripe sends it: the first 10 entries inline."""
    return {"object": "list", "data": copy.deepcopy(entries[:INLINE]), "has_more": len(entries) > INLINE, "url": url}


@dataclass
class World:
    objects: dict = field(default_factory=dict)    # type name -> [objects] (children: all parents)
    parent_of: dict = field(default_factory=dict)  # (type name, id) -> parent id
    children: dict = field(default_factory=dict)   # type name -> {parent id: [children, in order]}
    discounts: list = field(default_factory=list)  # embedded in customers, subscriptions, invoices
    routes: dict = field(default_factory=dict)     # route -> objects it lists
    ordered: set = field(default_factory=set)      # routes kept in the given order (nested lists)

    def by_id(self, name, id_):
        return next(o for o in self.objects[name] if o["id"] == id_)

    def rows(self, table):
        """{id: (object, parent id or None)}: what the mirror table must hold after syncing."""
        if table == "discounts":
            return {d["id"]: (d, None) for d in self.discounts}
        name = next(n for n, t in TABLE_OF.items() if t == table)
        return {o["id"]: (o, self.parent_of.get((name, o["id"]))) for o in self.objects.get(name, [])}

    def count(self, name):
        """What stripe.sync(name) lists: every object, or every child of every parent."""
        return len(self.objects[name])


def _vary(o, name, prefix, i, created, id_=None):
    """Distinct id and values on a copy of Stripe's example object."""
    o["id"] = id_ or f"{prefix}e2e_{i:03d}"
    if "livemode" in o:
        o["livemode"] = False  # the tests' key is a test-mode key
    if created is not None and "created" in o:
        o["created"] = created
    if isinstance(o.get("metadata"), dict) or (o.get("metadata") is None and i % 2 == 0 and "metadata" in o):
        o["metadata"] = {"n": str(i), "type": name}
    for k in ("amount", "amount_total", "amount_subtotal"):
        if isinstance(o.get(k), int) and not isinstance(o.get(k), bool):
            o[k] = 100 * i + 7
    if "description" in o:
        o["description"] = f"{name} number {i}" if i % 3 else None
    if isinstance(o.get("currency"), str):
        o["currency"] = CURRENCIES[i % len(CURRENCIES)]
    return o


def build_world(nested=None):
    """The whole world. `nested` overrides NESTED counts: {child name: {parent number: n}}, for
    a second sync in which some nested lists lost entries."""
    nested = {name: ({**NESTED[name][0], **(nested or {}).get(name, {})}, NESTED[name][1]) for name in NESTED}
    w = World()

    # Top-level types, each from its own example object.
    products = make_products(COUNTS["product"])
    w.objects["product"] = products
    w.objects["price"] = make_prices(COUNTS["price"], products)
    customers = make_customers(COUNTS["customer"])
    w.objects["customer"] = customers
    for i, c in enumerate(customers, 1):
        c["discount"] = None
        if i % 10 == 0:
            d = shape("discount")
            d.update(id=f"di_e2e_cus_{i:03d}", customer=c["id"], start=BASE_CREATED + i, end=None)
            c["discount"] = d
            w.discounts.append(d)
    for t in TOP:
        if t.name in w.objects or t.name == "event":
            continue
        objs = []
        for i in range(1, COUNTS.get(t.name, DEFAULT_COUNT) + 1):
            created = BASE_CREATED + 86400 * i + sum(map(ord, t.name)) % 1000 if "created" in shape(t.resource) else None
            o = _vary(shape(t.resource), t.name, t.id_prefix, i, created)
            if "customer" in o and (o["customer"] is None or isinstance(o["customer"], str)):
                o["customer"] = customers[(i - 1) % len(customers)]["id"]
            objs.append(o)
        w.objects[t.name] = objs

    # Invoices spread over three months; one subscription and one invoice carry a discount.
    for i, inv in enumerate(w.objects["invoice"], 1):
        inv["created"] = BASE_CREATED + (i % 3) * 31 * 86400 + i * 3600
        inv["total"] = inv["subtotal"] = inv["amount_due"] = 1000 + 10 * i
    for name, idx in (("subscription", 2), ("invoice", 2)):
        parent = w.objects[name][idx - 1]
        d = shape("discount")
        d.update(id=f"di_e2e_{name}_{idx}", customer=parent["customer"], start=BASE_CREATED, end=None,
                 **({"subscription": parent["id"]} if name == "subscription" else {"invoice": parent["id"]}))
        parent["discount"] = d
        w.discounts.append(d)

    # Children, per parent.
    for c in CHILDREN:
        by_number, default = nested[c.name]
        w.children[c.name] = {}
        w.objects[c.name] = []
        for pi, parent in enumerate(w.objects[c.parent], 1):
            kids = []
            for k in range(by_number.get(pi, default(pi))):
                n = pi * 100 + k + 1  # values depend on the parent and position only
                resource = c.resources[k % len(c.resources)]
                prefix = {"card": "card_", "bank_account": "ba_", "source": "src_"}.get(resource, c.id_prefix)
                if c.name == "external_account":
                    prefix = prefix.replace("_", "_ext_", 1)
                created = BASE_CREATED + 3600 * n if "created" in shape(resource) else None
                # ids by parent and position, so a shorter list later keeps the same first ids
                kid = _vary(shape(resource), c.name, prefix, n, created, id_=f"{prefix}e2e_{pi:03d}_{k + 1:02d}")
                if c.own_field:
                    kid[c.own_field] = parent["id"]
                if c.name == "customer_source" and resource == "source":
                    kid["customer"] = parent["id"]
                if c.name == "subscription_item":
                    price = w.objects["price"][(n - 1) % len(w.objects["price"])]
                    kid["price"] = copy.deepcopy(price)
                    kid["quantity"] = 1 + n % 4
                if c.name == "product_feature":
                    feature = w.objects["entitlements.feature"][(n - 1) % DEFAULT_COUNT]
                    kid["entitlement_feature"] = copy.deepcopy(feature)
                if c.name == "entitlements.active_entitlement":
                    kid["feature"] = w.objects["entitlements.feature"][(n - 1) % DEFAULT_COUNT]["id"]
                    kid["lookup_key"] = f"feature_{n}"
                kids.append(kid)
                w.parent_of[(c.name, kid["id"])] = parent["id"]
            route = c.route.format(parent=parent["id"])
            w.routes[route] = kids
            w.ordered.add(route)
            w.children[c.name][parent["id"]] = kids
            w.objects[c.name].extend(kids)
            if c.inline and (c.name not in INLINED_ONLY_FOR_FIRST or pi == 1):
                parent[c.inline] = nested_list(route, kids)
            elif c.inline:
                parent.pop(c.inline, None)
    # An account lists its external accounts inline too (not a list the mirror replaces from).
    for a in w.objects["account"]:
        route = f"/v1/accounts/{a['id']}/external_accounts"
        a["external_accounts"] = nested_list(route, w.children["external_account"][a["id"]])

    # Events: recent history, one per customer, Stripe's envelope around the object.
    w.objects["event"] = [
        make_event("customer.updated", copy.deepcopy(customers[i - 1]), BASE_CREATED + 1000 * i, f"evt_e2e_{i:03d}")
        for i in range(1, COUNTS["event"] + 1)]

    for t in TOP:
        w.routes[t.path] = w.objects[t.name]
    return w


def catalog_names():
    return {t.name for t in TOP} | {c.name for c in CHILDREN} | set(UNLISTED)
