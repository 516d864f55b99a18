"""Runs localstripe's aiohttp application on 127.0.0.1 only, with an in-memory store.

localstripe's own command listens on every interface and pickles its whole store to /tmp on each
write (slow, and shared between runs); the tests want neither. Usage: serve.py PORT
"""

import logging
import sys

from aiohttp import web
from localstripe import server
from localstripe.resources import Store

Store.dump_to_disk = lambda self: None  # a fresh, empty store each start

access = logging.getLogger("aiohttp.access")
access.setLevel(logging.DEBUG)
access.addHandler(logging.StreamHandler())
web.run_app(server.app, host="127.0.0.1", port=int(sys.argv[1]), access_log=access,
            print=lambda *a: print(*a, flush=True))
