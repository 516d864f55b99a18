"""Helper for benches/run.sh (stdlib only, so the bench needs no venv).

    bench.py port                            a free TCP port on 127.0.0.1
    bench.py events N SECRET FIXTURES OUT    N signed webhook events: payloads into OUT,
                                             "offset length signature" lines into OUT.idx
    bench.py serve M N FIXTURES PAGES_CSV    instant fake Stripe API: M objects of 7 list types
                                             plus N events; writes every page a plain walk
                                             (limit=100, starting_after) returns to PAGES_CSV
                                             (n,path,body), then prints its port
    bench.py counts M                        "path count" of each list type for M objects
    bench.py fetch URL                       walks every list of URL, prints seconds and objects
    bench.py sample OUT PID...               peak RssAnon and VmHWM over the PIDs, into OUT
    bench.py report RESULTS                  medians of RESULTS lines "key value" as Markdown

Object shapes come from the fixtures (resources.customer / .invoice / .subscription / .charge /
.payment_intent / .product / .price), so payload sizes and jsonb work match what Stripe sends.
Every id inside an object is made unique per object, so concurrent writers never fight over a
row that real traffic would not share.
"""

import bisect
import csv
import hashlib
import hmac
import http.client
import json
import os
import socket
import statistics
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

NUM = "%I%"           # stands for the object's number in a rendered template
CREATED = 1999999999  # stands for its created timestamp (a number, so templates stay valid JSON)

# List types the instant API serves, in dependency order, with their share of the M objects
# (a plausible account: few products, many invoices) and the event the webhook mix sends.
TYPES = [  # object, list path, weight
    ("product", "/v1/products", 1),
    ("price", "/v1/prices", 2),
    ("customer", "/v1/customers", 4),
    ("subscription", "/v1/subscriptions", 3),
    ("invoice", "/v1/invoices", 4),
    ("charge", "/v1/charges", 3),
    ("payment_intent", "/v1/payment_intents", 3),
]
# Webhook mix: the five shapes, equally often.
EVENT_MIX = [
    ("customer.updated", "customer", {"email": None}),
    ("invoice.paid", "invoice", {"status": "open"}),
    ("customer.subscription.updated", "subscription", {"status": "trialing"}),
    ("charge.succeeded", "charge", None),
    ("payment_intent.succeeded", "payment_intent", {"status": "processing"}),
]
INVOICE_LINES = 3  # "invoice with lines": Stripe inlines up to 10, has_more false
SUB_ITEMS = 2


def load_fixtures(path):
    return json.load(open(path))["resources"]


def builders(fx):
    """object name -> function(num, created) -> dict, from the fixtures."""
    price_t = fx["price"]

    def customer(num, created):
        c = {**fx["customer"], "id": f"cus_bench{num}", "email": f"user{num}@example.com",
             "name": f"User {num}", "created": created}
        if isinstance(c.get("discount"), dict):
            # The extension mirrors the embedded discount into its own table: one per customer.
            c["discount"] = {**c["discount"], "id": f"di_bench{num}", "customer": c["id"]}
        return c

    def product(num, created):
        return {**fx["product"], "id": f"prod_bench{num}", "name": f"Product {num}",
                "created": created, "updated": created}

    def price(num, created):
        return {**price_t, "id": f"price_bench{num}", "product": f"prod_bench{num}",
                "created": created, "unit_amount": 1000, "unit_amount_decimal": "1000"}

    def subscription(num, created):
        s = {**fx["subscription"], "id": f"sub_bench{num}", "customer": f"cus_bench{num}",
             "created": created, "start_date": created, "latest_invoice": f"in_bench{num}",
             "pending_update": None, "transfer_data": None}
        item_t = fx["subscription"]["items"]["data"][0]
        items = [{**item_t, "id": f"si_bench{num}_{k}", "subscription": s["id"], "created": created,
                  "price": {**price_t, "id": f"price_bench{num}_{k}", "product": f"prod_bench{num}"},
                  "plan": {**item_t["plan"], "id": f"price_bench{num}_{k}", "product": f"prod_bench{num}"}}
                 for k in range(SUB_ITEMS)]
        s["items"] = {**fx["subscription"]["items"], "data": items, "has_more": False,
                      "url": f"/v1/subscription_items?subscription={s['id']}"}
        return s

    def invoice(num, created):
        i = {**fx["invoice"], "id": f"in_bench{num}", "customer": f"cus_bench{num}",
             "subscription": f"sub_bench{num}", "created": created, "status": "paid",
             "number": f"BENCH-{num}"}
        line_t = fx["invoice"]["lines"]["data"][0]
        lines = [{**line_t, "id": f"il_bench{num}_{k}", "invoice": i["id"], "subscription": i["subscription"]}
                 for k in range(INVOICE_LINES)]
        i["lines"] = {**fx["invoice"]["lines"], "data": lines, "has_more": False,
                      "url": f"/v1/invoices/{i['id']}/lines"}
        return i

    def charge(num, created):
        return {**fx["charge"], "id": f"ch_bench{num}", "customer": f"cus_bench{num}",
                "payment_intent": f"pi_bench{num}", "created": created, "source": None,
                "transfer_data": None,
                "refunds": {**fx["charge"]["refunds"], "url": f"/v1/charges/ch_bench{num}/refunds"}}

    def payment_intent(num, created):
        return {**fx["payment_intent"], "id": f"pi_bench{num}", "customer": f"cus_bench{num}",
                "latest_charge": f"ch_bench{num}", "created": created, "status": "succeeded",
                "transfer_data": None, "payment_method_configuration_details": None}

    return {"customer": customer, "product": product, "price": price, "subscription": subscription,
            "invoice": invoice, "charge": charge, "payment_intent": payment_intent}


def template(obj_builder, indent=2):
    """The object rendered once with placeholders; fill(t, num, created) is a cheap replace."""
    return json.dumps(obj_builder(NUM, CREATED), indent=indent)


def fill(t, num, created):
    return t.replace(NUM, num).replace(str(CREATED), str(created))


# -- webhook events --------------------------------------------------------------------------

def event_templates(fx, now):
    """Rendered events of the mix, pretty-printed like Stripe sends them, placeholders inside."""
    b = builders(fx)
    out = []
    for etype, obj, prev in EVENT_MIX:
        data = {"object": b[obj](NUM, CREATED)} | ({"previous_attributes": prev} if prev else {})
        event = {"id": f"evt_bench{NUM}", "object": "event", "api_version": "2023-08-16",
                 "created": now, "data": data, "livemode": False, "pending_webhooks": 1,
                 "request": {"id": None, "idempotency_key": None}, "type": etype}
        out.append(json.dumps(event, indent=2))
    return out


def events(n, secret, fixtures, out_path):
    """N distinct events about N distinct objects (event i is about object number i, of the
    type i % 5 picks). Signed now: run.sh ingests them at once, well within the 300 s tolerance
    both systems apply. OUT holds the payloads back to back; OUT.idx a line "offset length sig"
    per event, so the driver reads each payload when it sends it and holds none in memory
    (its peak memory is the peer's figure), then the object's type (the schema floor's table)."""
    now = int(time.time())
    temps = event_templates(load_fixtures(fixtures), now)
    kinds = [obj for _, obj, _ in EVENT_MIX]
    off = 0
    with open(out_path, "wb") as f, open(out_path + ".idx", "w") as idx:
        for i in range(1, n + 1):
            payload = fill(temps[i % len(temps)], f"{i:08d}", now - 86400).encode()
            mac = hmac.new(secret.encode(), f"{now}.".encode() + payload, hashlib.sha256).hexdigest()
            f.write(payload)
            idx.write(f"{off} {len(payload)} t={now},v1={mac} {kinds[i % len(kinds)]}\n")
            off += len(payload)


# -- instant fake Stripe list API ------------------------------------------------------------

class Listing:
    """One list endpoint: objects newest first, each pre-encoded, so a page is a join."""

    def __init__(self, path, ids, created, encoded):
        self.path, self.ids, self.encoded = path, ids, encoded
        self.neg_created = [-c for c in created]  # ascending, for bisect
        self.index = {id_: k for k, id_ in enumerate(ids)}

    def page(self, q):
        lo, hi = 0, len(self.ids)
        c = self.neg_created
        # created filters (Stripe: gt/gte/lt/lte, seconds); the list is sorted newest first
        if "created[lte]" in q: lo = max(lo, bisect.bisect_left(c, -int(q["created[lte]"])))
        if "created[lt]" in q: lo = max(lo, bisect.bisect_right(c, -int(q["created[lt]"])))
        if "created[gte]" in q: hi = min(hi, bisect.bisect_right(c, -int(q["created[gte]"])))
        if "created[gt]" in q: hi = min(hi, bisect.bisect_left(c, -int(q["created[gt]"])))
        if "created" in q: lo, hi = (bisect.bisect_left(c, -int(q["created"])),
                                     bisect.bisect_right(c, -int(q["created"])))
        if q.get("starting_after"):
            k = self.index.get(q["starting_after"])
            if k is None:
                return None
            lo = max(lo, k + 1)
        limit = max(1, min(100, int(q.get("limit", 10))))
        end = min(hi, lo + limit)
        data = b",\n".join(self.encoded[lo:end]) if end > lo else b""
        more = b"true" if end < hi else b"false"
        return (b'{\n  "object": "list",\n  "data": [\n' + data + b'\n  ],\n  "has_more": ' + more
                + b',\n  "url": "' + self.path.encode() + b'"\n}')


def counts(m):
    total_w = sum(w for _, _, w in TYPES)
    return [(obj, path, m * w // total_w) for obj, path, w in TYPES]


def build_listings(m, n, fixtures, now):
    fx = load_fixtures(fixtures)
    b = builders(fx)
    span = 2 * 365 * 86400  # objects created over the last two years, newest first
    listings = {}
    for obj, path, count in counts(m):
        t = template(b[obj])
        created = [now - 3600 - k * span // max(count, 1) for k in range(count)]
        nums = [f"{k:08d}" for k in range(count)]
        encoded = [fill(t, num, cr).encode() for num, cr in zip(nums, created)]
        ids = [json.loads(fill(t, num, 1))["id"] for num in nums[:1]]  # id pattern check
        prefix = ids[0][: -len(nums[0])] if ids else ""
        listings[path] = Listing(path, [prefix + num for num in nums], created, encoded)
    # Events: the webhook mix, newest first, all created in the last minute. Not signed:
    # stripe.sync_events reads them over the authenticated API.
    temps = event_templates(fx, now - 60)
    ev = [fill(temps[i % len(temps)], f"{i:08d}", now - 86400) for i in range(n, 0, -1)]
    listings["/v1/events"] = Listing("/v1/events", [f"evt_bench{i:08d}" for i in range(n, 0, -1)],
                                     [now - 60] * n, [e.encode() for e in ev])
    return listings


def write_pages(listings, pages_csv):
    """Every page a plain walk of each list sees, as CSV (n, path, body), for the floors."""
    with open(pages_csv, "w", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        k = 0
        for path, lst in listings.items():
            after = None
            while True:
                body = lst.page({"limit": "100", **({"starting_after": after} if after else {})})
                k += 1
                out.writerow([k, path, body.decode()])
                if b'"has_more": true' not in body:
                    break
                after = lst.ids[lst.index[after] + 100 if after else 99]


def serve(m, n, fixtures, pages_csv):
    listings = build_listings(m, n, fixtures, int(time.time()))
    if pages_csv != "-":
        write_pages(listings, pages_csv)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"     # keep-alive, as both systems' HTTP clients use it
        disable_nagle_algorithm = True    # headers and body are two writes: no 40 ms stalls

        def do_GET(self):
            url = urlsplit(self.path)
            lst = listings.get(url.path)
            body = lst.page(dict(parse_qsl(url.query))) if lst else None
            status = 200
            if body is None:
                status, body = 404, json.dumps({"error": {"type": "invalid_request_error",
                                                          "message": f"bench: no page {self.path}"}}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Request-Id", "req_bench")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    httpd.request_queue_size = 128
    print(httpd.server_address[1], flush=True)
    httpd.serve_forever()


def fetch(url):
    """Every list, all pages, over one keep-alive connection like stripe.sync. The next cursor
    is found with a byte search rather than json.loads: this times the server, not a parser."""
    u = urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port)
    t0, objects = time.perf_counter(), 0
    for _, path, _ in TYPES:
        after = None
        while True:
            conn.request("GET", f"{path}?limit=100" + (f"&starting_after={after}" if after else ""))
            resp = conn.getresponse()
            body = resp.read()
            assert resp.status == 200, body[:200]
            # top-level keys are indented 2 spaces (nested ones more); minus the list's own
            objects += body.count(b'\n  "object": "') - 1
            if b'"has_more": true' not in body:
                break
            at = body.rindex(b'\n  "id": "') + 10  # the last top-level object's id
            after = body[at:body.index(b'"', at)].decode()
    print(f"{time.perf_counter() - t0:.4f} {objects}")


def sample(out, pids):
    """Polls /proc/PID/status every 10 ms until every PID has exited; writes "peak_RssAnon_kB
    peak_VmHWM_kB" (maxima over the PIDs). VmHWM counts the shared buffers a backend touched;
    RssAnon is its private memory (palloc, the extension's Rust heap, V8's heap for Node)."""
    anon = hwm = 0
    live = set(pids)
    while live:
        for pid in list(live):
            try:
                status = open(f"/proc/{pid}/status").read()
            except (FileNotFoundError, ProcessLookupError):
                live.discard(pid)
                continue
            fields = dict(line.split(":", 1) for line in status.splitlines())
            if "RssAnon" not in fields:
                live.discard(pid)  # a zombie: exited, not yet reaped
                continue
            anon = max(anon, int(fields["RssAnon"].split()[0]))
            hwm = max(hwm, int(fields["VmHWM"].split()[0]))
        if not os.path.exists(out + ".ready"):
            open(out + ".ready", "w").close()  # the caller waits for this before timing
        time.sleep(0.01)
    with open(out + ".tmp", "w") as f:
        f.write(f"{anon} {hwm}\n")
    os.rename(out + ".tmp", out)  # callers wait for this name: only complete files appear


# -- report ----------------------------------------------------------------------------------

def report(path, big=None, m=None):
    vals = {}
    for line in open(path):
        key, value = line.split()
        vals.setdefault(key, []).append(float(value))
    med = {k: statistics.median(v) for k, v in vals.items()}
    runs = max((len(v) for v in vals.values()), default=0)

    def cell(v, fmt):
        return "–" if v is None else fmt.format(v)

    def ratio(key, a, b):
        # The median of per-run ratios: each ratio compares figures taken minutes apart.
        r = vals.get(f"{key}.{a}/{b}")
        return "–" if not r else f"{statistics.median(r):.2f}×"

    def row(label, key, fmt="{:,.0f}"):
        ours, peer, floor = (med.get(f"{key}.{s}") for s in ("ours", "peer", "floor"))
        print(f"| {label} | {cell(ours, fmt)} | {cell(peer, fmt)} | {cell(floor, fmt)} "
              f"| {ratio(key, 'ours', 'peer')} | {ratio(key, 'ours', 'floor')} |")

    print("| measurement | djstripe_pg | sync-engine | floor | ours / peer | ours / floor |")
    print("|---|--:|--:|--:|--:|--:|")
    row("webhook ingest, 1 client, events/s", "ingest_c1")
    row("webhook ingest, 4 clients, events/s", "ingest_c4")
    row("webhook ingest, queued (`stripe.ingest_mode = queue`, until the worker has applied all), "
        "1 client, events/s", "ingest_q1")
    row("webhook ingest, queued, 4 clients, events/s", "ingest_q4")
    row("batch ingest (ours: `stripe.sync_events()`; peer: its webhook path, 4 clients), events/s",
        "batch")
    schema_floor = [f"{c} client{'s' if c > 1 else ''} {med[f'ingest_c{c}.schema']:,.0f} events/s "
                    f"(ours {ratio(f'ingest_c{c}', 'ours', 'schema')} of it, queued "
                    f"{ratio(f'ingest_q{c}', 'ours', 'schema')})"
                    for c in (1, 4) if f"ingest_c{c}.schema" in med]
    row("backfill, 1st pass (inserts), objects/s", "backfill_insert")
    row("backfill, 2nd pass (updates), objects/s", "backfill_update")
    row("ingest, 4 clients: peak private memory, MB (ours: largest backend; peer: Node RssAnon)",
        "ingest_anon_mb", "{:,.1f}")
    row("ingest, 4 clients: peak RSS, MB (ours: largest backend VmHWM; peer: Node VmHWM)",
        "ingest_hwm_mb", "{:,.1f}")
    row("backfill: peak private memory, MB (ours: the backend; peer: Node RssAnon)",
        "backfill_anon_mb", "{:,.1f}")
    row("backfill: peak RSS, MB (ours: backend VmHWM; peer: Node VmHWM)",
        "backfill_hwm_mb", "{:,.1f}")
    types = [k[len("bf_type_"):-len(".ours")] for k in med if k.startswith("bf_type_") and k.endswith(".ours")]
    if types:
        print("\nBackfill by type, 1st pass, objects/s (the peer syncs its types in parallel, so it has no per-type figure):\n")
        print("| type | djstripe_pg | floor | ours / floor |")
        print("|---|--:|--:|--:|")
        for t in types:
            print(f"| {t} | {cell(med.get(f'bf_type_{t}.ours'), '{:,.0f}')} "
                  f"| {cell(med.get(f'bf_type_{t}.floor'), '{:,.0f}')} | {ratio(f'bf_type_{t}', 'ours', 'floor')} |")
    print(f"\nMedians of {runs} run(s). Throughput ratios above 1× mean djstripe_pg is faster; "
          "memory ratios above 1× mean it uses more. Each ratio is the median of per-run ratios.")
    extra = []
    if schema_floor:
        extra.append("the floor into djstripe_pg's own tables (the same event row and object row "
                     "upserted into `stripe.events` and the object's table, with their typed columns "
                     "and indexes; nothing verified, no nested rows): " + ", ".join(schema_floor))
    if "server_s" in med:
        objs, secs = med["server_objects"], med["server_s"]
        extra.append(f"the instant API alone serves all {objs:,.0f} backfill objects in {secs:.3f} s "
                     f"on one connection ({objs / secs:,.0f} objects/s)")
    if big and os.path.exists(big):
        _, m2, anon, hwm, t1, t2 = open(big).read().split()
        m2 = int(m2)
        extra.append(
            f"backend memory as the backfill grows (ours, one session, both passes): {int(m):,} objects "
            f"{cell(med.get('backfill_anon_mb.ours'), '{:,.1f}')} MB private, "
            f"{cell(med.get('backfill_hwm_mb.ours'), '{:,.1f}')} MB RSS; {m2:,} objects "
            f"{int(anon) / 1024:,.1f} MB private, {int(hwm) / 1024:,.1f} MB RSS (RSS counts the "
            f"shared buffers the backend touched); that run: {m2 / float(t1) * 1000:,.0f} objects/s "
            f"inserting, {m2 / float(t2) * 1000:,.0f} updating")
    for e in extra:
        print(f"- {e}.")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "port":
        print(free_port())
    elif cmd == "events":
        events(int(args[0]), args[1], args[2], args[3])
    elif cmd == "serve":
        serve(int(args[0]), int(args[1]), args[2], args[3])
    elif cmd == "counts":
        for obj, path, count in counts(int(args[0])):
            print(obj, path, count)
    elif cmd == "fetch":
        fetch(args[0])
    elif cmd == "sample":
        sample(args[0], [int(p) for p in args[1:]])
    elif cmd == "report":
        report(*args)
    else:
        sys.exit(__doc__)
