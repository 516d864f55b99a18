"""Tests of the simulated Stripe API alone (no Postgres): a differential test is only as good as
the truth it compares with. Run on their own with `pytest --noconftest test_sim_stripe.py`."""

import hashlib
import hmac
import http.client
import json
import threading
import time
from urllib.parse import urlencode, urlsplit

import pytest

from sim_stripe import SimStripe, sign

KEY = "sk_test_sim_" + "k3y" * 10
ACCT = "acct_sim_c1"
T0 = 1_700_000_000


class Clock:
    """A settable clock, so that `created` seconds are chosen by the test."""

    def __init__(self, t=T0):
        self.t = t

    def __call__(self):
        return self.t


@pytest.fixture
def sim_clock():
    return Clock()


@pytest.fixture
def sim(sim_clock):
    s = SimStripe(seed=3, api_key=KEY, connected_accounts=(ACCT,), clock=sim_clock).start()
    s.take_events()  # the catalog's product.created / price.created
    yield s
    s.stop()


def request(sim, path, params=None, account=None, key=KEY):
    """(status, headers, JSON body) of a GET on a fresh connection."""
    url = urlsplit(sim.url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    if account:
        headers["Stripe-Account"] = account
    try:
        conn.request("GET", path + ("?" + urlencode(params) if params else ""), headers=headers)
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), json.loads(resp.read())
    finally:
        conn.close()


def get(sim, path, params=None, account=None):
    """The body of a GET that must succeed."""
    status, _, body = request(sim, path, params, account)
    assert status == 200, body
    return body


def error(sim, path, params=None, account=None, key=KEY):
    """(status, error object) of a GET that must fail."""
    status, _, body = request(sim, path, params, account, key)
    assert status >= 400, body
    return status, body["error"]


def ids(page):
    return [o["id"] for o in page["data"]]


def walk(sim, path, params=None, account=None, limit=100):
    """Every object of a list, following starting_after to the end."""
    params = {**(params or {}), "limit": limit}
    objs = []
    while True:
        page = get(sim, path, params, account)
        objs += page["data"]
        if not page["has_more"]:
            return objs
        params["starting_after"] = page["data"][-1]["id"]


def event_types(sim):
    return [e["type"] for e in sim.take_events()]


# -- paging ----------------------------------------------------------------------------------


def test_pages_newest_first_both_ways(sim, sim_clock):
    made = []
    for i in range(25):
        made.append(sim.create_customer())
        sim_clock.t += i % 3 == 2  # three customers per second
    newest = made[::-1]
    first = get(sim, "/v1/customers")  # default limit 10
    assert (ids(first), first["has_more"], first["url"]) == (newest[:10], True, "/v1/customers")
    second = get(sim, "/v1/customers", {"limit": 10, "starting_after": newest[9]})
    assert (ids(second), second["has_more"]) == (newest[10:20], True)
    third = get(sim, "/v1/customers", {"limit": 10, "starting_after": newest[19]})
    assert (ids(third), third["has_more"]) == (newest[20:], False)
    back = get(sim, "/v1/customers", {"limit": 10, "ending_before": newest[20]})
    assert (ids(back), back["has_more"]) == (newest[10:20], True)
    back = get(sim, "/v1/customers", {"limit": 10, "ending_before": newest[10]})
    assert (ids(back), back["has_more"]) == (newest[:10], False)


def test_created_filters(sim, sim_clock):
    by_second = {}
    for dt in range(3):
        sim_clock.t = T0 + 10 + dt
        by_second[dt] = [sim.create_customer() for _ in range(3)][::-1]

    def listed(**params):
        return ids(get(sim, "/v1/customers", {f"created[{k}]" if k != "eq" else "created": v
                                              for k, v in params.items()}))

    assert listed(gte=T0 + 11) == by_second[2] + by_second[1]
    assert listed(gt=T0 + 11) == by_second[2]
    assert listed(lt=T0 + 11, gte=T0 + 10) == by_second[0]
    assert listed(lte=T0 + 11, gt=T0 + 10) == by_second[1]
    assert listed(eq=T0 + 12) == by_second[2]
    sim.create_subscription(by_second[0][0])
    sim.create_invoice(by_second[0][0])
    for path in ("/v1/customers", "/v1/products", "/v1/prices", "/v1/subscriptions", "/v1/invoices",
                 "/v1/events"):
        assert get(sim, path, {"created[lte]": T0 + 12})["data"], path
        assert get(sim, path, {"created[gt]": T0 + 12})["data"] == [], path
    status, err = error(sim, "/v1/customers", {"created[gte]": "soon"})
    assert (status, err["param"]) == (400, "created[gte]")


def test_objects_of_one_second_page_stably_and_exactly_once(sim):
    made = [sim.create_customer() for _ in range(250)]  # the clock does not move
    for limit in (100, 7):
        assert [o["id"] for o in walk(sim, "/v1/customers", limit=limit)] == made[::-1]


def test_bad_list_parameters(sim):
    for limit in ("0", "101", "ten"):
        status, err = error(sim, "/v1/customers", {"limit": limit})
        assert (status, err["type"], err["param"]) == (400, "invalid_request_error", "limit")
    status, err = error(sim, "/v1/customers", {"starting_after": "cus_nope"})
    assert (status, err["code"], err["param"], err["message"]) == (
        400, "resource_missing", "starting_after", "No such customer: 'cus_nope'")
    product = get(sim, "/v1/products")["data"][0]["id"]
    assert error(sim, "/v1/customers", {"starting_after": product})[1]["code"] == "resource_missing"
    cus = sim.create_customer()
    assert error(sim, "/v1/customers", {"starting_after": cus, "ending_before": cus})[0] == 400


# -- subscriptions, deletions, nested lists ---------------------------------------------------


def test_subscription_status_filters(sim):
    cus = sim.create_customer()
    old, canceled, new = (sim.create_subscription(cus) for _ in range(3))
    sim.cancel_subscription(canceled)
    assert ids(get(sim, "/v1/subscriptions")) == [new, old]
    assert ids(get(sim, "/v1/subscriptions", {"status": "all"})) == [new, canceled, old]
    assert ids(get(sim, "/v1/subscriptions", {"status": "canceled"})) == [canceled]
    assert ids(get(sim, "/v1/subscriptions", {"starting_after": canceled})) == [old]
    assert get(sim, f"/v1/subscriptions/{canceled}")["status"] == "canceled"
    assert error(sim, "/v1/subscriptions", {"status": "happy"})[1]["param"] == "status"


def test_deleted_customer(sim):
    older, gone, newer = (sim.create_customer() for _ in range(3))
    sub = sim.create_subscription(gone)
    sim.take_events()
    sim.delete_customer(gone)
    events = sim.take_events()
    assert [e["type"] for e in events] == ["customer.subscription.deleted", "customer.deleted"]
    assert len({e["request"]["id"] for e in events}) == 1  # one API request
    assert events[1]["data"]["object"]["email"]  # the last full state, not the stub
    assert ids(get(sim, "/v1/customers")) == [newer, older]
    assert get(sim, f"/v1/customers/{gone}") == {"id": gone, "object": "customer", "deleted": True}
    assert ids(get(sim, "/v1/customers", {"starting_after": gone})) == [older]
    assert get(sim, f"/v1/subscriptions/{sub}")["status"] == "canceled"
    truth = sim.truth()["customer"][gone]
    assert truth["deleted"] is True and truth["email"]


def test_deleted_draft_invoice(sim):
    cus = sim.create_customer()
    older, gone = sim.create_invoice(cus, 3), sim.create_invoice(cus, 2)
    lines = ids(get(sim, f"/v1/invoices/{gone}")["lines"])
    sim.delete_invoice(gone)
    assert event_types(sim)[-1] == "invoice.deleted"
    for path in (f"/v1/invoices/{gone}", f"/v1/invoices/{gone}/lines"):
        status, err = error(sim, path)
        assert (status, err["code"], err["param"], err["message"]) == (
            404, "resource_missing", "id", f"No such invoice: '{gone}'")
    assert ids(get(sim, "/v1/invoices")) == [older]
    assert error(sim, "/v1/invoices", {"starting_after": gone})[0] == 400  # gone from the ordering too
    truth = sim.truth()
    assert truth["invoice"][gone]["deleted"] is True
    assert all(truth["line_item"][line]["deleted"] is True for line in lines)
    with pytest.raises(ValueError):
        sim.finalize_invoice(gone)


def test_removed_subscription_item(sim):
    sub = sim.create_subscription(sim.create_customer(), n_items=3)
    before = ids(get(sim, f"/v1/subscriptions/{sub}")["items"])
    sim.take_events()
    sim.update_subscription(sub, "remove_item")
    [event] = sim.take_events()
    assert event["type"] == "customer.subscription.updated"
    after = ids(event["data"]["object"]["items"])
    [removed] = set(before) - set(after)
    assert ids(event["data"]["previous_attributes"]["items"]) == before
    status, err = error(sim, f"/v1/subscription_items/{removed}")
    assert (status, err["code"]) == (404, "resource_missing")
    assert ids(get(sim, "/v1/subscription_items", {"subscription": sub})) == after
    assert sim.truth()["subscription_item"][removed]["deleted"] is True


def test_invoice_with_25_lines(sim):
    inv = sim.create_invoice(sim.create_customer(), n_lines=25)
    lines = get(sim, f"/v1/invoices/{inv}")["lines"]
    assert (len(lines["data"]), lines["has_more"], lines["total_count"], lines["url"]) == (
        10, True, 25, f"/v1/invoices/{inv}/lines")
    walked = walk(sim, f"/v1/invoices/{inv}/lines", limit=10)
    assert [o["id"] for o in walked[:10]] == ids(lines)
    assert len({o["id"] for o in walked}) == 25 and {o["invoice"] for o in walked} == {inv}
    truth = sim.truth()
    assert walked == [truth["line_item"][o["id"]] for o in walked]
    assert truth["invoice"][inv]["total"] == sum(o["amount"] for o in walked)
    assert error(sim, f"/v1/invoices/{inv}/lines", {"created[gte]": T0})[0] == 400


def test_subscription_with_12_items(sim):
    sub = sim.create_subscription(sim.create_customer(), n_items=12)
    items = get(sim, f"/v1/subscriptions/{sub}")["items"]
    assert (len(items["data"]), items["has_more"], items["total_count"], items["url"]) == (
        10, True, 12, f"/v1/subscription_items?subscription={sub}")
    walked = walk(sim, "/v1/subscription_items", {"subscription": sub}, limit=5)
    assert [o["id"] for o in walked[:10]] == ids(items) and len({o["id"] for o in walked}) == 12
    assert all(o["price"]["object"] == "price" and o["subscription"] == sub for o in walked)
    assert len({o["price"]["id"] for o in walked}) == 12  # Stripe: one item per price
    assert error(sim, "/v1/subscription_items")[1]["param"] == "subscription"
    assert error(sim, "/v1/subscription_items", {"subscription": "sub_nope"})[1]["code"] == "resource_missing"
    assert error(sim, "/v1/subscription_items", {"subscription": sub, "created[gt]": 1})[0] == 400


# -- events -----------------------------------------------------------------------------------


def test_event_types_of_each_operation(sim):
    cus = sim.create_customer()
    assert event_types(sim) == ["customer.created"]
    sim.update_customer(cus)
    assert event_types(sim) == ["customer.updated"]
    sub = sim.create_subscription(cus, 2)
    assert event_types(sim) == ["customer.updated", "customer.subscription.created"]  # currency set
    for change in ("quantity", "add_item", "remove_item", "metadata", "status", "cancel_at_period_end"):
        sim.update_subscription(sub, change)
        assert event_types(sim) == ["customer.subscription.updated"], change
    inv = sim.create_invoice(cus, 2, subscription=sub)
    assert event_types(sim) == ["invoice.created"]
    sim.update_invoice(inv)
    sim.finalize_invoice(inv)
    sim.update_invoice(inv)
    assert event_types(sim) == ["invoice.updated", "invoice.finalized", "invoice.updated"]
    sim.pay_invoice(inv)
    events = sim.take_events()
    assert [e["type"] for e in events] == ["invoice.paid", "invoice.payment_succeeded"]
    assert {e["created"] for e in events} == {events[0]["created"]}
    assert {e["data"]["object"]["status"] for e in events} == {"paid"}
    other = sim.create_invoice(cus)
    sim.finalize_invoice(other)
    sim.void_invoice(other)
    draft = sim.create_invoice(cus)
    sim.delete_invoice(draft)
    assert event_types(sim) == ["invoice.created", "invoice.finalized", "invoice.voided", "invoice.created",
                                "invoice.deleted"]
    sim.cancel_subscription(sub)
    [event] = sim.take_events()
    assert event["type"] == "customer.subscription.deleted"
    assert event["data"]["object"]["status"] == "canceled" and event["data"]["object"]["canceled_at"]
    sim.update_subscription(sub)  # only metadata: Stripe allows it on a canceled subscription
    assert event_types(sim) == ["customer.subscription.updated"]
    with pytest.raises(ValueError):
        sim.pay_invoice(inv)


def test_event_envelope_snapshots_and_previous_attributes(sim, sim_clock):
    cus = sim.create_customer()
    sim_clock.t += 5
    sim.update_customer(cus, "email")
    sim.update_customer(cus, "metadata")
    created, email, meta = sim.take_events()
    first = created["data"]["object"]
    assert set(created) == {"id", "object", "api_version", "created", "data", "livemode", "pending_webhooks",
                            "request", "type"}
    assert (created["object"], created["api_version"], created["livemode"], created["pending_webhooks"]) == (
        "event", "2023-08-16", False, 1)
    assert created["request"]["id"].startswith("req_") and created["request"]["idempotency_key"] is None
    assert "previous_attributes" not in created["data"]
    assert (created["created"], email["created"]) == (T0, T0 + 5)
    assert email["data"]["previous_attributes"] == {"email": first["email"]}
    assert email["data"]["object"]["email"] != first["email"]
    assert meta["data"]["previous_attributes"] == {"metadata": {"revision": None}}
    assert meta["data"]["object"]["email"] == email["data"]["object"]["email"]
    original = first["email"]
    created["data"]["object"]["email"] = "changed@example.com"
    assert sim.events()[-3]["data"]["object"]["email"] == original  # frozen, and copies
    assert sim.truth()["customer"][cus]["metadata"] == meta["data"]["object"]["metadata"]


def test_webhook_payload_and_signature(sim):
    sim.create_customer()
    [event] = sim.take_events()
    payload = sim.payload(event)
    assert json.loads(payload) == event and payload == json.dumps(event, indent=2)
    mac = hmac.new(b"whsec_x", f"123.{payload}".encode(), hashlib.sha256).hexdigest()
    assert sign(payload, "whsec_x", t=123) == f"t=123,v1={mac}"
    assert sign(payload, "whsec_x").startswith(f"t={int(time.time())}")


def test_events_api(sim, sim_clock):
    sim.take_events()
    cus = sim.create_customer()
    sim_clock.t += 10
    sim.update_customer(cus)
    sim.create_customer(account=ACCT)
    platform = sim.events()
    listed = walk(sim, "/v1/events", limit=3)
    assert listed == platform[::-1]
    assert get(sim, f"/v1/events/{platform[-1]['id']}") == platform[-1]
    assert ids(get(sim, "/v1/events", {"created[gt]": T0})) == [platform[-1]["id"]]
    [connected] = [e for e in sim.take_events() if "account" in e]
    assert connected["account"] == ACCT and "account" not in platform[-1]
    assert ids(get(sim, "/v1/events", account=ACCT))[0] == connected["id"]
    sim.event_retention = 5  # only events of the last 5 seconds
    assert ids(get(sim, "/v1/events")) == [platform[-1]["id"]]
    assert error(sim, f"/v1/events/{platform[0]['id']}")[0] == 404
    assert error(sim, "/v1/events", {"starting_after": platform[0]["id"]})[0] == 400


# -- accounts and authentication ------------------------------------------------------------


def test_connected_accounts_are_isolated(sim):
    mine = sim.create_customer()
    theirs = sim.create_customer(account=ACCT)
    assert ids(get(sim, "/v1/customers")) == [mine]
    assert ids(get(sim, "/v1/customers", account=ACCT)) == [theirs]
    assert error(sim, f"/v1/customers/{theirs}")[0] == 404
    assert get(sim, f"/v1/customers/{theirs}", account=ACCT)["id"] == theirs
    assert set(ids(get(sim, "/v1/products"))).isdisjoint(ids(get(sim, "/v1/products", account=ACCT)))
    assert list(sim.truth(ACCT)["customer"]) == [theirs]
    assert sim.random_operation(account=ACCT).endswith(f"@{ACCT}")
    status, err = error(sim, "/v1/customers", account="acct_nope")
    assert (status, err["code"], err["type"]) == (403, "account_invalid", "invalid_request_error")
    assert KEY not in err["message"]


def test_bad_or_missing_api_key(sim):
    wrong = "sk_test_wrong" + "s3cret" * 5
    status, err = error(sim, "/v1/customers", key=wrong)
    assert (status, err["type"]) == (401, "invalid_request_error")
    assert err["message"].startswith("Invalid API Key provided: sk_test_")
    assert wrong not in err["message"] and KEY not in err["message"] and err["message"].endswith(wrong[-4:])
    status, err = error(sim, "/v1/customers", key=None)
    assert status == 401 and "did not provide an API key" in err["message"]


def test_http_details(sim):
    cus = sim.create_customer()
    status, headers, body = request(sim, "/v1/customers/" + cus.replace("_", "%5F"))
    assert status == 200 and body["id"] == cus
    assert headers["Content-Type"] == "application/json"
    assert headers["Request-Id"].startswith("req_") and headers["Date"]
    status, err = error(sim, "/v1/nope")
    assert (status, err["type"]) == (404, "invalid_request_error")
    assert err["message"].startswith("Unrecognized request URL (GET: /v1/nope)")
    status, err = error(sim, "/v1/customers/cus_nope")
    assert (status, err["code"], err["param"], err["message"]) == (
        404, "resource_missing", "id", "No such customer: 'cus_nope'")
    for path in ("/v1/products", "/v1/prices"):
        obj = get(sim, path)["data"][0]
        assert get(sim, f"{path}/{obj['id']}") == obj
    at = time.monotonic()
    sim.reset_requests()
    request(sim, "/v1/customers", {"limit": 3}, account=ACCT)
    [(t, method, path, query, account, status)] = sim.requests
    assert t >= at
    assert (method, path, query, account, status) == ("GET", "/v1/customers", {"limit": "3"}, ACCT, 200)


# -- faults -----------------------------------------------------------------------------------


def statuses(sim, path, n, account=None):
    return [request(sim, path, account=account)[0] for _ in range(n)]


def test_error_fault_times_and_paths(sim):
    sim.fault("error", path="/v1/customers", status=503, times=2)
    assert request(sim, "/v1/products")[0] == 200
    status, _, body = request(sim, "/v1/customers")
    assert (status, body["error"]["type"]) == (503, "api_error")
    assert statuses(sim, "/v1/customers", 2) == [503, 200]
    assert [f[1] for f in sim.fired] == ["error", "error"]


def test_rate_limit_fault(sim):
    sim.fault("rate_limit", path="/v1/", times=3, retry_after=1)
    for _ in range(3):
        status, headers, body = request(sim, "/v1/prices")
        assert (status, headers["Retry-After"], body["error"]["type"]) == (429, "1", "rate_limit_error")
    assert request(sim, "/v1/prices")[0] == 200


def test_after_account_order_and_clear(sim):
    sim.fault("error", path="/v1/customers", after=2, times=1)
    assert statuses(sim, "/v1/customers", 4) == [200, 200, 500, 200]
    sim.fault("error", status=502, account=ACCT)
    sim.fault("error", status=504, account=ACCT)  # never reached: the first rule lasts
    assert statuses(sim, "/v1/customers", 1) == [200]
    assert statuses(sim, "/v1/customers", 2, account=ACCT) == [502, 502]
    sim.clear_faults()
    assert statuses(sim, "/v1/customers", 1, account=ACCT) == [200]


def test_hang_fault(sim):
    sim.fault("hang", path="/v1/invoices", delay=0.3, times=1)
    start = time.monotonic()
    assert request(sim, "/v1/invoices")[0] == 200
    assert time.monotonic() - start >= 0.3
    start = time.monotonic()
    assert request(sim, "/v1/invoices")[0] == 200
    assert time.monotonic() - start < 0.3


def test_disconnect_fault(sim):
    sim.fault("disconnect", times=1)
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        request(sim, "/v1/customers")
    assert request(sim, "/v1/customers")[0] == 200
    assert [r[5] for r in sim.requests] == [None, 200]


def test_has_more_empty_fault(sim):
    sim.create_customer()
    rule = sim.fault("has_more_empty", path="/v1/customers", times=1)
    cus = sim.create_customer()
    assert get(sim, f"/v1/customers/{cus}")["id"] == cus  # not a list: untouched
    assert rule.times == 1
    empty = {"object": "list", "data": [], "has_more": True, "url": "/v1/customers"}
    assert get(sim, "/v1/customers") == empty
    assert len(get(sim, "/v1/customers")["data"]) == 2


def test_stuck_cursor_fault(sim):
    made = [sim.create_customer() for _ in range(5)][::-1]
    rule = sim.fault("stuck_cursor", path="/v1/customers", times=1)
    assert ids(get(sim, "/v1/customers", {"limit": 2})) == made[:2]  # no starting_after: skipped
    assert rule.times == 1
    stuck = get(sim, "/v1/customers", {"limit": 2, "starting_after": made[1]})
    assert (ids(stuck), stuck["has_more"]) == ([made[2], made[1]], True)
    assert ids(get(sim, "/v1/customers", {"limit": 2, "starting_after": made[1]})) == made[2:4]


def test_missing_id_fault(sim):
    for _ in range(3):
        sim.create_customer()
    rule = sim.fault("missing_id", path="/v1/customers", times=1)
    assert "id" in get(sim, "/v1/customers")["data"][-1]  # no has_more: skipped
    assert rule.times == 1
    page = get(sim, "/v1/customers", {"limit": 2})
    assert page["has_more"] and "id" in page["data"][0] and "id" not in page["data"][1]
    assert page["data"][1]["object"] == "customer"


def test_cycle_fault(sim):
    made = [sim.create_customer() for _ in range(6)][::-1]
    rule = sim.fault("cycle", path="/v1/customers", times=1)
    # a walk that starts mid-list has served no earlier page: skipped
    assert ids(get(sim, "/v1/customers", {"limit": 3, "starting_after": made[0]})) == made[1:4]
    assert rule.times == 1
    assert ids(get(sim, "/v1/customers", {"limit": 2})) == made[:2]
    again = get(sim, "/v1/customers", {"limit": 2, "starting_after": made[1]})
    assert (ids(again), again["has_more"]) == (made[:2], True)  # round again
    assert rule.times == 0
    assert ids(get(sim, "/v1/customers", {"limit": 2, "starting_after": made[1]})) == made[2:4]


def test_omit_item_fault(sim):
    made = [sim.create_customer() for _ in range(9)]
    sim.fault("omit_item", path="/v1/customers", after=1, times=1)
    seen = [o["id"] for o in walk(sim, "/v1/customers", limit=3)]
    [(_, kind, _, _, gone)] = sim.fired
    assert kind == "omit_item" and gone in made[3:6]  # on the second page, never its last item
    assert seen == [c for c in made[::-1] if c != gone]


def test_list_faults_on_a_connected_account_only(sim):
    sim.create_customer()
    sim.create_customer(account=ACCT)
    sim.fault("has_more_empty", path="/v1/customers", account=ACCT, times=1)
    assert get(sim, "/v1/customers")["data"]
    assert get(sim, "/v1/customers", account=ACCT)["data"] == []


# -- random operations ------------------------------------------------------------------------


def event_object_name(event_type):
    prefix = event_type.rsplit(".", 1)[0]
    return "subscription" if prefix == "customer.subscription" else prefix


def test_random_operations_keep_the_model_consistent():
    sim = SimStripe(seed=11, api_key=KEY).start()
    try:
        for _ in range(2000):
            sim.random_operation()
        truth = sim.truth()
        live = {name: {i: o for i, o in objs.items() if not o.get("deleted")} for name, objs in truth.items()}
        events = sim.events()
        assert len(events) > 2000
        for event in events:
            assert event["data"]["object"]["id"] in truth[event_object_name(event["type"])]
        items_of = {}
        for item in live["subscription_item"].values():
            assert item["subscription"] in truth["subscription"]
            items_of.setdefault(item["subscription"], []).append(item)
        for line in truth["line_item"].values():
            invoice = truth["invoice"][line["invoice"]]
            assert line.get("deleted") == invoice.get("deleted")  # gone with its draft
        for sub in truth["subscription"].values():
            prices = [i["price"]["id"] for i in items_of[sub["id"]]]
            assert prices and len(set(prices)) == len(prices)
            if truth["customer"][sub["customer"]].get("deleted"):
                assert sub["status"] == "canceled"

        def by_id(objs):
            return {o["id"]: o for o in objs}

        for path, name, params in (("/v1/customers", "customer", {}), ("/v1/products", "product", {}),
                                   ("/v1/prices", "price", {}), ("/v1/invoices", "invoice", {}),
                                   ("/v1/subscriptions", "subscription", {"status": "all"})):
            assert by_id(walk(sim, path, params)) == live[name], path
        for sub in truth["subscription"].values():
            assert walk(sim, "/v1/subscription_items", {"subscription": sub["id"]}) == items_of[sub["id"]]
        for inv in live["invoice"].values():
            lines = walk(sim, f"/v1/invoices/{inv['id']}/lines")
            assert by_id(lines) == {i: o for i, o in live["line_item"].items() if o["invoice"] == inv["id"]}
            assert sum(o["amount"] for o in lines) == inv["total"]
        assert walk(sim, "/v1/events") == events[::-1]
    finally:
        sim.stop()


def test_random_operations_are_deterministic_for_a_seed():
    def run(seed):
        sim = SimStripe(seed=seed, api_key=KEY, connected_accounts=(ACCT,))
        descriptions = [sim.random_operation(ACCT if i % 5 == 0 else None) for i in range(2000)]
        return descriptions, {name: sorted(objs) for name, objs in sim.truth().items()}

    first = run(5)
    assert run(5) == first
    assert run(6)[0] != first[0]
    kinds = {d.split()[0] for d in first[0]}
    assert kinds == {"create_customer", "update_customer", "delete_customer", "create_subscription",
                     "update_subscription", "cancel_subscription", "create_invoice", "update_invoice",
                     "finalize_invoice", "pay_invoice", "void_invoice", "delete_invoice"}


def test_operations_and_requests_run_concurrently():
    sim = SimStripe(seed=2, api_key=KEY).start()
    failures = []

    def operate():
        try:
            for _ in range(600):
                sim.random_operation()
        except Exception as e:  # reported by the assert below
            failures.append(e)

    worker = threading.Thread(target=operate)
    try:
        worker.start()
        while worker.is_alive():
            customers = walk(sim, "/v1/customers", limit=5)  # a deleted customer stays a valid cursor
            assert len({o["id"] for o in customers}) == len(customers)
            walk(sim, "/v1/subscriptions", {"status": "all"}, limit=5)
        worker.join()
        assert failures == []
        assert {r[5] for r in sim.requests} == {200}
    finally:
        sim.stop()
