"""The differential test, small and with fixed seeds, as part of every test run (see
differential.py for what a history does, and tests/soak_differential.py for the long run): each
history must leave the mirror equal to the simulated Stripe's truth, both after the catch-up
alone and after a final sync, with no unexpected error on the way."""

import os

import pytest

from differential import History
from preload_cluster import PreloadCluster, free_port, running

# A few seeds (steps each) keep this to a minute or two; DIFFERENTIAL_SEED replays one.
SEEDS = [int(s) for s in os.environ.get("DIFFERENTIAL_SEED", "101,202,303").split(",")]
STEPS = int(os.environ.get("DIFFERENTIAL_STEPS", "40"))

WORKER_CONF = [
    "shared_preload_libraries = 'djstripe_pg'",
    # Short enough that a fault costs seconds, not minutes; retries come due quickly.
    "stripe.http_timeout = 2",
    "stripe.max_retries = 1",
    "stripe.worker_idle_timeout = 1",
    "stripe.event_max_attempts = 4",
    "stripe.job_max_attempts = 4",
]


@pytest.fixture(scope="module")
def sim_port():
    return free_port()


@pytest.fixture(scope="module")
def cluster(sim_port):
    with running(PreloadCluster(WORKER_CONF, databases=1, prefix="djdiff"),
                 api_base=f"http://127.0.0.1:{sim_port}") as c:
        yield c


@pytest.fixture(scope="module")
def database(cluster):
    d = cluster.take()
    d.worker_pid()
    return d


@pytest.mark.parametrize("seed", SEEDS)
def test_the_mirror_equals_stripe_after_a_random_history(cluster, database, sim_port, seed):
    report = History(seed, cluster, database, sim_port, steps=STEPS).play()
    assert report.ok, report.explain()
