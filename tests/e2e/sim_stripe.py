"""A simulated Stripe API that holds the truth, for randomized differential tests of the mirror.

The fixture server serves what a test loads; this one *is* Stripe: operations change its objects
and emit the events Stripe would, the HTTP API answers from the current state (paging, filters,
Connect accounts, errors), and faults bend answers the way a flaky network or a buggy server
might. A test then compares the mirror in Postgres with sim.truth().

    sim = SimStripe(seed=1, api_key=API_KEY, connected_accounts=("acct_sim_c1",)).start()
    sim.url                                    # http://127.0.0.1:PORT, GET /v1/... only
    cus = sim.create_customer()                # or account="acct_sim_c1"
    sub = sim.create_subscription(cus, n_items=3)
    sim.random_operation()                     # "update_subscription sub_… quantity"
    for event in sim.take_events():            # new events, all accounts, oldest first
        payload = sim.payload(event)
        header = sign(payload, WEBHOOK_SECRET)  # Stripe-Signature
    sim.fault("rate_limit", path="/v1/", times=3, retry_after=1)
    sim.fault("omit_item", path="/v1/customers", after=1, times=1)
    sim.fired                                  # [(monotonic, kind, path, account, detail)]
    sim.truth()                                # {"customer": {id: obj}, ...}, deleted ones marked
    sim.stop()

Stripe's traps are kept: lists are newest first, ties within a second included; a deleted
customer stays a valid cursor, a deleted draft invoice does not; subscriptions hide canceled ones
unless status=all; nested lists inline only 10; events expire after `event_retention` seconds.
Faults sit in front of everything, authentication included, like a proxy would.

`created` is wall-clock seconds (clock=time.time), so many objects share a second, as they do
in Stripe. Every random choice comes from one random.Random(seed): the same seed and the same
sequence of calls give the same ids and descriptions; HTTP traffic draws from a second generator
so that a concurrent sync does not change them.
"""

import hashlib
import hmac
import json
import operator
import random
import threading
import time
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable
from urllib.parse import parse_qsl, unquote, urlsplit

API_VERSION = "2023-08-16"
BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
DAY = 86400
PERIOD = 30 * DAY
INLINE = 10  # items of a nested list (items, lines) shown inside the parent
# (product name, monthly unit amounts, one-time unit amount): 12 recurring prices, 3 one-time
CATALOG = (
    ("Starter", (500, 900, 1500, 2000), 300),
    ("Growth", (2500, 3000, 3500, 4000), 700),
    ("Scale", (5000, 6000, 7000, 8000), 1200),
)
FIRST_NAMES = ("Ada", "Alan", "Grace", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia", "Leslie")
LAST_NAMES = ("Lovelace", "Turing", "Hopper", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson", "Perlman",
              "Lamport")
# URL segment after /v1/ -> object name
LISTS = {"customers": "customer", "products": "product", "prices": "price", "subscriptions": "subscription",
         "subscription_items": "subscription_item", "invoices": "invoice", "events": "event"}
TRUTH_NAMES = ("customer", "product", "price", "subscription", "subscription_item", "invoice", "line_item")
CREATED_OPS = {"created": operator.eq, "created[gt]": operator.gt, "created[gte]": operator.ge,
               "created[lt]": operator.lt, "created[lte]": operator.le}
SUBSCRIPTION_STATUSES = ("active", "canceled", "incomplete", "incomplete_expired", "past_due", "paused",
                         "trialing", "unpaid")
NEXT_STATUS = {"trialing": "active", "active": "past_due", "past_due": "active"}
CUSTOMER_CHANGES = ("email", "name", "balance", "description", "metadata")
REQUEST_FAULTS = ("error", "rate_limit", "hang", "disconnect")
PLATFORM = "platform"  # a fault's account: requests without Stripe-Account only
LIST_FAULTS = ("has_more_empty", "stuck_cursor", "missing_id", "cycle", "omit_item")


def sign(payload, secret, t=None):
    """Stripe-Signature for a webhook payload: v1 = hex HMAC-SHA256(secret, "<t>.<payload>")."""
    t = int(time.time()) if t is None else t
    mac = hmac.new(secret.encode(), f"{t}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def frozen(obj):
    """A deep copy that shares nothing with the simulator's state (plain JSON data)."""
    return json.loads(json.dumps(obj))


def mask(key):
    """A key the way Stripe shows it in errors: prefix and last four characters, never whole."""
    parts = key.split("_", 2)
    head, secret = (parts[0] + "_" + parts[1] + "_", parts[2]) if len(parts) == 3 else ("", key)
    if len(secret) <= 8:
        return head + "*" * len(secret)
    return head + "*" * (len(secret) - 4) + secret[-4:]


def previous_attributes(before, after):
    """Stripe's data.previous_attributes: the old value of each field that changed; of a plain
    hash (metadata) only the keys that changed, None for keys that were added."""
    prev = {}
    for key, old in before.items():
        new = after.get(key)
        if old == new:
            continue
        if isinstance(old, dict) and isinstance(new, dict) and old.get("object") != "list":
            keys = list(old) + [k for k in new if k not in old]
            prev[key] = {k: old.get(k) for k in keys if old.get(k) != new.get(k)}
        else:
            prev[key] = old
    return prev


class StripeError(Exception):
    """An error answer, raised anywhere while answering and sent as Stripe's error object."""

    def __init__(self, status, message, type_="invalid_request_error", **extra):
        super().__init__(message)
        self.status = status
        self.body = {"error": {**extra, "message": message, "type": type_}}


def missing(status, name, id_, param):
    return StripeError(status, f"No such {name}: '{id_}'", code="resource_missing", param=param)


@dataclass
class Record:
    """One object of an account: its own fields, and the ids of its nested list in order
    (a subscription's items, an invoice's lines)."""
    obj: dict
    seq: int                          # creation order: breaks ties within one `created` second
    deleted: bool = False
    children: list = field(default_factory=list)

    @property
    def id(self):
        return self.obj["id"]


@dataclass
class Store:
    """One account's objects and events (the platform's account is None)."""
    account: str | None
    objects: dict = field(default_factory=lambda: {name: {} for name in TRUTH_NAMES + ("event",)})


@dataclass
class Rule:
    """A fault: what it does, which requests it applies to, and how many uses it has left."""
    kind: str
    path: str = "/v1/"                # prefix of the (decoded) request path
    status: int = 500                 # "error"
    times: int | None = None          # None: until clear_faults()
    retry_after: float | None = None  # "rate_limit": the Retry-After header
    delay: float = 0.0                # "hang"
    account: str | None = None        # None: any account; PLATFORM: only the platform's
    after: int = 0                    # applicable requests let through before the first use
    seen: int = 0

    def matches(self, path, account):
        wanted = self.account in (None, account) or (self.account == PLATFORM and account is None)
        return (path.startswith(self.path) and wanted
                and (self.times is None or self.times > 0))

    def take(self):
        """Count one request the fault could apply to; True when it fires on it."""
        self.seen += 1
        if self.seen <= self.after:
            return False
        if self.times is not None:
            self.times -= 1
        return True


@dataclass
class Page:
    """A list answer before rendering, so that list faults can bend it."""
    records: list
    has_more: bool
    limit: int
    url: str
    ids: list                          # every id the list's cursors may name, in order
    at: Callable                       # at(cursor) -> (records, has_more) of the page after it
    cursor: Record | None              # the starting_after object
    render: Callable
    strip_last_id: bool = False

    def body(self):
        data = [self.render(r) for r in self.records]
        if self.strip_last_id:
            del data[-1]["id"]
        return {"object": "list", "data": data, "has_more": self.has_more, "url": self.url}


class SimStripe:
    def __init__(self, seed=1, api_key="sk_test_sim", connected_accounts=(), clock=time.time,
                 host="127.0.0.1", port=0):
        self.api_key = api_key
        self.event_retention = 30 * DAY   # seconds an event stays listable and retrievable
        self.page_size = None             # the most objects a list page holds, below `limit`
        self.requests = []                # (time.monotonic(), method, path, query, account, status)
        self.history = []                 # (time, description) of every operation
        self.fired = []                   # (time.monotonic(), kind, path, account, detail) per fault use
        self._clock = clock
        self._lock = threading.RLock()
        self._rng = random.Random(seed)
        self._http_rng = random.Random(f"{seed}/http")
        self._ids = set()
        self._seq = 0
        self._counter = 0                 # makes every update's new value unique
        self._where = {}                  # id -> Store
        self._stores = {a: Store(a) for a in (None, *connected_accounts)}
        self._all_events = []             # Records of every account, oldest first
        self._taken = 0                   # how many of them take_events() returned
        self._rules = []
        self._walks = {}                  # list query without cursors -> starting_after values served
        self._host = host
        self._port = port                 # 0: a free one; a fixed one lets a new simulator stand in
        self._httpd = None
        self.url = None                   # set by start()
        for store in self._stores.values():
            self._create_catalog(store)

    def start(self):
        """Serve on a free port. The operations and inspection work without it too."""
        self._httpd = ThreadingHTTPServer((self._host, self._port), self._handler_class())
        self._httpd.daemon_threads = True
        self.url = f"http://{self._host}:{self._httpd.server_address[1]}"
        # a short poll: stop() waits for it, once per test
        threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="sim-stripe",
                         daemon=True).start()
        return self

    def stop(self):
        self._httpd.shutdown()
        self._httpd.server_close()

    # -- ids, time, storage ---------------------------------------------------------------------

    def _id(self, prefix, rng=None):
        """A Stripe-like id, unique within the simulator."""
        rng = rng or self._rng
        while True:
            id_ = prefix + "".join(rng.choices(BASE62, k=rng.randint(14, 24)))
            if id_ not in self._ids:
                self._ids.add(id_)
                return id_

    def _now(self):
        return int(self._clock())

    def _next(self):
        self._counter += 1
        return self._counter

    def _add(self, store, name, obj):
        self._seq += 1
        rec = Record(obj, self._seq)
        store.objects[name][rec.id] = rec
        self._where[rec.id] = store
        return rec

    def _store(self, account):
        if account not in self._stores:
            raise ValueError(f"unknown account {account!r}")
        return self._stores[account]

    def _get(self, id_, name):
        """(store, record) of an object, whichever account holds it."""
        store = self._where.get(id_)
        rec = store.objects[name].get(id_) if store else None
        if rec is None:
            raise ValueError(f"no {name} {id_}")
        return store, rec

    def _log(self, store, description):
        where = f" @{store.account}" if store.account else ""
        self.history.append((self._clock(), description + where))

    # -- rendering ------------------------------------------------------------------------------

    def _render(self, store, name, rec):
        """The object's full JSON: a new top-level dict whose nested values may be shared with
        the store, which is why operations replace nested values (metadata) instead of editing them."""
        obj = dict(rec.obj)
        if name == "subscription":
            obj["items"] = self._inline(store, "subscription_item", rec.children,
                                        f"/v1/subscription_items?subscription={rec.id}")
        elif name == "invoice":
            obj["lines"] = self._inline(store, "line_item", rec.children, f"/v1/invoices/{rec.id}/lines")
        elif name == "subscription_item":
            obj["price"] = dict(store.objects["price"][obj["price"]].obj)  # Stripe embeds the price
        return obj

    def _inline(self, store, name, ids, url):
        data = [self._render(store, name, store.objects[name][i]) for i in ids[:INLINE]]
        return {"object": "list", "data": data, "has_more": len(ids) > INLINE, "total_count": len(ids),
                "url": url}

    def _shown(self, store, name, rec):
        """What the API answers for an object: a deleted customer is only a stub."""
        if rec.deleted:
            return {"id": rec.id, "object": name, "deleted": True}
        return self._render(store, name, rec)

    # -- events ---------------------------------------------------------------------------------

    def _emit(self, store, type_, obj, request_id, previous=None):
        """Append the event Stripe sends for `obj` as it is now."""
        event = {"id": self._id("evt_"), "object": "event"}
        if store.account:
            event["account"] = store.account
        data = {"object": frozen(obj)}
        if previous is not None:
            data["previous_attributes"] = frozen(previous)
        event.update(api_version=API_VERSION, created=self._now(), data=data, livemode=False,
                     pending_webhooks=1, request={"id": request_id, "idempotency_key": None}, type=type_)
        rec = self._add(store, "event", event)
        self._all_events.append(rec)

    def _updated(self, store, name, rec, type_, request_id, before):
        """Emit `type_` (a *.updated event) with what changed since `before`."""
        after = self._render(store, name, rec)
        self._emit(store, type_, after, request_id, previous_attributes(before, after))

    def _expired(self, rec):
        return self._now() - rec.obj["created"] > self.event_retention

    # -- catalog --------------------------------------------------------------------------------

    def _create_catalog(self, store):
        """Products and prices every account starts with (product.created, price.created)."""
        request_id = self._id("req_")
        now = self._now()
        for name, monthly, one_time in CATALOG:
            product = self._add(store, "product", {
                "id": self._id("prod_"), "object": "product", "active": True, "created": now,
                "default_price": None, "description": f"The {name} plan", "images": [], "livemode": False,
                "metadata": {}, "name": name, "package_dimensions": None, "shippable": None,
                "statement_descriptor": None, "tax_code": None, "unit_label": None, "updated": now,
                "url": None})
            prices = [self._new_price(store, product.id, amount, True, now) for amount in monthly]
            prices.append(self._new_price(store, product.id, one_time, False, now))
            product.obj["default_price"] = prices[0].id
            self._emit(store, "product.created", self._render(store, "product", product), request_id)
            for price in prices:
                self._emit(store, "price.created", self._render(store, "price", price), request_id)
        self._log(store, "create_catalog")

    def _new_price(self, store, product_id, amount, recurring, now):
        return self._add(store, "price", {
            "id": self._id("price_"), "object": "price", "active": True, "billing_scheme": "per_unit",
            "created": now, "currency": "usd", "custom_unit_amount": None, "livemode": False,
            "lookup_key": None, "metadata": {}, "nickname": None, "product": product_id,
            "recurring": {"aggregate_usage": None, "interval": "month", "interval_count": 1,
                          "trial_period_days": None, "usage_type": "licensed"} if recurring else None,
            "tax_behavior": "unspecified", "tiers_mode": None, "transform_quantity": None,
            "type": "recurring" if recurring else "one_time", "unit_amount": amount,
            "unit_amount_decimal": str(amount)})

    def _prices(self, store, recurring):
        return [p for p in store.objects["price"].values() if (p.obj["recurring"] is not None) == recurring]

    # -- customers ------------------------------------------------------------------------------

    def create_customer(self, account=None):
        """A new customer: customer.created. Returns its id."""
        with self._lock:
            store = self._store(account)
            first, last = self._rng.choice(FIRST_NAMES), self._rng.choice(LAST_NAMES)
            rec = self._add(store, "customer", {
                "id": self._id("cus_"), "object": "customer", "address": None, "balance": 0,
                "created": self._now(), "currency": None, "default_source": None, "delinquent": False,
                "description": None, "discount": None,
                "email": f"{first.lower()}.{last.lower()}.{self._next()}@example.com",
                "invoice_prefix": "".join(self._rng.choice(BASE62[10:36]) for _ in range(8)),
                "invoice_settings": {"custom_fields": None, "default_payment_method": None, "footer": None,
                                     "rendering_options": None},
                "livemode": False, "metadata": {}, "name": f"{first} {last}", "next_invoice_sequence": 1,
                "phone": None, "preferred_locales": [], "shipping": None, "tax_exempt": "none",
                "test_clock": None})
            self._emit(store, "customer.created", self._render(store, "customer", rec), self._id("req_"))
            self._log(store, f"create_customer {rec.id}")
            return rec.id

    def update_customer(self, id_, change=None):
        """Change one field (CUSTOMER_CHANGES; random if None): customer.updated."""
        with self._lock:
            store, rec = self._live_customer(id_)
            change = change or self._rng.choice(CUSTOMER_CHANGES)
            if change not in CUSTOMER_CHANGES:
                raise ValueError(f"unknown customer change {change!r}")
            before = self._render(store, "customer", rec)
            rec.obj[change] = self._new_customer_value(rec.obj, change)
            self._updated(store, "customer", rec, "customer.updated", self._id("req_"), before)
            self._log(store, f"update_customer {id_} {change}")

    def _new_customer_value(self, obj, change):
        """A value of `change` that differs from the current one."""
        n = self._next()
        if change == "email":
            return f"{obj['email'].split('.')[0]}.{n}@example.com"
        if change == "name":
            names = [f"{f} {l}" for f in FIRST_NAMES for l in LAST_NAMES if f"{f} {l}" != obj["name"]]
            return self._rng.choice(names)
        if change == "balance":
            return obj["balance"] + self._rng.choice((-500, -100, 100, 250, 1000))
        if change == "description":
            return f"Customer note {n}"
        return {**obj["metadata"], "revision": str(n)}  # metadata

    def delete_customer(self, id_):
        """Delete a customer: its live subscriptions are canceled first (one
        customer.subscription.deleted each), then customer.deleted with its last full state."""
        with self._lock:
            store, rec = self._live_customer(id_)
            request_id = self._id("req_")
            for sub in self._subscriptions_of(store, id_):
                if sub.obj["status"] != "canceled":
                    self._cancel(store, sub, request_id)
            rec.deleted = True
            self._emit(store, "customer.deleted", self._render(store, "customer", rec), request_id)
            self._log(store, f"delete_customer {id_}")

    def _live_customer(self, id_):
        store, rec = self._get(id_, "customer")
        if rec.deleted:
            raise ValueError(f"customer {id_} is deleted")
        return store, rec

    def _subscriptions_of(self, store, customer):
        return [s for s in store.objects["subscription"].values() if s.obj["customer"] == customer]

    def _set_currency(self, store, customer, request_id):
        """Stripe fixes a customer's currency with its first subscription or invoice, and says so
        with a customer.updated."""
        if customer.obj["currency"] is None:
            before = self._render(store, "customer", customer)
            customer.obj["currency"] = "usd"
            self._updated(store, "customer", customer, "customer.updated", request_id, before)

    # -- subscriptions --------------------------------------------------------------------------

    def create_subscription(self, customer, n_items=1):
        """A subscription to `n_items` distinct monthly prices (1..12): active, or trialing.
        Emits customer.subscription.created. Returns its id."""
        with self._lock:
            store, cust = self._live_customer(customer)
            prices = self._prices(store, recurring=True)
            if not 1 <= n_items <= len(prices):
                raise ValueError(f"n_items must be 1..{len(prices)}")
            now = self._now()
            trial = self._rng.random() < 0.2
            rec = self._add(store, "subscription", {
                "id": self._id("sub_"), "object": "subscription", "application": None,
                "billing_cycle_anchor": now, "cancel_at": None, "cancel_at_period_end": False,
                "canceled_at": None, "collection_method": "charge_automatically", "created": now,
                "currency": "usd", "current_period_end": now + PERIOD, "current_period_start": now,
                "customer": customer, "default_payment_method": None, "description": None, "discount": None,
                "ended_at": None, "items": None, "livemode": False, "metadata": {}, "start_date": now,
                "status": "trialing" if trial else "active", "test_clock": None,
                "trial_end": now + 14 * DAY if trial else None, "trial_start": now if trial else None})
            for price in self._rng.sample(prices, n_items):
                self._new_item(store, rec, price, now)
            request_id = self._id("req_")
            self._set_currency(store, cust, request_id)
            self._emit(store, "customer.subscription.created", self._render(store, "subscription", rec),
                       request_id)
            self._log(store, f"create_subscription {rec.id} ({customer}, {n_items} items)")
            return rec.id

    def _new_item(self, store, sub, price, now):
        item = self._add(store, "subscription_item", {
            "id": self._id("si_"), "object": "subscription_item", "billing_thresholds": None, "created": now,
            "metadata": {}, "price": price.id, "quantity": self._rng.randint(1, 5), "subscription": sub.id,
            "tax_rates": []})
        sub.children.append(item.id)

    def update_subscription(self, id_, change=None):
        """One change Stripe allows now (random if None): "quantity" of an item, "add_item",
        "remove_item" (the item is gone, no event of its own), "metadata", "status"
        (trialing -> active -> past_due -> active), "cancel_at_period_end" (toggled). A canceled
        subscription only takes "metadata". Emits customer.subscription.updated."""
        with self._lock:
            store, rec = self._get(id_, "subscription")
            allowed = self._subscription_changes(store, rec)
            change = change or self._rng.choice(allowed)
            if change not in allowed:
                raise ValueError(f"subscription {id_} cannot take {change!r} now")
            before = self._render(store, "subscription", rec)
            getattr(self, "_sub_" + change)(store, rec)
            self._updated(store, "subscription", rec, "customer.subscription.updated", self._id("req_"),
                          before)
            self._log(store, f"update_subscription {id_} {change}")

    def _subscription_changes(self, store, sub):
        if sub.obj["status"] == "canceled":
            return ["metadata"]
        changes = ["quantity", "metadata", "status", "cancel_at_period_end"]
        if self._unused_prices(store, sub):
            changes.append("add_item")
        if len(sub.children) > 1:  # Stripe keeps at least one item
            changes.append("remove_item")
        return changes

    def _unused_prices(self, store, sub):
        used = {store.objects["subscription_item"][i].obj["price"] for i in sub.children}
        return [p for p in self._prices(store, recurring=True) if p.id not in used]

    def _sub_quantity(self, store, sub):
        item = store.objects["subscription_item"][self._rng.choice(sub.children)].obj
        item["quantity"] = self._rng.choice([q for q in range(1, 11) if q != item["quantity"]])

    def _sub_add_item(self, store, sub):
        self._new_item(store, sub, self._rng.choice(self._unused_prices(store, sub)), self._now())

    def _sub_remove_item(self, store, sub):
        item = self._rng.choice(sub.children)
        sub.children.remove(item)
        store.objects["subscription_item"][item].deleted = True

    def _sub_metadata(self, store, sub):
        sub.obj["metadata"] = {**sub.obj["metadata"], "revision": str(self._next())}

    def _sub_status(self, store, sub):
        if sub.obj["status"] == "trialing":
            sub.obj["trial_end"] = self._now()
        sub.obj["status"] = NEXT_STATUS[sub.obj["status"]]

    def _sub_cancel_at_period_end(self, store, sub):
        flag = not sub.obj["cancel_at_period_end"]
        sub.obj["cancel_at_period_end"] = flag
        sub.obj["cancel_at"] = sub.obj["current_period_end"] if flag else None

    def cancel_subscription(self, id_):
        """Cancel now: customer.subscription.deleted; the subscription stays retrievable."""
        with self._lock:
            store, rec = self._get(id_, "subscription")
            if rec.obj["status"] == "canceled":
                raise ValueError(f"subscription {id_} is canceled already")
            self._cancel(store, rec, self._id("req_"))
            self._log(store, f"cancel_subscription {id_}")

    def _cancel(self, store, sub, request_id):
        now = self._now()
        sub.obj.update(status="canceled", canceled_at=now, ended_at=now, cancel_at_period_end=False,
                       cancel_at=None)
        self._emit(store, "customer.subscription.deleted", self._render(store, "subscription", sub),
                   request_id)

    # -- invoices -------------------------------------------------------------------------------

    def create_invoice(self, customer, n_lines=1, subscription=None):
        """A draft invoice with `n_lines` lines (from the subscription's items if given, else
        one-time prices): invoice.created. Returns its id."""
        with self._lock:
            store, cust = self._live_customer(customer)
            sub = self._get(subscription, "subscription")[1] if subscription else None
            if sub is not None and sub.obj["customer"] != customer:
                raise ValueError(f"subscription {subscription} is not {customer}'s")
            now = self._now()
            rec = self._add(store, "invoice", {
                "id": self._id("in_"), "object": "invoice", "account_country": "US", "amount_due": 0,
                "amount_paid": 0, "amount_remaining": 0, "attempt_count": 0, "attempted": False,
                "auto_advance": False, "billing_reason": "subscription_cycle" if sub else "manual",
                "collection_method": "charge_automatically", "created": now, "currency": "usd",
                "customer": customer, "description": None, "discount": None, "due_date": None,
                "hosted_invoice_url": None, "lines": None, "livemode": False, "metadata": {}, "paid": False,
                "period_end": now, "period_start": now, "status": "draft",
                "status_transitions": {"finalized_at": None, "marked_uncollectible_at": None, "paid_at": None,
                                       "voided_at": None},
                "subscription": subscription, "subtotal": 0, "total": 0})
            for i in range(n_lines):
                self._new_line(store, rec, sub, i, now)
            total = sum(store.objects["line_item"][i].obj["amount"] for i in rec.children)
            rec.obj.update(amount_due=total, amount_remaining=total, subtotal=total, total=total)
            request_id = self._id("req_")
            self._set_currency(store, cust, request_id)
            self._emit(store, "invoice.created", self._render(store, "invoice", rec), request_id)
            self._log(store, f"create_invoice {rec.id} ({customer}, {n_lines} lines)")
            return rec.id

    def _new_line(self, store, invoice, sub, i, now):
        """Line i: the subscription's items in turn, or a one-time price."""
        if sub is not None:
            item = store.objects["subscription_item"][sub.children[i % len(sub.children)]].obj
            price, quantity, item_id = store.objects["price"][item["price"]].obj, item["quantity"], item["id"]
        else:
            price = self._rng.choice(self._prices(store, recurring=False)).obj
            quantity, item_id = self._rng.randint(1, 3), None
        product = store.objects["product"][price["product"]].obj["name"]
        line = self._add(store, "line_item", {
            "id": self._id("il_"), "object": "line_item", "amount": price["unit_amount"] * quantity,
            "currency": "usd",
            "description": f"{quantity} × {product} (at ${price['unit_amount'] / 100:.2f})",
            "discountable": True, "invoice": invoice.id, "livemode": False, "metadata": {},
            "period": {"end": now + PERIOD if sub else now, "start": now}, "price": price["id"],
            "proration": False, "quantity": quantity, "subscription": sub.id if sub else None,
            "subscription_item": item_id, "type": "subscription" if sub else "invoiceitem"})
        invoice.children.append(line.id)

    def _invoice(self, id_, *statuses):
        store, rec = self._get(id_, "invoice")
        if rec.deleted or rec.obj["status"] not in statuses:
            raise ValueError(f"invoice {id_} is {'deleted' if rec.deleted else rec.obj['status']}, "
                             f"not {' or '.join(statuses)}")
        return store, rec

    def update_invoice(self, id_):
        """A new description on a draft or open invoice: invoice.updated."""
        with self._lock:
            store, rec = self._invoice(id_, "draft", "open")
            before = self._render(store, "invoice", rec)
            rec.obj["description"] = f"Invoice note {self._next()}"
            self._updated(store, "invoice", rec, "invoice.updated", self._id("req_"), before)
            self._log(store, f"update_invoice {id_}")

    def finalize_invoice(self, id_):
        """draft -> open: invoice.finalized."""
        with self._lock:
            store, rec = self._invoice(id_, "draft")
            rec.obj["status"] = "open"
            rec.obj["status_transitions"] = {**rec.obj["status_transitions"], "finalized_at": self._now()}
            self._emit(store, "invoice.finalized", self._render(store, "invoice", rec), self._id("req_"))
            self._log(store, f"finalize_invoice {id_}")

    def pay_invoice(self, id_):
        """open -> paid: invoice.paid, then invoice.payment_succeeded, in the same instant."""
        with self._lock:
            store, rec = self._invoice(id_, "open")
            rec.obj.update(status="paid", paid=True, amount_paid=rec.obj["amount_due"], amount_remaining=0,
                           attempted=True, attempt_count=1,
                           status_transitions={**rec.obj["status_transitions"], "paid_at": self._now()})
            request_id = self._id("req_")
            for type_ in ("invoice.paid", "invoice.payment_succeeded"):
                self._emit(store, type_, self._render(store, "invoice", rec), request_id)
            self._log(store, f"pay_invoice {id_}")

    def void_invoice(self, id_):
        """open -> void: invoice.voided."""
        with self._lock:
            store, rec = self._invoice(id_, "open")
            rec.obj["status"] = "void"
            rec.obj["status_transitions"] = {**rec.obj["status_transitions"], "voided_at": self._now()}
            self._emit(store, "invoice.voided", self._render(store, "invoice", rec), self._id("req_"))
            self._log(store, f"void_invoice {id_}")

    def delete_invoice(self, id_):
        """Delete a draft: invoice.deleted. The invoice and its lines are gone from the API."""
        with self._lock:
            store, rec = self._invoice(id_, "draft")
            rec.deleted = True
            for line in rec.children:
                store.objects["line_item"][line].deleted = True
            self._emit(store, "invoice.deleted", self._render(store, "invoice", rec), self._id("req_"))
            self._log(store, f"delete_invoice {id_}")

    # -- random operations ----------------------------------------------------------------------

    def random_operation(self, account=None):
        """One valid operation, chosen at random (creates while the account is small, then mostly
        updates). Returns its description, as in history."""
        with self._lock:
            store = self._store(account)
            weights, ops = zip(*self._operations(store))
            self._rng.choices(ops, weights)[0]()
            return self.history[-1][1]

    def _operations(self, store):
        """(weight, operation) of every operation valid now."""
        rng = self._rng
        objects = store.objects
        customers = [c.id for c in objects["customer"].values() if not c.deleted]
        subs = [s for s in objects["subscription"].values()
                if not objects["customer"][s.obj["customer"]].deleted]
        live = [s.id for s in subs if s.obj["status"] != "canceled"]
        canceled = [s.id for s in subs if s.obj["status"] == "canceled"]
        invoices = [i for i in objects["invoice"].values()
                    if not i.deleted and not objects["customer"][i.obj["customer"]].deleted]
        drafts = [i.id for i in invoices if i.obj["status"] == "draft"]
        opened = [i.id for i in invoices if i.obj["status"] == "open"]
        ops = [(30 if len(customers) < 5 else 6, lambda: self.create_customer(store.account))]
        if customers:
            ops += [(20, lambda: self.update_customer(rng.choice(customers))),
                    (10, lambda: self._random_subscription(rng.choice(customers))),
                    (8, lambda: self._random_invoice(store, rng.choice(customers)))]
        if len(customers) > 3:
            ops.append((3, lambda: self.delete_customer(rng.choice(customers))))
        if live:
            ops += [(20, lambda: self.update_subscription(rng.choice(live))),
                    (4, lambda: self.cancel_subscription(rng.choice(live)))]
        if canceled:
            ops.append((1, lambda: self.update_subscription(rng.choice(canceled))))
        if drafts or opened:
            ops.append((8, lambda: self.update_invoice(rng.choice(drafts + opened))))
        if drafts:
            ops += [(6, lambda: self.finalize_invoice(rng.choice(drafts))),
                    (2, lambda: self.delete_invoice(rng.choice(drafts)))]
        if opened:
            ops += [(5, lambda: self.pay_invoice(rng.choice(opened))),
                    (2, lambda: self.void_invoice(rng.choice(opened)))]
        return ops

    def _random_subscription(self, customer):
        n = self._rng.randint(1, 12) if self._rng.random() < 0.1 else self._rng.randint(1, 3)
        self.create_subscription(customer, n)

    def _random_invoice(self, store, customer):
        n = self._rng.randint(11, 25) if self._rng.random() < 0.15 else self._rng.randint(1, 5)
        subs = [s.id for s in self._subscriptions_of(store, customer) if s.obj["status"] != "canceled"]
        sub = self._rng.choice(subs) if subs and self._rng.random() < 0.5 else None
        self.create_invoice(customer, n, sub)

    # -- inspection -----------------------------------------------------------------------------

    def take_events(self):
        """Events created since the previous call (all accounts), oldest first."""
        with self._lock:
            new = self._all_events[self._taken:]
            self._taken = len(self._all_events)
            return [frozen(r.obj) for r in new]

    def events(self, account=None):
        """Every event of an account, oldest first."""
        with self._lock:
            return [frozen(r.obj) for r in self._store(account).objects["event"].values()]

    @staticmethod
    def payload(event):
        """The body Stripe POSTs to a webhook endpoint."""
        return json.dumps(event, indent=2)

    def truth(self, account=None):
        """{object name: {id: full object}}; deleted objects in their last state, "deleted": True."""
        with self._lock:
            store = self._store(account)
            out = {}
            for name in TRUTH_NAMES:
                out[name] = {}
                for id_, rec in store.objects[name].items():
                    obj = self._render(store, name, rec)
                    if rec.deleted:
                        obj["deleted"] = True
                    out[name][id_] = obj
            return frozen(out)

    def reset_requests(self):
        with self._lock:
            self.requests.clear()

    # -- faults ---------------------------------------------------------------------------------

    def fault(self, kind, path="/v1/", *, status=500, times=None, retry_after=None, delay=0.0,
              account=None, after=0):
        """Add a fault rule (see Rule); rules are tried in the order added. Request faults (error,
        rate_limit, hang, disconnect) are decided before the answer is computed, list faults
        (has_more_empty, stuck_cursor, missing_id, cycle, omit_item) after, and only on list
        answers they can bend."""
        if kind not in REQUEST_FAULTS + LIST_FAULTS:
            raise ValueError(f"unknown fault {kind!r}")
        rule = Rule(kind, path, status, times, retry_after, delay, account, after)
        with self._lock:
            self._rules.append(rule)
        return rule

    def clear_faults(self):
        with self._lock:
            self._rules.clear()

    def _take_fault(self, kinds, path, account, bend=None):
        """The first rule of `kinds` that fires on this request: (rule, bent page or None)."""
        for rule in self._rules:
            if rule.kind in kinds and rule.matches(path, account):
                bent = bend(rule.kind) if bend else None
                if (bend is None or bent is not None) and rule.take():
                    detail = bent[1] if bent else None
                    self.fired.append((time.monotonic(), rule.kind, path, account, detail))
                    return rule, bent
        return None, None

    def _fault_reply(self, rule):
        if rule.kind == "rate_limit":
            headers = {} if rule.retry_after is None else {"Retry-After": f"{rule.retry_after:g}"}
            error = StripeError(429, "Request rate limit exceeded (simulated).", "rate_limit_error",
                                code="rate_limit")
            return 429, error.body, headers
        type_ = "api_error" if rule.status >= 500 else "invalid_request_error"
        return rule.status, StripeError(rule.status, f"Simulated fault: HTTP {rule.status}.", type_).body, {}

    def _bend(self, kind, page, earlier):
        """(page as the fault `kind` answers it, detail), or None where it cannot apply."""
        if kind == "has_more_empty":
            return replace(page, records=[], has_more=True), None
        if kind == "missing_id":
            ok = page.has_more and page.records
            return (replace(page, strip_last_id=True), page.records[-1].id) if ok else None
        if kind == "omit_item":
            # never the cursor-carrying last item of a has_more page: the next page would restore it
            candidates = page.records[:-1] if page.has_more else page.records
            if not candidates:
                return None
            gone = candidates[len(candidates) // 2]
            return replace(page, records=[r for r in page.records if r is not gone]), gone.id
        if page.cursor is None:
            return None
        if kind == "stuck_cursor":
            records = page.records[:page.limit - 1] + [page.cursor]
            return replace(page, records=records, has_more=True), page.cursor.id
        here = page.ids.index(page.cursor.id)  # "cycle": back to a page served before this one
        back = [c for c in earlier if c is None or (c in page.ids and page.ids.index(c) < here)]
        if not back:
            return None
        records, has_more = page.at(back[0])
        return replace(page, records=records, has_more=has_more), back[0]

    # -- the HTTP API ---------------------------------------------------------------------------

    def _handle(self, target, headers):
        """(status, JSON text, extra headers) for a GET, or None to close without answering."""
        arrived = time.monotonic()
        url = urlsplit(target)
        segments = [unquote(s) for s in url.path.split("/")]
        path = "/".join(segments)
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        account = headers.get("Stripe-Account")
        with self._lock:
            rule, _ = self._take_fault(REQUEST_FAULTS, path, account)
        if rule is not None and rule.kind == "hang":
            time.sleep(rule.delay)  # then answer normally: the client may have given up
        with self._lock:
            if rule is not None and rule.kind == "disconnect":
                reply = None
            elif rule is not None and rule.kind in ("error", "rate_limit"):
                reply = self._fault_reply(rule)
            else:
                reply = self._answer(segments, path, query, headers, account)
            self.requests.append((arrived, "GET", path, query, account, reply and reply[0]))
            if reply is None:
                return None
            status, body, extra = reply
            return status, json.dumps(body), {"Request-Id": self._id("req_", self._http_rng),
                                              "Stripe-Version": API_VERSION, **extra}

    def _answer(self, segments, path, query, headers, account):
        """(status, body, headers) of the answer, list faults applied."""
        try:
            self._authenticate(headers.get("Authorization"))
            if account not in self._stores:
                raise StripeError(403, f"The provided key '{mask(self.api_key)}' does not have access to "
                                       f"account '{account}' (or that account does not exist). Application "
                                       "access may have been revoked.", code="account_invalid")
            found = self._route(self._stores[account], segments, path, query)
        except StripeError as e:
            return e.status, e.body, {}
        if isinstance(found, Page):
            found = self._list_faults(found, path, query, account).body()
        return 200, found, {}

    def _authenticate(self, authorization):
        key = authorization[7:].strip() if authorization and authorization.startswith("Bearer ") else None
        if key is None:
            raise StripeError(401, "You did not provide an API key. You need to provide your API key in the "
                                   "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
                                   "YOUR_SECRET_KEY').")
        if not hmac.compare_digest(key.encode(), self.api_key.encode()):
            raise StripeError(401, f"Invalid API Key provided: {mask(key)}")

    def _list_faults(self, page, path, query, account):
        """Apply the first list fault that fires, and remember the cursors this walk has served."""
        walk = (account, path, tuple(sorted((k, v) for k, v in query.items()
                                            if k not in ("starting_after", "ending_before"))))
        earlier = self._walks.setdefault(walk, [])
        _, bent = self._take_fault(LIST_FAULTS, path, account, lambda kind: self._bend(kind, page, earlier))
        served = page.cursor.id if page.cursor else None
        if not query.get("ending_before") and served not in earlier:
            earlier.append(served)
        return bent[0] if bent else page

    def _route(self, store, segments, path, query):
        """The object (dict) or the Page a path names."""
        if len(segments) >= 3 and segments[:2] == ["", "v1"] and segments[2] in LISTS:
            name, rest = LISTS[segments[2]], segments[3:]
            if not rest:
                return self._list(store, name, query, "/v1/" + segments[2])
            if len(rest) == 1 and rest[0]:
                return self._retrieve(store, name, rest[0])
            if name == "invoice" and len(rest) == 2 and rest[1] == "lines":
                return self._lines(store, rest[0], query)
        raise StripeError(404, f"Unrecognized request URL (GET: {path}). Please see https://stripe.com/docs "
                               "or we can help at https://support.stripe.com/.")

    def _retrieve(self, store, name, id_):
        rec = store.objects[name].get(id_)
        gone = rec is None or (rec.deleted and name != "customer") or (name == "event" and self._expired(rec))
        if gone:
            raise missing(404, name, id_, "id")
        return self._shown(store, name, rec)

    def _list(self, store, name, query, url):
        """A top-level list: newest first, ties in one second newest first too."""
        if name == "subscription_item":
            return self._items(store, query)
        records = store.objects[name].values()
        if name == "event":
            records = [r for r in records if not self._expired(r)]
        elif name == "invoice":
            records = [r for r in records if not r.deleted]  # a deleted draft is gone, cursors too
        ordering = sorted(records, key=lambda r: (r.obj["created"], r.seq), reverse=True)
        created = self._created_filter(query)
        status = self._status_filter(query) if name == "subscription" else (lambda r: True)

        def shown(r):
            return not r.deleted and created(r) and status(r)

        return self._page(store, name, query, ordering, shown, url)

    def _items(self, store, query):
        sub_id = query.get("subscription")
        if not sub_id:
            raise StripeError(400, "Missing required param: subscription.", code="parameter_missing",
                              param="subscription")
        self._no_created_filter(query)
        sub = store.objects["subscription"].get(sub_id)
        if sub is None:
            raise missing(400, "subscription", sub_id, "subscription")
        ordering = [store.objects["subscription_item"][i] for i in sub.children]
        return self._page(store, "subscription_item", query, ordering, lambda r: True,
                          "/v1/subscription_items")

    def _lines(self, store, invoice_id, query):
        inv = store.objects["invoice"].get(invoice_id)
        if inv is None or inv.deleted:
            raise missing(404, "invoice", invoice_id, "id")
        self._no_created_filter(query)
        ordering = [store.objects["line_item"][i] for i in inv.children]
        return self._page(store, "line_item", query, ordering, lambda r: True,
                          f"/v1/invoices/{invoice_id}/lines")

    def _page(self, store, name, query, ordering, shown, url):
        """Stripe's cursor paging. `ordering` holds every object a cursor may name (a deleted
        customer, a canceled subscription the filter hides); `shown` says which the list shows."""
        # Stripe's limit is a maximum: a smaller page_size makes a few objects span many pages.
        limit = min(self._limit(query), self.page_size or 100)
        after, before = query.get("starting_after") or None, query.get("ending_before") or None
        if after and before:
            raise StripeError(400, "You may only specify one of these parameters: ending_before, "
                                   "starting_after.", param="starting_after")
        ids = [r.id for r in ordering]
        cursor = after or before
        if cursor is not None and cursor not in ids:
            raise missing(400, name, cursor, "starting_after" if after else "ending_before")

        def at(cursor):
            start = 0 if cursor is None else ids.index(cursor) + 1
            rest = [r for r in ordering[start:] if shown(r)]
            return rest[:limit], len(rest) > limit

        if before:
            rest = [r for r in ordering[:ids.index(before)] if shown(r)]
            records, has_more = rest[-limit:], len(rest) > limit
        else:
            records, has_more = at(after)
        return Page(records, has_more, limit, url, ids, at, ordering[ids.index(after)] if after else None,
                    lambda r: self._shown(store, name, r))

    @staticmethod
    def _limit(query):
        raw = query.get("limit", "10")
        try:
            limit = int(raw)
        except ValueError:
            raise StripeError(400, f"Invalid integer: {raw}", param="limit") from None
        if limit < 1:
            raise StripeError(400, "This value must be greater than or equal to 1.", param="limit")
        if limit > 100:
            raise StripeError(400, "This value must be less than or equal to 100.", param="limit")
        return limit

    @staticmethod
    def _created_filter(query):
        tests = []
        for key, test in CREATED_OPS.items():
            if key in query:
                try:
                    tests.append((test, int(query[key])))
                except ValueError:
                    raise StripeError(400, f"Invalid integer: {query[key]}", param=key) from None
        return lambda r: all(test(r.obj["created"], bound) for test, bound in tests)

    @staticmethod
    def _no_created_filter(query):
        for key in query:
            if key.startswith("created"):
                raise StripeError(400, f"Received unknown parameter: {key}", param=key)

    @staticmethod
    def _status_filter(query):
        """Stripe's default hides canceled subscriptions; `all` shows every status."""
        status = query.get("status")
        if status is None:
            return lambda r: r.obj["status"] != "canceled"
        if status == "all":
            return lambda r: True
        if status == "ended":
            return lambda r: r.obj["status"] in ("canceled", "incomplete_expired")
        if status not in SUBSCRIPTION_STATUSES:
            raise StripeError(400, "Invalid status: must be one of all, ended, "
                              + ", ".join(SUBSCRIPTION_STATUSES), param="status")
        return lambda r: r.obj["status"] == status

    def _handler_class(self):
        sim = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes; with Nagle on, the second waits ~40 ms for
            # the client's delayed ACK on every response.
            disable_nagle_algorithm = True

            def do_GET(self):
                reply = sim._handle(self.path, self.headers)
                if reply is None:
                    self.close_connection = True  # "disconnect": closed without a byte
                    return
                status, body, headers = reply
                data = body.encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a hang longer than its timeout)

            def log_message(self, *args):
                pass  # tests read sim.requests instead

        return Handler
