"""Helper for benches/run.sh (stdlib only, so the bench needs no venv).

    bench.py port                          a free TCP port on 127.0.0.1
    bench.py events N SECRET FIXTURES      N signed webhook events as CSV (n,payload,sig) on stdout
    bench.py serve M FIXTURES PAGES_CSV    fake GET /v1/customers serving M customers; writes the
                                           pages it serves to PAGES_CSV (n,body), prints its port
    bench.py fetch URL                     pages through URL/v1/customers, prints seconds and objects
    bench.py sample PID OUT                peak private memory and VmHWM of process PID, into OUT
    bench.py report RESULTS                medians of RESULTS lines "key value" as a Markdown table

Object shapes come from the fixtures (resources.customer / .product / .price), so payload sizes
and jsonb work match what Stripe really sends.
"""

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


def load_fixtures(path):
    r = json.load(open(path))["resources"]
    return r["customer"], r["product"], r["price"]


def customer(template, num, created):
    # A shallow copy is enough: only top-level keys change, and json.dumps never mutates.
    c = {**template, "id": f"cus_bench{num}", "email": f"user{num}@example.com",
         "name": f"User {num}", "created": created}
    if isinstance(c.get("discount"), dict):
        # The extension mirrors the embedded discount into its own table. The fixture's id is
        # the same for every copy, which would make all clients fight over one row.
        c["discount"] = {**c["discount"], "id": f"di_bench{num}", "customer": c["id"]}
    return c


# -- webhook events --------------------------------------------------------------------------

def events(n, secret, fixtures):
    """Distinct events, distinct objects: 60% customer.updated, 20% customer.created,
    10% product.updated, 10% price.updated. Signed now: run.sh loads and ingests them at once,
    well within stripe.webhook_tolerance (300 s)."""
    cus_t, prod_t, price_t = load_fixtures(fixtures)
    now = int(time.time())
    num = "%I%"  # json.dumps(indent=2) is slow pure Python: render each kind once, then substitute

    def render(etype, obj, prev):
        data = {"object": obj} | ({"previous_attributes": prev} if prev else {})
        event = {"id": f"evt_bench{num}", "object": "event", "api_version": "2023-08-16",
                 "created": now, "data": data, "livemode": False, "pending_webhooks": 1,
                 "request": {"id": None, "idempotency_key": None}, "type": etype}
        return json.dumps(event, indent=2)  # Stripe sends pretty-printed bodies

    updated = render("customer.updated", customer(cus_t, num, now - 86400), {"email": None})
    created = render("customer.created", customer(cus_t, num, now - 86400), None)
    product = render("product.updated", {**prod_t, "id": f"prod_bench{num}", "name": f"Product {num}",
                                         "updated": now}, {"name": "old"})
    price = render("price.updated", {**price_t, "id": f"price_bench{num}", "product": f"prod_bench{num}",
                                     "unit_amount": "%A%"}, {"unit_amount": 0})
    by_slot = [updated] * 6 + [created] * 2 + [product, price]  # i % 10 -> template
    out = csv.writer(sys.stdout, lineterminator="\n")
    for i in range(1, n + 1):
        payload = by_slot[i % 10].replace(num, f"{i:08d}").replace('"%A%"', str(i))
        mac = hmac.new(secret.encode(), f"{now}.{payload}".encode(), hashlib.sha256).hexdigest()
        out.writerow([i, payload, f"t={now},v1={mac}"])


# -- fake Stripe list API --------------------------------------------------------------------

def serve(m, fixtures, pages_csv):
    """Every page is rendered up front and kept as bytes, so the server only looks up a dict:
    its cost must not show in stripe.sync's time."""
    cus = load_fixtures(fixtures)[0]
    now = int(time.time())
    objs = [customer(cus, f"{i:08d}", now - i) for i in range(m)]  # newest first, like Stripe
    pages, after = {}, None  # starting_after (None: first page) -> body
    with open(pages_csv, "w", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        for n, start in enumerate(range(0, m, 100), 1):
            chunk = objs[start:start + 100]
            body = json.dumps({"object": "list", "data": chunk, "has_more": start + 100 < m,
                               "url": "/v1/customers"}, indent=2)
            pages[after] = body.encode()
            out.writerow([n, body])
            after = chunk[-1]["id"]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"     # keep-alive, as the extension's HTTP client uses it
        disable_nagle_algorithm = True    # headers and body are two writes: no 40 ms stalls

        def do_GET(self):
            url = urlsplit(self.path)
            q = dict(parse_qsl(url.query))
            body = pages.get(q.get("starting_after")) if url.path == "/v1/customers" else None
            status = 200
            if body is None:
                status, body = 404, json.dumps({"error": {"type": "invalid_request_error",
                                                          "message": f"bench: no page {self.path}"}}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    print(httpd.server_address[1], flush=True)
    httpd.serve_forever()


def fetch(url):
    """All pages over one keep-alive connection, like stripe.sync. The next cursor is found
    with a byte search rather than json.loads, so this times the server, not a Python parser."""
    u = urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port)
    t0, after, objects = time.perf_counter(), None, 0
    while True:
        conn.request("GET", "/v1/customers?limit=100" + (f"&starting_after={after}" if after else ""))
        resp = conn.getresponse()
        body = resp.read()
        assert resp.status == 200, body[:200]
        objects += body.count(b'"object": "customer"')
        if b'"has_more": true' not in body:
            break
        at = body.rindex(b'"id": "cus_') + 7  # the last customer's own id (nested ids are not cus_)
        after = body[at:body.index(b'"', at)].decode()
    print(f"{time.perf_counter() - t0:.4f} {objects}")


def sample(pid, out):
    """Polls /proc/PID/status every 10 ms until the backend exits; writes "peak_RssAnon_kB
    VmHWM_kB". VmHWM counts the shared buffers the backend touched; RssAnon is its private
    memory (palloc and the extension's Rust heap), which is what a leak would show in."""
    anon = hwm = 0
    while True:
        try:
            status = open(f"/proc/{pid}/status").read()
        except (FileNotFoundError, ProcessLookupError):
            break
        fields = dict(line.split(":", 1) for line in status.splitlines())
        if "RssAnon" not in fields:
            break  # a zombie: exited, not yet reaped
        anon = max(anon, int(fields["RssAnon"].split()[0]))
        hwm = int(fields["VmHWM"].split()[0])
        if not os.path.exists(out + ".ready"):
            open(out + ".ready", "w").close()  # run.sh's session waits for this before timing
        time.sleep(0.01)
    with open(out + ".tmp", "w") as f:
        f.write(f"{anon} {hwm}\n")
    os.rename(out + ".tmp", out)  # run.sh waits for this name: only complete files appear


# -- report ----------------------------------------------------------------------------------

def report(path):
    vals = {}
    for line in open(path):
        key, value = line.split()
        vals.setdefault(key, []).append(float(value))
    med = {k: statistics.median(v) for k, v in vals.items()}

    def row(label, key, fmt="{:,.0f}"):
        dj, fl = med.get(f"{key}.djstripe"), med.get(f"{key}.floor")
        cell = lambda v: "–" if v is None else fmt.format(v)
        ratio = f"{dj / fl:.2f}×" if dj and fl else "–"
        print(f"| {label} | {cell(dj)} | {cell(fl)} | {ratio} |")

    print("| measurement | djstripe_pg | floor | ratio |")
    print("|---|--:|--:|--:|")
    row("webhook ingest, 1 client, events/s", "ingest_c1")
    row("webhook ingest, 4 clients, events/s", "ingest_c4")
    row("sync, 1st run (inserts), objects/s", "sync_insert")
    row("sync, 2nd run (updates), objects/s", "sync_update")
    row("sync backend, peak private memory (RssAnon), MB", "sync_anon_mb", "{:,.1f}")
    row("sync backend, peak RSS incl. shared buffers (VmHWM), MB", "sync_vmhwm_mb", "{:,.1f}")
    print("\nratio = djstripe_pg / floor: below 1× is slower than the floor (throughput), "
          "above 1× uses more memory.")
    if "server_s" in med:
        objs, secs = med["server_objects"], med["server_s"]
        share = secs / (objs / med["sync_insert.djstripe"])
        print(f"The fake Stripe API alone serves all {objs:,.0f} objects in {secs:.3f} s "
              f"({objs / secs:,.0f} objects/s on one keep-alive connection, median): "
              f"{share:.0%} of the time the first stripe.sync took.")


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
        events(int(args[0]), args[1], args[2])
    elif cmd == "serve":
        serve(int(args[0]), args[1], args[2])
    elif cmd == "fetch":
        fetch(args[0])
    elif cmd == "sample":
        sample(int(args[0]), args[1])
    elif cmd == "report":
        report(args[0])
    else:
        sys.exit(__doc__)
