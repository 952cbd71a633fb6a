"""In-process CPU cost of an API request: uncached chefs against /health.

    python benchmarks/target_api_cost.py [--scale 1.0] [--blocks 30] [--per-block 200]
                                         [--profile uncached|cached|health]

One process, the Flask test client, no network: what one request costs the
worker in Python, which is what decides requests/s on a CPU-bound 2-core
machine. The targets are measured in interleaved blocks (``--per-block``
requests of each, round robin) so that noise from other work on the machine
hits all of them alike; the printed figure is the median over blocks of the
mean per-request time (process CPU time, so a busy neighbour's time slices
do not count). Ratios are against /health, the number the wrk benchmark's
"x /health" column approximates when the server is CPU-bound.

``--profile NAME`` runs cProfile over that target instead and prints the top
functions.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from flask.testing import FlaskClient  # noqa: E402

from target_api import create_app, db  # noqa: E402
from target_api.seed import seed_database  # noqa: E402

TARGETS: dict[str, tuple[str, dict[str, str]]] = {
    "health": ("/health", {}),
    "cached": ("/api/coocook/chefs", {}),
    "uncached": ("/api/coocook/chefs", {"Cache-Control": "no-cache"}),
}


def requester(client: FlaskClient, path: str, headers: dict[str, str]) -> Callable[[], None]:
    def request() -> None:
        response = client.get(path, headers=headers)
        if response.status_code != 200:
            raise SystemExit(f"{path}: HTTP {response.status_code}")

    return request


def measure(
    targets: dict[str, Callable[[], None]], blocks: int, per_block: int
) -> dict[str, float]:
    """Median over blocks of the CPU µs per request, for each target."""
    samples: dict[str, list[float]] = {name: [] for name in targets}
    for _ in range(blocks):
        for name, request in targets.items():
            started = time.process_time()
            for _ in range(per_block):
                request()
            samples[name].append((time.process_time() - started) / per_block * 1e6)
    return {name: statistics.median(values) for name, values in samples.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--blocks", type=int, default=30)
    parser.add_argument("--per-block", type=int, default=200)
    parser.add_argument("--profile", choices=sorted(TARGETS))
    args = parser.parse_args(argv)
    for variable in ("DATABASE_URL", "CACHE_REDIS_URL", "PERFCI_FAULTS"):
        os.environ.pop(variable, None)

    with tempfile.TemporaryDirectory(prefix="softfactory-cost-") as workdir:
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{workdir}/cost.db"})
        seed_database(app, args.scale)
        client = app.test_client()
        targets = {name: requester(client, *TARGETS[name]) for name in TARGETS}
        for request in targets.values():  # warm: connections, statement caches, the entry
            for _ in range(200):
                request()
        try:
            if args.profile:
                profiler = cProfile.Profile()
                profiler.runcall(lambda: [targets[args.profile]() for _ in range(5000)])
                stats = pstats.Stats(profiler).strip_dirs().sort_stats("tottime")
                stats.print_stats(35)
                stats.sort_stats("cumulative").print_stats(40)
                return 0
            costs = measure(targets, args.blocks, args.per_block)
        finally:
            with app.app_context():
                db.engine.dispose()

    health = costs["health"]
    print(f"in-process CPU per request (median of {args.blocks} blocks × {args.per_block}):")
    for name, cost in costs.items():
        print(f"  {name:9} {cost:7.1f} µs   {cost / health:4.2f} × health")
    print(f"uncached / health cost ratio: {costs['uncached'] / health:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
