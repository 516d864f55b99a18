"""A fault-injecting HTTP proxy in front of the fixture server, run in-process on a thread.

The fixture server's script() replaces the next N answers; an outage is easier to express as a
state that lasts until the test ends it, whoever (the test's session, a background worker, a
pg_cron job) happens to be asking meanwhile:

    proxy = FaultProxy(fixture_server.url).start()
    proxy.down(500)                          # every request answers 500 until up()
    proxy.down(429, headers={"Retry-After": "2"}, path="/v1/customers/")   # only those paths
    proxy.fail(2, 500)                       # the next 2 requests fail, then normal again
    proxy.slow(0.2, path="/v1/prices")       # answers, but each one 0.2 s late
    proxy.hang(5)                            # answers after 5 s (a client timeout is shorter)
    proxy.up()                               # every fault removed: a transparent proxy again
    proxy.log                                # [Seen(at, path, query, status)], oldest first

Faults are rules matched in the order they were added (a path is a prefix); the first one that
matches and has uses left decides. Requests no rule touches are forwarded unchanged.
"""

import http.client
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit


@dataclass
class Rule:
    status: int | None            # None: forward (after the delay)
    body: str | None = None
    headers: dict = field(default_factory=dict)
    delay: float = 0.0
    path: str = "/"
    times: int | None = None      # None: until removed
    content_type: str = "application/json"


@dataclass
class Seen:
    at: float                     # time.monotonic() when the request arrived
    path: str
    query: dict
    status: int | None            # what was answered (None: the client went away first)


def stripe_error(status, message, type_="api_error"):
    return json.dumps({"error": {"message": message, "type": type_}})


class FaultProxy:
    def __init__(self, upstream, host="127.0.0.1"):
        up = urlsplit(upstream)
        self._upstream = (up.hostname, up.port)
        self._lock = threading.Lock()
        self._rules = []
        self.log = []
        self._httpd = ThreadingHTTPServer((host, 0), self._handler_class())
        self._httpd.daemon_threads = True
        self.url = f"http://{host}:{self._httpd.server_address[1]}"

    def start(self):
        threading.Thread(target=self._httpd.serve_forever, name="fault-proxy", daemon=True).start()
        return self

    def stop(self):
        self._httpd.shutdown()
        self._httpd.server_close()

    # -- faults ---------------------------------------------------------------------------------

    def add(self, rule):
        with self._lock:
            self._rules.append(rule)
        return rule

    def down(self, status=500, body=None, headers=None, path="/", content_type="application/json"):
        """Every request under `path` answers `status` until up()."""
        if body is None:
            body = stripe_error(status, f"e2e outage: HTTP {status}",
                                "rate_limit_error" if status == 429 else "api_error")
        return self.add(Rule(status, body, headers or {}, path=path, content_type=content_type))

    def fail(self, times, status=500, body=None, headers=None, path="/"):
        """The next `times` requests under `path` answer `status`."""
        if body is None:
            body = stripe_error(status, f"e2e fault: HTTP {status}")
        return self.add(Rule(status, body, headers or {}, path=path, times=times))

    def slow(self, delay, path="/", times=None):
        """Requests under `path` are forwarded `delay` seconds late."""
        return self.add(Rule(None, delay=delay, path=path, times=times))

    def hang(self, delay, path="/", times=None):
        """Like slow(): named for delays longer than the client's timeout."""
        return self.slow(delay, path, times)

    def up(self):
        with self._lock:
            self._rules.clear()

    def reset(self):
        with self._lock:
            self._rules.clear()
            self.log.clear()

    def requests(self, path_prefix="/"):
        with self._lock:
            return [s for s in self.log if s.path.startswith(path_prefix)]

    # -- serving --------------------------------------------------------------------------------

    def _take_rule(self, path):
        with self._lock:
            for r in self._rules:
                if path.startswith(r.path) and (r.times is None or r.times > 0):
                    if r.times is not None:
                        r.times -= 1
                    return r
        return None

    def _forward(self, method, target, headers):
        conn = http.client.HTTPConnection(*self._upstream, timeout=30)
        try:
            conn.request(method, target, headers=headers)
            resp = conn.getresponse()
            body = resp.read()
            keep = {k: v for k, v in resp.getheaders()
                    if k.lower() not in ("content-length", "connection", "transfer-encoding", "date", "server")}
            return resp.status, body, keep
        finally:
            conn.close()

    def _handler_class(self):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                url = urlsplit(self.path)
                seen = Seen(time.monotonic(), url.path, dict(parse_qsl(url.query, keep_blank_values=True)), None)
                with proxy._lock:
                    proxy.log.append(seen)
                rule = proxy._take_rule(url.path)
                if rule is not None and rule.delay:
                    time.sleep(rule.delay)
                if rule is not None and rule.status is not None:
                    status, body = rule.status, rule.body.encode()
                    headers = {"Content-Type": rule.content_type, **rule.headers}
                else:
                    fwd = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                    status, body, headers = proxy._forward("GET", self.path, fwd)
                try:
                    self.send_response(status)
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    seen.status = status
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client timed out and went away

            def log_message(self, *args):
                pass

        return Handler
