"""Time perfci server's answers with one client: uploads, run list, one run, trend, run page.

    python benchmarks/bench_server_requests.py RESULTS.json [--db URL] [--workers 1] [--runs 60]

``RESULTS.json`` is a file written by ``perfci run --json`` (the dog-food
``perfci run --quick --json`` one has 231 metrics, 811 KiB). The script creates
the schema and a public project in ``--db`` (default: a throw-away SQLite file),
starts ``perfci server`` on a free 127.0.0.1 port, uploads the file ``--runs``
times in sequence, then requests each read 40 times (the run page 10) and
prints p50/p95. One client in sequence: this is latency per request, not the
load test the issue's scale target needs: that is ``bench_server.py`` (Locust, 50 users).
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import requests

from perfci.process import start_process_group, stop_process_group


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[max(0, round(len(ordered) * 0.95) - 1)]
    return f"p50 {ordered[len(ordered) // 2]:7.1f} ms   p95 {p95:7.1f} ms"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("results", type=Path)
    parser.add_argument("--db")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--runs", type=int, default=60)
    args = parser.parse_args()
    scratch = tempfile.TemporaryDirectory()
    db = args.db or f"sqlite:///{Path(scratch.name) / 'server.db'}"
    perfci = [sys.executable, "-m", "perfci", "server"]
    subprocess.run([*perfci, "init", "--db", db], check=True, capture_output=True)
    token = subprocess.run(
        [*perfci, "project", "create", "bench", "--public", "--db", db],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    port = _port()
    server = start_process_group(
        [*perfci, "--db", db, "--bind", f"127.0.0.1:{port}", "--workers", str(args.workers)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    session = requests.Session()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if session.get(f"{url}/api/v1/health", timeout=2).ok:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        results = json.loads(args.results.read_text(encoding="utf-8"))
        body = json.dumps({"results": results, "branch": "main"})
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        started = time.perf_counter()
        for _ in range(args.runs):
            reply = session.post(f"{url}/api/v1/projects/bench/runs", data=body, headers=headers)
            reply.raise_for_status()
        rate = args.runs / (time.perf_counter() - started)

        def timed(path: str, count: int = 40) -> str:
            samples = []
            for _ in range(count):
                start = time.perf_counter()
                session.get(url + path).raise_for_status()
                samples.append((time.perf_counter() - start) * 1000)
            return _percentiles(samples)

        metric = results["measurements"][0]["name"]
        last = args.runs
        print(
            f"{db.split(':')[0]}, {args.workers} worker(s), {len(results['measurements'])} "
            f"metrics/run, {len(body) // 1024} KiB per upload"
        )
        print(f"upload (in sequence)       {rate:7.1f} runs/s")
        print(f"list 50 runs               {timed('/api/v1/projects/bench/runs')}")
        print(f"one run (JSON)             {timed(f'/api/v1/projects/bench/runs/{last // 2}')}")
        trend = "/api/v1/projects/bench/trend?" + urlencode({"metric": metric})
        print(f"trend of one metric        {timed(trend)}")
        print(f"run page (HTML report)     {timed(f'/projects/bench/runs/{last}', 10)}")
    finally:
        stop_process_group(server)
        scratch.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
