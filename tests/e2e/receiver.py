"""A webhook endpoint the way an application would write one: it hands the raw request body and
the Stripe-Signature header, unchanged, to stripe.ingest_webhook and answers 200 or 400.

Used in-process by the tests (Receiver(...).start(); receiver.target(dsn)), or standalone:
    python receiver.py --port 8422 --dsn "host=127.0.0.1 port=55432 user=postgres dbname=postgres"
"""

import argparse
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg


@dataclass
class Delivery:
    body: str
    signature: str | None
    status: int             # what we answered
    result: dict | None     # ingest_webhook's jsonb on success
    sqlstate: str | None    # on failure
    error: str | None

    @property
    def event(self):
        try:
            return json.loads(self.body)
        except ValueError:
            return {}


class Receiver:
    def __init__(self, host="127.0.0.1", port=0, dsn=None):
        self._lock = threading.Lock()
        self._dsn = dsn
        self.deliveries = []
        self._httpd = ThreadingHTTPServer((host, port), self._handler_class())
        self._httpd.daemon_threads = True
        self.url = f"http://{host}:{self._httpd.server_address[1]}/webhook"

    def start(self):
        threading.Thread(target=self._httpd.serve_forever, name="receiver", daemon=True).start()
        return self

    def serve_forever(self):
        self._httpd.serve_forever()

    def stop(self):
        self._httpd.shutdown()
        self._httpd.server_close()

    def target(self, dsn):
        """Where deliveries go from now on; None answers 503 (Stripe would retry later)."""
        with self._lock:
            self._dsn = dsn
            self.deliveries.clear()

    def wait_for(self, predicate, timeout=15.0):
        """The first delivery matching predicate, polling until timeout."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                found = [d for d in self.deliveries if predicate(d)]
            if found:
                return found[0]
            if time.monotonic() > deadline:
                raise TimeoutError(f"no matching webhook delivery within {timeout}s")
            time.sleep(0.05)

    def ingest(self, raw, signature):
        """One delivery: (HTTP status, Delivery)."""
        with self._lock:
            dsn = self._dsn
        if dsn is None:
            return 503, None
        try:
            # Strict UTF-8: the signature covers the exact bytes, so nothing may be altered.
            body = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            return 400, Delivery(repr(raw), signature, 400, None, None, str(e))
        try:
            with psycopg.connect(dsn, autocommit=True) as conn:
                result = conn.execute("SELECT stripe.ingest_webhook(%s, %s)", (body, signature)).fetchone()[0]
            d = Delivery(body, signature, 200, result, None, None)
        except psycopg.Error as e:
            d = Delivery(body, signature, 400, None, e.sqlstate, str(e))
        with self._lock:
            self.deliveries.append(d)
        return d.status, d

    def _handler_class(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status, d = receiver.ingest(raw, self.headers.get("Stripe-Signature"))
                if d is None:
                    reply = {"error": "no database configured"}
                elif d.result is not None:
                    reply = d.result
                else:
                    reply = {"error": d.error, "sqlstate": d.sqlstate}
                data = json.dumps(reply).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        return Handler


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=8422)
    ap.add_argument("--dsn", required=True)
    args = ap.parse_args()
    r = Receiver(port=args.port, dsn=args.dsn)
    print(f"receiving webhooks at {r.url}", flush=True)
    r.serve_forever()
