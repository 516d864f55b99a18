"""The upgrade as a user lives it, run by tests/upgrade.sh (which builds the earlier release's own
package from the commit that froze it and installs it into a private copy of PostgreSQL 15):

1. a cluster with that release, preloaded, its workers in two databases; data written through
   its functions: syncs of several types, webhooks applied, events left pending and failed (in a
   third database without workers, so that they stay so), a background job half done;
2. this version's package installed over it (renamed into place, as scripts/install.sh does);
   one database updated at once (ALTER EXTENSION djstripe_pg UPDATE), while its job runs: the
   release's workers there see SQL newer than their library and stop taking work, saying a
   restart is needed; PostgreSQL restarted (the README's step: a preloaded library is loaded
   once, by the postmaster); the new library's workers in the database not updated yet wait,
   saying ALTER EXTENSION is needed; then it and the third database are updated;
3. then: every row of the third database is as it was (the secrets moved with their values) and
   its pending event applies; every worker works again; the half-done job finishes with every
   object; and each updated database has the schema of a fresh install, object by object.
"""

import json
import os
import shutil
import time
from pathlib import Path

import psycopg
import pytest

from conftest import READER_ROLE, WEBHOOK_ROLE
from fault_proxy import FaultProxy
from fixture_objects import make_customers, make_event, make_prices, make_products
from preload_cluster import PreloadCluster, running, wait_until
from queue_helpers import ingest, statuses
from schema_snapshot import SCHEMAS, differences, snapshot

FROM = os.environ.get("UPGRADE_FROM")
NEW_PACKAGE = os.environ.get("UPGRADE_NEW_PACKAGE")  # cargo pgrx package output of this version
TREE = os.environ.get("UPGRADE_TREE")                # the private PostgreSQL tree it goes into
pytestmark = pytest.mark.skipif(not (FROM and NEW_PACKAGE and TREE),
                                reason="run by tests/upgrade.sh, which builds the earlier release")

CUSTOMERS = 45  # five pages of 10 for the background job, 3 s each


def install_package(package, tree):
    """Each file of the package into the tree under a temporary name, renamed over the old one:
    a process that loaded the old library keeps it."""
    for src in Path(package).rglob("*"):
        if src.is_file():
            dest = Path(tree) / src.relative_to(package)
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = dest.with_name(dest.name + ".djstripe-new")
            shutil.copy2(src, tmp)
            os.replace(tmp, dest)


def rows(conn, schemas=SCHEMAS):
    """Every row of every table of the extension's schemas, as sorted JSON text per table."""
    out = {}
    for (table,) in conn.execute(
            "SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = ANY(%s) AND c.relkind IN ('r', 'p')", (list(schemas),)).fetchall():
        out[table] = sorted(json.dumps(r[0], sort_keys=True)
                            for r in conn.execute(f"SELECT to_jsonb(t) FROM {table} t").fetchall())
    return out


@pytest.fixture(scope="module")
def proxy(_fixture_server):
    p = FaultProxy(_fixture_server.url).start()
    yield p
    p.stop()


@pytest.fixture(scope="module")
def cluster(proxy, _fixture_server):
    _fixture_server.reset()
    _fixture_server.load(customer=make_customers(CUSTOMERS), product=make_products(4))
    _fixture_server.load(price=make_prices(6, make_products(4)))
    with running(PreloadCluster(["shared_preload_libraries = 'djstripe_pg'", "stripe.worker_idle_timeout = 1"],
                                databases=2, prefix="djup"), api_base=proxy.url) as c:
        try:
            yield c
        finally:  # the server's log outlives the cluster, for a failure's post-mortem
            shutil.copy(c.log_path, Path(os.environ.get("TMPDIR", "/tmp")) / "djstripe-upgrade-server.log")


def test_an_update_keeps_every_row_and_the_workers_move_to_the_new_library(cluster, proxy, _fixture_server):
    wdb, late = cluster.take(), cluster.take()
    for d in (wdb, late):
        d.worker_pid(), d.worker_pid(kind="sync")
    with cluster.connect() as c:
        c.execute("CREATE DATABASE djup_quiet TEMPLATE djw_template")  # no worker runs here
    quiet = psycopg.connect(cluster.dsn("djup_quiet"), autocommit=True)
    work = wdb.connect()
    for conn in (quiet, work):
        assert conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'djstripe_pg'").fetchone()[0] == FROM
        assert conn.execute("SELECT stripe.version()").fetchone()[0] == FROM  # its own library

    # 1. Data through the release's functions. The quiet database: syncs, webhooks, one event
    #    pending and one failed.
    for t in ("customer", "product", "price"):
        quiet.execute("SELECT stripe.sync(%s)", (t,))
    customers = make_customers(CUSTOMERS)
    LATER = int(time.time()) + 5  # newer than what the syncs just fetched
    ingest(quiet, make_event("customer.updated", {**customers[0], "email": "hook@example.com"},
                             LATER, "evt_up_applied"))
    products = make_products(4)
    ingest(quiet, make_event("product.updated", {**products[0], "name": "Renamed by a webhook"},
                             LATER, "evt_up_product"))
    ingest(quiet, make_event("price.updated", {**make_prices(6, products)[0], "nickname": "hooked"},
                             LATER, "evt_up_price"))
    quiet.execute("SET stripe.ingest_mode = queue")
    ingest(quiet, make_event("customer.updated", {**customers[2], "created": 10 ** 15},
                             LATER + 2, "evt_up_failed"))
    assert quiet.execute("SELECT stripe.process_pending()").fetchone()[0] == 1  # fails: out of range
    ingest(quiet, make_event("customer.updated", {**customers[1], "email": "later@example.com"},
                             LATER + 1, "evt_up_pending"))
    assert {k: v for k, v in statuses(quiet).items() if k.startswith("evt_up")} == {
        "evt_up_applied": "applied", "evt_up_product": "applied", "evt_up_price": "applied",
        "evt_up_pending": "pending", "evt_up_failed": "failed"}
    before = rows(quiet)
    assert len(before["stripe.customers"]) == CUSTOMERS and before["stripe._api_key"]
    #    The worker's database: a background job over three slowed-down pages, caught half done.
    _fixture_server.serve("/v1/customers", customers, page_size=10)
    proxy.slow(3.0, path="/v1/customers")
    job = work.execute("SELECT stripe.sync_async('customer')").fetchone()[0]
    wait_until(lambda: work.execute("SELECT state = 'running' AND pages >= 1 FROM stripe.sync_jobs WHERE id = %s",
                                    (job,)).fetchone()[0], 30, 0.1, "the job's first page")

    # 2. The new package over the old one; one database updated at once, while its job runs.
    offset = cluster.log_size()
    install_package(NEW_PACKAGE, TREE)
    work.execute("ALTER EXTENSION djstripe_pg UPDATE")
    version = work.execute("SELECT extversion FROM pg_extension WHERE extname = 'djstripe_pg'").fetchone()[0]
    assert version != FROM
    wait_until(lambda: cluster.log_since(offset).count(
        f"the extension is at {version}, the loaded library at {FROM}; waiting: restart PostgreSQL") >= 2,
        30, 0.2, "the release's workers to stop for the restart")
    paused = work.execute("SELECT state, pages FROM stripe.sync_jobs WHERE id = %s", (job,)).fetchone()
    assert paused[0] == "running" and paused[1] < 5, paused  # half done, and left so
    time.sleep(4)
    assert work.execute("SELECT state, pages FROM stripe.sync_jobs WHERE id = %s", (job,)).fetchone() == paused
    # A new session forked by the same postmaster still has the release's library.
    with wdb.connect() as c:
        assert c.execute("SELECT stripe.version()").fetchone()[0] == FROM

    #    The restart: the new library everywhere; the database not updated yet waits for it.
    quiet.close()
    work.close()
    offset = cluster.log_size()
    cluster.restart()
    wait_until(lambda: cluster.log_since(offset).count(
        f"the extension is at {FROM}, the loaded library at {version}; waiting: run ALTER EXTENSION "
        f"djstripe_pg UPDATE in database {late.name}") >= 2, 30, 0.2, "the new workers of the other database to wait")
    with late.connect() as c:
        c.execute("ALTER EXTENSION djstripe_pg UPDATE")
        c.execute("SET stripe.ingest_mode = queue")
        ingest(c, make_event("customer.updated", {**customers[4], "email": "late@example.com"}, LATER + 20,
                             "evt_up_late"))
        wait_until(lambda: statuses(c).get("evt_up_late") == "applied", 30, 0.1, "its worker to resume")

    # 3. Rows: all there, unchanged; the secrets where 0.2.0 keeps them, with their values.
    quiet = psycopg.connect(cluster.dsn("djup_quiet"), autocommit=True)
    assert quiet.execute("SELECT stripe.version()").fetchone()[0] == version
    quiet.execute("ALTER EXTENSION djstripe_pg UPDATE")
    after = rows(quiet)
    moved = {"stripe._api_key": "stripe_secrets.api_key", "stripe._webhook_secrets": "stripe_secrets.webhook_secrets"}
    assert {moved.get(t, t): v for t, v in before.items()} == after
    # The pending one, and the failed one again if its retry is due by now (it fails again).
    assert quiet.execute("SELECT stripe.process_pending()").fetchone()[0] in (1, 2)
    assert quiet.execute("SELECT email FROM stripe.customers WHERE id = %s", (customers[1]["id"],)
                         ).fetchone()[0] == "later@example.com"
    assert statuses(quiet)["evt_up_failed"] == "failed"

    #    The workers work again: the job finishes; a webhook queued now is applied.
    work = wdb.connect()
    proxy.up()
    done = wait_until(lambda: (r := work.execute("SELECT state, objects, error FROM stripe.sync_jobs WHERE id = %s",
                                                 (job,)).fetchone()) and r[0] in ("done", "failed") and r,
                      60, 0.2, "the job to finish")
    assert done[0] == "done", done
    assert work.execute("SELECT count(*) FROM stripe.customers WHERE NOT deleted").fetchone()[0] == CUSTOMERS
    work.execute("SET stripe.ingest_mode = queue")
    ingest(work, make_event("customer.updated", {**customers[3], "email": "after@example.com"},
                            int(time.time()) + 5, "evt_up_after"))  # newer than the job's pages
    wait_until(lambda: statuses(work).get("evt_up_after") == "applied", 30, 0.1, "the new worker to apply it")
    assert "could not find function" not in cluster.log_since(0)

    #    And each updated database has the schema of a fresh install of the new version.
    with cluster.connect() as c:
        c.execute("CREATE DATABASE djup_fresh")
    with psycopg.connect(cluster.dsn("djup_fresh"), autocommit=True) as fresh:
        fresh.execute("CREATE EXTENSION djstripe_pg")
        # what the cluster's template database granted (preload_cluster.py)
        fresh.execute(f"GRANT USAGE ON SCHEMA stripe TO {WEBHOOK_ROLE}, {READER_ROLE}")
        fresh.execute(f"GRANT EXECUTE ON FUNCTION stripe.ingest_webhook(text, text) TO {WEBHOOK_ROLE}")
        expected = snapshot(fresh)
    for conn in (quiet, work, late.connect()):
        got = snapshot(conn)
        assert got == expected, "\n".join(differences(expected, got))
    quiet.close()
    work.close()
