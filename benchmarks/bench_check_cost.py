"""What the deterministic per-endpoint checks cost: n_plus_one + indexes + payload.

Builds target_api in-process (seeded at --scale), makes --endpoints distinct
endpoints from the dog-food list (varying page sizes and filters), and times
one ``collect`` of each check over all of them, as ``perfci run`` would.
Prints milliseconds per endpoint per check and in total (median of --repeat).

``--root`` loads perfci and its checks from another tree (e.g. /work/main)
to compare before and after on the same machine, same data:

    python benchmarks/bench_check_cost.py --database sqlite
    python benchmarks/bench_check_cost.py --root /work/main
    python benchmarks/bench_check_cost.py --database postgresql+psycopg://postgres@127.0.0.1/x
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

BASE = [
    "GET /api/coocook/chefs?per_page={n}",
    "GET /api/coocook/chefs?cuisine=Korean&per_page={n}",
    "GET /api/coocook/chefs/{n}",
    "GET /api/coocook/bookings?user_id={n}",
    "GET /api/products?page={n}",
    "GET /api/sns/posts?status=published&per_page={n}",
    "GET /api/campaigns?status=active&per_page={n}",
    "GET /api/campaigns/{n}/applications?status=pending",
    "GET /api/ai/employees?user_id={n}",
    "GET /api/ai/scenarios?category=marketing&per_page={n}",
]
CHECKS = {"n_plus_one": "NPlusOne", "indexes": "Indexes", "payload": "PayloadCheck"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--root", default=str(REPO), help="tree to load perfci and checks from")
    parser.add_argument("--database", default="sqlite", help="'sqlite' or a SQLAlchemy URL")
    parser.add_argument("--scale", type=float, default=0.25)
    parser.add_argument("--endpoints", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sys.path.insert(0, args.root)
    sys.path.insert(1, str(REPO))  # target_api from this tree: same app for both
    from perfci.endpoint import Endpoint
    from perfci.testing import run_context
    from target_api import create_app
    from target_api.extensions import db
    from target_api.seed import seed_database

    workdir = Path(tempfile.mkdtemp(prefix="perfci-cost-"))
    url = f"sqlite:///{workdir / 'target.db'}" if args.database == "sqlite" else args.database
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "CACHE_KEY_PREFIX": "cost-bench:"})
    seeded = seed_database(app, args.scale)
    endpoints = [
        Endpoint.parse(BASE[i % len(BASE)].format(n=1 + i // len(BASE)))
        for i in range(args.endpoints)
    ]
    timings: dict[str, list[float]] = {name: [] for name in CHECKS}
    with app.app_context(), run_context(app, workdir, endpoints=endpoints, seeded=seeded) as ctx:
        for _ in range(args.repeat):
            for module_name, class_name in CHECKS.items():
                module = importlib.import_module(f"plugins.{module_name}")
                check = getattr(module, class_name)()
                options = check.Options()
                started = time.perf_counter()
                produced = list(check.collect(ctx, options))
                timings[module_name].append(time.perf_counter() - started)
                assert produced
        db.engine.dispose()
    n = len(endpoints)
    print(f"perfci from {args.root}; {url.split('://')[0]}; scale {args.scale}; {n} endpoints")
    total = 0.0
    for name, runs in timings.items():
        median = statistics.median(runs)
        total += median
        print(f"  {name:<11} {median:6.2f} s  {1000 * median / n:6.2f} ms/endpoint")
    print(f"  {'total':<11} {total:6.2f} s  {1000 * total / n:6.2f} ms/endpoint")


if __name__ == "__main__":
    main()
