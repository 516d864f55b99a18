"""A tiny Stripe-like list API for the e2e tests, run in-process on a thread.

localstripe has no Prices API and lists oldest-first, so pagination the way Stripe does it
(newest first, `starting_after`, `created[...]`) and failure injection are exercised here.

    server = FixtureServer().start()           # 127.0.0.1, a free port
    server.load(price=make_prices(250, ...))   # what GET /v1/prices returns
    server.script(Reply(500), Reply(500))      # the next two /v1 requests fail, then normal
    server.requests                            # every request seen: method, path, query, headers
"""

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

# Stripe's list endpoints, by object name.
LIST_PATHS = {"/v1/customers": "customer", "/v1/products": "product", "/v1/prices": "price"}


@dataclass
class Reply:
    """A scripted answer that replaces one normal response."""
    status: int = 200
    body: str | None = None           # None: the normal response body
    headers: dict = field(default_factory=dict)
    content_type: str = "application/json"
    delay: float = 0.0                # seconds to wait before answering (timeouts)

    @staticmethod
    def stripe_error(status, message, type_="invalid_request_error", headers=None, **extra):
        return Reply(status, json.dumps(error_body(message, type_, **extra)), headers=headers or {})


@dataclass
class Request:
    method: str
    path: str
    query: dict
    headers: dict  # lower-cased names


def error_body(message, type_="invalid_request_error", **extra):
    """Stripe's JSON error object."""
    return {"error": {"message": message, "type": type_, **extra}}


class FixtureServer:
    def __init__(self, host="127.0.0.1", port=0):
        self._lock = threading.Lock()
        self._objects = {}   # object name -> list, kept newest-first like Stripe
        self._script = []    # Reply or None (None: answer normally), consumed per /v1 request
        self.requests = []
        self._httpd = ThreadingHTTPServer((host, port), self._handler_class())
        self._httpd.daemon_threads = True
        self.url = f"http://{host}:{self._httpd.server_address[1]}"

    def start(self):
        threading.Thread(target=self._httpd.serve_forever, name="fixture-server", daemon=True).start()
        return self

    def stop(self):
        self._httpd.shutdown()
        self._httpd.server_close()

    def reset(self):
        with self._lock:
            self._objects.clear()
            self._script.clear()
            self.requests.clear()

    def load(self, **objects):
        """load(price=[...], product=[...]): replace what the list endpoints serve."""
        with self._lock:
            for name, objs in objects.items():
                self._objects[name] = sorted(objs, key=lambda o: (o["created"], o["id"]), reverse=True)

    def script(self, *steps):
        """Answers for the next /v1 requests, in order; None answers normally."""
        with self._lock:
            self._script.extend(steps)

    def list_requests(self, path):
        return [r for r in self.requests if r.path == path]

    # -- request handling ---------------------------------------------------------------------

    def _answer(self, path, query):
        """(status, JSON-able body) of the normal response."""
        if path in LIST_PATHS:
            return self._list(path, LIST_PATHS[path], query)
        for prefix, name in LIST_PATHS.items():
            if path.startswith(prefix + "/"):
                wanted = path[len(prefix) + 1:]
                for o in self._objects.get(name, []):
                    if o["id"] == wanted:
                        return 200, o
                return 404, error_body(f"No such {name}: '{wanted}'", param="id")
        return 404, error_body(f"Unrecognized request URL (GET: {path}).")

    def _list(self, path, name, query):
        try:
            limit = int(query.get("limit", "10"))
        except ValueError:
            return 400, error_body("Invalid integer: " + query["limit"], param="limit")
        if not 1 <= limit <= 100:
            return 400, error_body("This value must be between 1 and 100.", param="limit")
        objs = self._objects.get(name, [])
        bounds = {"gte": int.__ge__, "gt": int.__gt__, "lte": int.__le__, "lt": int.__lt__}
        for op, test in bounds.items():
            if f"created[{op}]" in query:
                limit_ts = int(query[f"created[{op}]"])
                objs = [o for o in objs if test(o["created"], limit_ts)]
        start = 0
        if "starting_after" in query:
            ids = [o["id"] for o in objs]
            if query["starting_after"] not in ids:
                return 400, error_body(f"No such {name}: '{query['starting_after']}'", param="starting_after")
            start = ids.index(query["starting_after"]) + 1
        page = objs[start:start + limit]
        return 200, {"object": "list", "url": path, "has_more": start + limit < len(objs), "data": page}

    def _handler_class(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                url = urlsplit(self.path)
                req = Request("GET", url.path, dict(parse_qsl(url.query, keep_blank_values=True)),
                              {k.lower(): v for k, v in self.headers.items()})
                with server._lock:
                    server.requests.append(req)
                    step = server._script.pop(0) if server._script else None
                    status, body = server._answer(req.path, req.query)
                n = len(server.requests)
                headers = {"Request-Id": f"req_e2e_{n}"}
                content_type = "application/json"
                body = json.dumps(body)
                if step is not None:
                    time.sleep(step.delay)
                    status = step.status
                    body = step.body if step.body is not None else body
                    content_type = step.content_type
                    headers.update(step.headers)
                self._send(status, body, content_type, headers)

            def _send(self, status, body, content_type, headers):
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                try:
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

            def log_message(self, *args):
                pass  # keep pytest output clean; tests read server.requests instead

        return Handler
