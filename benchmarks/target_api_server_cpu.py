"""Server CPU per request under gunicorn: /health, cached and uncached chefs.

    python benchmarks/target_api_server_cpu.py [--workers 2] [--threads 4] [--connections 50]
                                               [--rounds 3] [--duration 3]

Starts gunicorn like ``bench_target_api.py`` (same config file, same seed),
drives each target with wrk, and divides the CPU time the gunicorn processes
(master and workers, user + system, from /proc) spent during the run by the
requests served. Unlike requests/s, CPU per request hardly moves when other
work shares the machine, so it shows what a change costs the server even on
a busy host; what it cannot show is time lost waiting (for the GIL, a lock,
the database), which only requests/s reveals.
"""

from __future__ import annotations

import argparse
import os
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

TICKS = os.sysconf("SC_CLK_TCK")


def process_tree(root: int) -> list[int]:
    """``root`` and its children (gunicorn's workers), from /proc."""
    children = Path(f"/proc/{root}/task/{root}/children").read_text().split()
    return [root, *(int(child) for child in children)]


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:  # a recycled worker
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICKS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=3.0)
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="softfactory-cpu-") as workdir:
        database_url = f"sqlite:///{workdir}/cpu.db"
        seed(database_url, args.scale)
        script = Path(workdir) / "report.lua"
        script.write_text(WRK_REPORT)
        port = free_port()
        options = ["--workers", str(args.workers), "--threads", str(args.threads)]
        server = start_server(database_url, port, options)
        base = f"http://127.0.0.1:{port}"
        per_request: dict[str, list[float]] = {name: [] for name, _, _ in TARGETS}
        rps: dict[str, list[float]] = {name: [] for name, _, _ in TARGETS}
        try:
            warm(base)
            for _ in range(args.rounds):
                for name, path, headers in TARGETS:
                    pids = process_tree(server.pid)
                    before = cpu_seconds(pids)
                    sample = run_wrk(base + path, args.connections, args.duration, headers, script)
                    used = cpu_seconds(pids) - before
                    per_request[name].append(used / sample.requests * 1e6)
                    rps[name].append(sample.rps)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)

    health = statistics.median(per_request["/health"])
    print(
        f"gunicorn {args.workers} workers × {args.threads} threads, c={args.connections}, "
        f"median of {args.rounds} rounds × {args.duration:g} s"
    )
    for name, _, _ in TARGETS:
        cost = statistics.median(per_request[name])
        print(
            f"  {name:17} {cost:6.0f} µs server CPU/request ({cost / health:4.2f} × /health), "
            f"{statistics.median(rps[name]):7,.0f} req/s"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
