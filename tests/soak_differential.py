"""The long run of the differential test (tests/e2e/differential.py): many random histories,
one after another, against one cluster with the workers, each compared with the simulated
Stripe's truth. Run it with tests/soak.sh (it sets up what it needs):

    bash tests/soak.sh --histories 200 --steps 60 --first-seed 1000

Prints a line per history and the totals; exits 1 if any history diverged, after printing what
happened to each divergent object and, replayed with ever fewer steps, the shortest prefix of
the history that still diverges (its seed and step count replay it in the e2e suite).
"""

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "e2e"))

from differential import History  # noqa: E402
from preload_cluster import PreloadCluster, free_port, running  # noqa: E402
from test_differential import WORKER_CONF  # noqa: E402


def shortest_failing(play, steps):
    """The fewest steps of a failing history that still fail, and that replay's report.

    A history draws its schedule step by step from its seed, so fewer steps replay a prefix of
    it; a binary search over the length finds the shortest prefix that fails (timing makes a
    replay differ now and then, so this is the shortest that failed when tried, each length
    tried once).
    """
    low, high = 0, steps  # a prefix of `low` steps passed (none: trivially), `high` failed
    failed = None
    while high - low > 1:
        middle = (low + high) // 2
        report = play(middle)
        if report.ok:
            low = middle
        else:
            high, failed = middle, report
    return high, failed or play(high)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--histories", type=int, default=50)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--verbose", action="store_true", help="print each history's log")
    parser.add_argument("--no-shrink", dest="shrink", action="store_false",
                        help="do not look for the shortest failing prefix of a divergent history")
    args = parser.parse_args()
    port = free_port()
    totals = {"histories": 0, "steps": 0, "operations": 0, "failed": 0}
    kinds = {}
    started = time.monotonic()
    with running(PreloadCluster(WORKER_CONF, databases=1, prefix="djsoak"), api_base=f"http://127.0.0.1:{port}") as c:
        database = c.take()
        database.worker_pid()
        for seed in range(args.first_seed, args.first_seed + args.histories):
            t = time.monotonic()
            report = History(seed, c, database, port, steps=args.steps).play()
            totals["histories"] += 1
            totals["steps"] += report.steps
            totals["operations"] += report.operations
            verdict = "ok" if report.ok else f"DIVERGED ({len(report.divergences)} objects, " \
                                              f"{len(report.unexpected)} unexpected errors)"
            print(f"seed {seed}: {report.steps} steps, {report.operations} operations, "
                  f"{time.monotonic() - t:.0f}s: {verdict}", flush=True)
            if args.verbose:
                for at, line in report.log:
                    print(f"  {at:8.2f} {line}")
                print(f"  counts: {report.counts()}", flush=True)
            for k, v in report.counts().items():
                kinds[k] = kinds.get(k, 0) + v
            if not report.ok:
                totals["failed"] += 1
                print(report.explain(), flush=True)
                kept = Path(tempfile.gettempdir()) / f"djstripe-soak-{seed}.log"
                shutil.copy(c.log_path, kept)
                print(f"  the server's log: {kept}", flush=True)
                if args.shrink:
                    n, short = shortest_failing(
                        lambda steps, s=seed: History(s, c, database, port, steps=steps).play(), report.steps)
                    print(f"  shortest failing prefix: {n} steps; replay with DIFFERENTIAL_SEED={seed} "
                          f"DIFFERENTIAL_STEPS={n} bash tests/e2e/run.sh test_differential.py", flush=True)
                    print(short.explain(), flush=True)
    print(f"soak: {totals['histories']} histories, {totals['steps']} steps, {totals['operations']} operations, "
          f"{totals['failed']} diverged, {time.monotonic() - started:.0f}s", flush=True)
    print("soak: what happened: " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())), flush=True)
    return 1 if totals["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
