"""A tiny Stripe-like list API for the e2e tests, run in-process on a thread.

localstripe has no Prices API and lists oldest-first, so pagination the way Stripe does it
(newest first, `starting_after`, `created[...]`) and failure injection are exercised here.

    server = FixtureServer().start()           # 127.0.0.1, a free port
    server.load(price=make_prices(250, ...))   # what GET /v1/prices returns
    server.script(Reply(500), Reply(500))      # the next two /v1 requests fail, then normal
    server.requests                            # every request seen: method, path, query, headers

Any list endpoint, including per-parent ones and the `url` of a nested list, can be served:

    server.serve("/v1/customers/cus_1/tax_ids", tax_ids)             # exactly this path
    server.serve("/v1/subscription_items?subscription=sub_1", items)  # path + required query
    server.serve("/v1/invoices/in_1/lines", lines, sort=False, page_size=7)
    server.fail("/v1/accounts", 400, "...Connect...")                # answers this, every time

`sort=False` keeps the given order (nested lists are in the parent's order, not newest first);
`page_size` caps a page below the `limit` asked for, as Stripe may, so that a few objects give
several pages. An object's GET by id (`/v1/customers/cus_1`) is answered from the lists too.
"""

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlencode, urlsplit

# Stripe's list endpoints, by object name, for load(customer=[...]).
LIST_PATHS = {"/v1/customers": "customer", "/v1/products": "product", "/v1/prices": "price"}
PATH_OF = {name: path for path, name in LIST_PATHS.items()}


@dataclass
class Route:
    """What one list endpoint serves."""
    path: str
    query: dict                       # query parameters a request must carry to match
    objects: list
    page_size: int | None = None      # cap below `limit`
    error: tuple | None = None        # (status, body): answered instead of the list

    @property
    def url(self):
        return self.path + ("?" + urlencode(self.query) if self.query else "")


def split_route(route):
    """'/v1/x?a=1' -> ('/v1/x', {'a': '1'})"""
    path, _, query = route.partition("?")
    return path, dict(parse_qsl(query, keep_blank_values=True))


def newest_first(objs):
    return sorted(objs, key=lambda o: (o.get("created") or 0, o["id"]), reverse=True)


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
        self._routes = {}    # (path, sorted query items) -> Route
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
            self._routes.clear()
            self._script.clear()
            self.requests.clear()

    def load(self, **objects):
        """load(price=[...], product=[...]): replace what the list endpoints serve."""
        for name, objs in objects.items():
            self.serve(PATH_OF[name], objs)

    def serve(self, route, objects, sort=True, page_size=None):
        """Serve `objects` as the list at `route` (a path, optionally with required query
        parameters: '/v1/subscription_items?subscription=sub_1'), replacing what was there."""
        path, query = split_route(route)
        objs = newest_first(objects) if sort else list(objects)
        with self._lock:
            self._routes[(path, tuple(sorted(query.items())))] = Route(path, query, objs, page_size)

    def serve_many(self, routes, ordered=(), page_size=None):
        """serve() for each {route: objects}: routes in `ordered` keep the given order (a
        nested list is in its parent's order), the others are put newest first."""
        for route, objs in routes.items():
            self.serve(route, objs, sort=route not in ordered, page_size=page_size)

    def fail(self, route, status, message, type_="invalid_request_error"):
        """Make `route` answer a Stripe error every time (e.g. 400 for an account without
        Connect), in place of its list."""
        path, query = split_route(route)
        with self._lock:
            r = self._routes.setdefault((path, tuple(sorted(query.items()))), Route(path, query, []))
            r.error = (status, error_body(message, type_))

    def set_page_size(self, route, page_size):
        path, query = split_route(route)
        with self._lock:
            self._routes[(path, tuple(sorted(query.items())))].page_size = page_size

    def served(self, route):
        """The objects a route serves, in the order it serves them."""
        path, query = split_route(route)
        with self._lock:
            return list(self._routes[(path, tuple(sorted(query.items())))].objects)

    def script(self, *steps):
        """Answers for the next /v1 requests, in order; None answers normally."""
        with self._lock:
            self._script.extend(steps)

    def list_requests(self, path, **query):
        """Requests for `path` (and carrying these query parameters)."""
        return [r for r in self.requests
                if r.path == path and all(r.query.get(k) == v for k, v in query.items())]

    # -- request handling ---------------------------------------------------------------------

    def _route(self, path, query):
        """The most specific route matching a request (its required query parameters present)."""
        best = None
        for (rpath, rquery), route in self._routes.items():
            if rpath == path and all(query.get(k) == v for k, v in rquery):
                if best is None or len(rquery) > len(best.query):
                    best = route
        return best

    def _answer(self, path, query):
        """(status, JSON-able body) of the normal response."""
        route = self._route(path, query)
        if route is None and path in LIST_PATHS:
            route = Route(path, {}, [])  # customers, products, prices: an empty list until loaded
        if route is not None:
            if route.error is not None:
                return route.error
            return self._list(route, query)
        # GET of one object: /v1/<list>/<id>
        parent, _, wanted = path.rpartition("/")
        for (rpath, _), r in self._routes.items():
            if rpath == parent:
                for o in r.objects:
                    if o["id"] == wanted:
                        return 200, o
        if parent in LIST_PATHS or any(rpath == parent for rpath, _ in self._routes):
            # Stripe: {"code": "resource_missing", "message": "No such invoice: 'in_…'", "param": "id"}
            name = LIST_PATHS.get(parent) or parent.rsplit("/", 1)[-1].removesuffix("s")
            return 404, error_body(f"No such {name}: '{wanted}'", code="resource_missing", param="id")
        return 404, error_body(f"Unrecognized request URL (GET: {path}).")

    def _list(self, route, query):
        try:
            limit = int(query.get("limit", "10"))
        except ValueError:
            return 400, error_body("Invalid integer: " + query["limit"], param="limit")
        if not 1 <= limit <= 100:
            return 400, error_body("This value must be between 1 and 100.", param="limit")
        objs = route.objects
        bounds = {"gte": int.__ge__, "gt": int.__gt__, "lte": int.__le__, "lt": int.__lt__}
        for op, test in bounds.items():
            if f"created[{op}]" in query:
                limit_ts = int(query[f"created[{op}]"])
                objs = [o for o in objs if test(o.get("created") or 0, limit_ts)]
        start = 0
        if "starting_after" in query:
            ids = [o["id"] for o in objs]
            if query["starting_after"] not in ids:
                name = LIST_PATHS.get(route.path, "object")
                return 400, error_body(f"No such {name}: '{query['starting_after']}'", param="starting_after")
            start = ids.index(query["starting_after"]) + 1
        if route.page_size:
            limit = min(limit, route.page_size)
        page = objs[start:start + limit]
        return 200, {"object": "list", "url": route.url, "has_more": start + limit < len(objs), "data": page}

    def _handler_class(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes; with Nagle on, the second waits ~40 ms for
            # the client's delayed ACK on every response.
            disable_nagle_algorithm = True

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
