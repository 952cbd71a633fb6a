"""Compare gunicorn worker/thread settings for the SoftFactory API with wrk.

    python benchmarks/target_api_sweep.py [--configs "2x4 2x2 2x1 3x1 4x1"] [--connections 100]
                                          [--rounds 4] [--duration 3]

Each configuration ``WxT`` (workers x threads) is served by gunicorn with
``target_api/gunicorn_conf.py`` and ``--workers W --threads T``, then driven
like ``bench_target_api.py`` does (wrk from a second process, the targets
interleaved per round). Printed per configuration: median requests/s of each
target and the median of the per-round ratios against ``/health``, which is
more robust on a shared machine than a ratio of medians.
"""

from __future__ import annotations

import argparse
import signal
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_target_api import (
    TARGETS,
    WRK_REPORT,
    free_port,
    run_wrk,
    seed,
    start_server,
    warm,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--configs", default="2x4 2x2 2x1 3x1 4x1")
    parser.add_argument("--connections", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--duration", type=float, default=3.0)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--gunicorn-arg", action="append", default=[], help="extra gunicorn option")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="softfactory-sweep-") as workdir:
        database_url = f"sqlite:///{workdir}/sweep.db"
        seed(database_url, args.scale)
        script = Path(workdir) / "report.lua"
        script.write_text(WRK_REPORT)
        extra = [a for arg in args.gunicorn_arg for a in arg.split()]
        print(
            f"c={args.connections}, {args.rounds} rounds × {args.duration:g} s; "
            "req/s medians, ratio = median of per-round ratios"
        )
        print("| workers × threads | /health | cached | uncached | cached ratio | uncached ratio |")
        print("|---|---:|---:|---:|---:|---:|")
        for config in args.configs.split():
            workers, threads = config.split("x")
            port = free_port()
            server = start_server(
                database_url, port, ["--workers", workers, "--threads", threads, *extra]
            )
            base = f"http://127.0.0.1:{port}"
            rps: dict[str, list[float]] = {name: [] for name, _, _ in TARGETS}
            try:
                warm(base)
                for _ in range(args.rounds):
                    for name, path, headers in TARGETS:
                        sample = run_wrk(
                            base + path, args.connections, args.duration, headers, script
                        )
                        rps[name].append(sample.rps)
            finally:
                server.send_signal(signal.SIGTERM)
                server.wait(timeout=60)
            health, cached, uncached = (rps[name] for name, _, _ in TARGETS)
            cached_ratio = statistics.median(c / h for c, h in zip(cached, health, strict=True))
            uncached_ratio = statistics.median(u / h for u, h in zip(uncached, health, strict=True))
            print(
                f"| {workers} × {threads} | {statistics.median(health):,.0f} | "
                f"{statistics.median(cached):,.0f} | {statistics.median(uncached):,.0f} | "
                f"{cached_ratio:.2f} | {uncached_ratio:.2f} |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
