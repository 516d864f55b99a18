"""A dedicated PostgreSQL 15 cluster with djstripe_pg in shared_preload_libraries, for the tests
that need background workers (and pg_cron). run.sh's cluster has no preload; this one is
started by a module-scoped fixture with scripts/pgcluster.sh and stopped at the module's end.

stripe.worker_databases is read at server start, so the cluster is created with a fixed set of
databases (each a copy of a template holding the extension, the API key and the webhook secret)
and restarted once so that every one has its worker from the first second. A test takes the
next unused database: nothing is dropped while workers run, and no test sees another's rows.

    with running(PreloadCluster(["shared_preload_libraries = 'djstripe_pg'"], databases=8),
                 api_base=proxy.url) as cluster:        # stopped and removed however the run ends
        d = cluster.take()                              # a fresh database with a running worker
        d.connect()                                     # autocommit, NOTICEs in conn.notices
        d.worker_pid()                                  # its worker's pid, once registered
        cluster.set_system(revalidate="customer")       # ALTER SYSTEM + reload: workers see it
        cluster.kill(pid, signal.SIGKILL)
"""

import atexit
import contextlib
import os
import re
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg
from psycopg.conninfo import make_conninfo

REPO = Path(__file__).resolve().parents[2]
PGCLUSTER = REPO / "scripts" / "pgcluster.sh"
WORKER_TYPE = "djstripe_pg worker"            # the events worker
SYNC_WORKER_TYPE = "djstripe_pg sync worker"  # the one that talks to Stripe


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout, interval=0.05, what="condition"):
    """predicate()'s first truthy value, polled until `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def connect(dsn):
    conn = psycopg.connect(dsn, autocommit=True)
    conn.notices = []
    conn.add_notice_handler(lambda diag: conn.notices.append(diag.message_primary))
    return conn


class WorkerDatabase:
    def __init__(self, cluster, name):
        self.cluster = cluster
        self.name = name

    def dsn(self, user="postgres"):
        return self.cluster.dsn(self.name, user)

    def connect(self, user="postgres"):
        return connect(self.dsn(user))

    def live_worker_pid(self):
        """The pid of this database's worker process, if one runs (registered or not)."""
        with self.cluster.connect() as c:
            row = c.execute("SELECT pid FROM pg_stat_activity WHERE backend_type = %s AND datname = %s",
                            (WORKER_TYPE, self.name)).fetchone()
        return row and row[0]

    def worker_pid(self, timeout=30, not_pid=None, kind="events"):
        """The pid of the database's worker of `kind` (events or sync) once it runs and has
        recorded itself in stripe.workers (so that a commit that queues work wakes it); waits for
        that (and for a pid other than not_pid)."""
        backend_type = WORKER_TYPE if kind == "events" else SYNC_WORKER_TYPE

        def registered():
            try:
                with self.connect() as c:
                    row = c.execute(
                        "SELECT w.pid FROM stripe.workers w JOIN pg_stat_activity a ON a.pid = w.pid "
                        "WHERE w.database = current_database() AND w.kind = %s AND a.backend_type = %s",
                        (kind, backend_type)).fetchone()
                return row and row[0] != not_pid and row[0]
            except psycopg.OperationalError:
                return None  # the server is restarting
        return wait_until(registered, timeout, 0.1, f"the {kind} worker of {self.name} to register")


class PreloadCluster:
    def __init__(self, conf, databases, prefix="djw"):
        self.dir = tempfile.mkdtemp(prefix="djstripe-e2e-preload.")
        self.port = free_port()
        self.conf = list(conf)
        self.names = [f"{prefix}_{i:02d}" for i in range(1, databases + 1)]
        self._next = 0
        self._system = set()

    # -- lifecycle ------------------------------------------------------------------------------

    def _pgcluster(self, *args):
        subprocess.run(["bash", str(PGCLUSTER), *args], check=True, stdout=subprocess.DEVNULL)

    def start(self, api_base, setup=None):
        """initdb, start, create the worker databases, then restart so that every database has
        its worker at once. `setup(conn)` runs in the template database before it is copied."""
        from conftest import API_KEY, READER_ROLE, WEBHOOK_ROLE, WEBHOOK_SECRET, create_extension

        conf = [
            "max_worker_processes = 64",
            "max_connections = 100",
            f"stripe.api_base = '{api_base}'",
            # pgcluster.sh turns it off for speed; a crash would then lose the last commits,
            # and the crash tests are about what a commit promises.
            "synchronous_commit = on",
            "log_line_prefix = '%m [%p] %b %d '",
            *self.conf,
        ]
        self._pgcluster("start", self.dir, str(self.port), *conf)
        with self.connect() as c:
            for role in (WEBHOOK_ROLE, READER_ROLE):
                c.execute(f"CREATE ROLE {role} LOGIN")
            c.execute("CREATE DATABASE djw_template")
        with connect(self.dsn("djw_template")) as c:
            create_extension(c)
            c.execute("SELECT stripe.set_api_key(%s)", (API_KEY,))
            c.execute("SELECT stripe.add_webhook_secret(%s)", (WEBHOOK_SECRET,))
            c.execute(f"GRANT USAGE ON SCHEMA stripe TO {WEBHOOK_ROLE}, {READER_ROLE}")
            c.execute(f"GRANT EXECUTE ON FUNCTION stripe.ingest_webhook(text, text) TO {WEBHOOK_ROLE}")
            if setup:
                setup(c)
        with self.connect() as c:
            for name in self.names:
                c.execute(f"CREATE DATABASE {name} TEMPLATE djw_template")
            c.execute("ALTER SYSTEM SET stripe.worker_databases = %s" % quote_literal(",".join(self.names)))
        self.restart()
        return self

    def restart(self):
        self.stop()
        self._pgcluster("start", self.dir, str(self.port))

    def stop(self):
        self._pgcluster("stop", self.dir)

    def destroy(self):
        self.stop()
        subprocess.run(["rm", "-rf", self.dir], check=False)

    # -- access ---------------------------------------------------------------------------------

    def dsn(self, dbname="postgres", user="postgres"):
        return make_conninfo(host="127.0.0.1", port=self.port, user=user, dbname=dbname)

    def connect(self, dbname="postgres", user="postgres"):
        return connect(self.dsn(dbname, user))

    def take(self):
        """The next unused worker database."""
        assert self._next < len(self.names), "more tests than worker databases: raise `databases`"
        d = WorkerDatabase(self, self.names[self._next])
        self._next += 1
        return d

    def wait_ready(self, timeout=60):
        """Waits until the server accepts connections (after a crash or restart)."""
        def up():
            try:
                with self.connect() as c:
                    return c.execute("SELECT NOT pg_is_in_recovery()").fetchone()[0]
            except psycopg.OperationalError:
                return False
        wait_until(up, timeout, 0.2, "the server to accept connections")

    # -- settings -------------------------------------------------------------------------------

    def set_system(self, **settings):
        """ALTER SYSTEM SET stripe.<name> = value for each, and reload: running workers see it
        (a SIGHUP wakes them). reset_system() undoes every setting made so."""
        with self.connect() as c:
            for name, value in settings.items():
                c.execute(f"ALTER SYSTEM SET stripe.{name} = {quote_literal(str(value))}")
                self._system.add(name)
            c.execute("SELECT pg_reload_conf()")
        time.sleep(0.5)  # workers reload when the SIGHUP wakes them; give that a moment

    def reset_system(self):
        if not self._system:
            return
        with self.connect() as c:
            for name in sorted(self._system):
                c.execute(f"ALTER SYSTEM RESET stripe.{name}")
            c.execute("SELECT pg_reload_conf()")
        self._system.clear()
        time.sleep(0.5)

    # -- processes and the log ------------------------------------------------------------------

    def kill(self, pid, sig):
        os.kill(pid, sig)

    @property
    def log_path(self):
        return Path(self.dir) / "server.log"

    def log_size(self):
        return self.log_path.stat().st_size

    def log_since(self, offset):
        with open(self.log_path, "rb") as f:
            f.seek(offset)
            return f.read().decode(errors="replace")

    def postmaster_pid(self):
        return int((Path(self.dir) / "postmaster.pid").read_text().split()[0])


@contextlib.contextmanager
def running(cluster, api_base):
    """Starts the cluster, and stops and removes it however the run ends: also when run.sh is
    interrupted and sends pytest SIGTERM (turned into KeyboardInterrupt meanwhile, so that this
    finally block runs), and at interpreter exit as a last resort."""
    previous = signal.getsignal(signal.SIGTERM)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    atexit.register(cluster.destroy)
    try:
        cluster.start(api_base)
        yield cluster
    finally:
        cluster.destroy()
        atexit.unregister(cluster.destroy)
        signal.signal(signal.SIGTERM, previous)


def quote_literal(s):
    return "'" + s.replace("'", "''") + "'"


def process_gone(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # A zombie is gone as far as Postgres is concerned.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return re.search(r"\) (\S)", f.read()).group(1) == "Z"
    except FileNotFoundError:
        return True
