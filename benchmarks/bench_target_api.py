"""Load-test the SoftFactory API under gunicorn with wrk, and print a table.

    python benchmarks/bench_target_api.py [--scale 1.0] [--duration 5] [--rounds 3]

What it does, in one run:

1. seeds a throw-away SQLite file at ``--scale`` (1.0: 2,000 chefs, 40,000 bookings);
2. starts ``gunicorn -c target_api/gunicorn_conf.py 'target_api:create_app()'`` on a
   free port of 127.0.0.1 (worker and thread counts from the config file: one
   worker more than cores, one request thread each);
3. drives it from a second process, wrk (``apt-get install wrk``), for each
   concurrency level, in rounds that interleave the three targets (the order
   rotates from round to round, so no target always runs first or after the
   heaviest) so that noise from other work on the machine hits all three alike:

   * ``/health``                 no database, no cache: the reference;
   * ``/api/coocook/chefs``       the cached list (warmed first: every request a HIT);
   * ``/api/coocook/chefs`` with ``Cache-Control: no-cache``: uncached. The header
     makes the view skip the cache lookup and run the full database query and
     serialization (then it refreshes the entry). That is what a miss costs.

4. prints requests/s (median of the rounds), p50/p95/p99 latency and failures
   (wrk socket errors + non-2xx + timeouts, summed over the rounds), and the
   ratios against ``/health`` that docs/performance.md records: each round's
   requests/s over the same round's ``/health`` (seconds apart, under the same
   machine load), median over the rounds.

Only 127.0.0.1 is used. Exit status 1 when a target (ratio or zero failures) is missed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# Printed by wrk at the end of each run; latencies in microseconds.
WRK_REPORT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %d %d %d %d %d %d %d\\n",
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
"""

#: (name, path, request headers)
Target = tuple[str, str, tuple[str, ...]]
TARGETS: tuple[Target, ...] = (
    ("/health", "/health", ()),
    ("chefs (cached)", "/api/coocook/chefs", ()),
    ("chefs (uncached)", "/api/coocook/chefs", ("Cache-Control: no-cache",)),
)
CACHED_RATIO_TARGET = 0.85
UNCACHED_RATIO_TARGET = 0.5


@dataclass
class Sample:
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    failures: int
    requests: int
    #: wrk's error counts: connect, read, write, non-2xx status, timeout.
    errors: tuple[int, ...] = ()
    #: Share of the machine's CPU time the hypervisor gave to other guests meanwhile.
    steal: float = 0.0


@dataclass
class Cell:
    samples: list[Sample] = field(default_factory=list)

    @property
    def rps(self) -> float:
        return statistics.median(s.rps for s in self.samples)

    def latency(self, attribute: str) -> float:
        return float(statistics.median(getattr(s, attribute) for s in self.samples))

    @property
    def failures(self) -> int:
        return sum(s.failures for s in self.samples)

    @property
    def requests(self) -> int:
        return sum(s.requests for s in self.samples)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def seed(database_url: str, scale: float) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "target_api.seed",
            "--scale",
            str(scale),
            "--database-url",
            database_url,
        ],
        cwd=REPO,
        check=True,
        env={**os.environ, "PERFCI_FAULTS": ""},
    )


def start_server(database_url: str, port: int, extra: list[str]) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "PERFCI_FAULTS": "",
        "GUNICORN_LOGLEVEL": "warning",
    }
    env.pop("CACHE_REDIS_URL", None)
    command = [
        sys.executable, "-m", "gunicorn", "-c", "target_api/gunicorn_conf.py",
        "--bind", f"127.0.0.1:{port}", *extra, "target_api:create_app()",
    ]  # fmt: skip
    server = subprocess.Popen(command, cwd=REPO, env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1):
                return server
        except OSError:
            time.sleep(0.1)
    server.terminate()
    raise SystemExit("gunicorn did not answer /health within 30 s")


def run_wrk(
    url: str, connections: int, duration: float, headers: tuple[str, ...], script: Path
) -> Sample:
    command = [
        "wrk", "-t", "2", "-c", str(connections), "-d", f"{duration:g}s",
        "--timeout", "5s", "-s", str(script),
    ]  # fmt: skip
    for header in headers:
        command += ["-H", header]
    steal_before, total_before = cpu_times()
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    steal_after, total_after = cpu_times()
    line = next(line for line in output.splitlines() if line.startswith("RESULT "))
    requests, duration_us, *errors, p50, p95, p99 = (int(v) for v in line.split()[1:])
    elapsed = total_after - total_before
    return Sample(
        rps=requests / (duration_us / 1e6),
        p50_ms=p50 / 1000,
        p95_ms=p95 / 1000,
        p99_ms=p99 / 1000,
        failures=sum(errors),
        requests=requests,
        errors=tuple(errors),
        steal=(steal_after - steal_before) / elapsed if elapsed > 0 else 0.0,
    )


def cpu_times() -> tuple[float, float]:
    """(steal, all) CPU time so far, in ticks, from /proc/stat; zeros where it does not exist.

    On a virtual machine, *steal* is time a CPU was runnable but the hypervisor
    ran another guest: a stall no process on this machine caused.
    """
    try:
        first = Path("/proc/stat").read_text(encoding="ascii").split("\n", 1)[0]
    except OSError:
        return 0.0, 0.0
    ticks = [float(v) for v in first.split()[1:9]]  # user ... steal
    return (ticks[7] if len(ticks) > 7 else 0.0), sum(ticks)


def describe_failures(sample: Sample) -> str:
    """``0 failures`` or e.g. ``8 failures (8 timeout)``."""
    kinds = ("connect", "read", "write", "status", "timeout")
    found = [f"{n} {kind}" for n, kind in zip(sample.errors, kinds, strict=False) if n]
    return f"{sample.failures} failures" + (f" ({', '.join(found)})" if found else "")


def warm(base: str) -> None:
    for _ in range(50):
        with urllib.request.urlopen(base + "/api/coocook/chefs", timeout=5) as response:
            response.read()


def rotated(targets: tuple[Target, ...], shift: int) -> tuple[Target, ...]:
    shift %= len(targets)
    return targets[shift:] + targets[:shift]


def ratio(results: dict[tuple[str, int], Cell], name: str, level: int) -> float:
    """Median over rounds of ``name``'s requests/s over the same round's /health."""
    health = results[("/health", level)].samples
    target = results[(name, level)].samples
    return statistics.median(t.rps / h.rps for t, h in zip(target, health, strict=True))


def table(results: dict[tuple[str, int], Cell], levels: list[int]) -> str:
    lines = [
        "| endpoint | connections | requests/s | p50 ms | p95 ms | p99 ms "
        "| failures / requests | × /health |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for level in levels:
        for name, _, _ in TARGETS:
            cell = results[(name, level)]
            lines.append(
                f"| {name} | {level} | {cell.rps:,.0f} | {cell.latency('p50_ms'):.1f} | "
                f"{cell.latency('p95_ms'):.1f} | {cell.latency('p99_ms'):.1f} | "
                f"{cell.failures} / {cell.requests:,} | {ratio(results, name, level):.2f} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per level")
    parser.add_argument("--connections", default="50,100,500")
    parser.add_argument("--gunicorn-arg", action="append", default=[], help="extra gunicorn option")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        print("wrk is not installed: apt-get update && apt-get install -y wrk", file=sys.stderr)
        return 2
    levels = [int(level) for level in args.connections.split(",")]

    with tempfile.TemporaryDirectory(prefix="softfactory-bench-") as workdir:
        database_url = f"sqlite:///{workdir}/bench.db"
        started = time.perf_counter()
        seed(database_url, args.scale)
        print(
            f"seeded scale {args.scale} in {time.perf_counter() - started:.1f} s", file=sys.stderr
        )
        script = Path(workdir) / "report.lua"
        script.write_text(WRK_REPORT)
        port = free_port()
        server = start_server(
            database_url, port, [a for arg in args.gunicorn_arg for a in arg.split()]
        )
        base = f"http://127.0.0.1:{port}"
        results: dict[tuple[str, int], Cell] = {}
        try:
            warm(base)
            for level in levels:
                for round_number in range(args.rounds):
                    for name, path, headers in rotated(TARGETS, round_number):
                        sample = run_wrk(base + path, level, args.duration, headers, script)
                        results.setdefault((name, level), Cell()).samples.append(sample)
                        print(
                            f"c={level} round {round_number + 1}: {name}: {sample.rps:,.0f} req/s, "
                            f"{describe_failures(sample)}, CPU steal {sample.steal:.0%}",
                            file=sys.stderr,
                        )
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)

    print(f"# SoftFactory API under gunicorn, {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}")
    machine = f"{platform.node()} · {os.cpu_count()} cores · {platform.platform()}"
    print(f"# {machine} · Python {platform.python_version()}")
    print(
        f"# scale {args.scale}, wrk -t2 --timeout 5s -d{args.duration:g}s, "
        f"median of {args.rounds} interleaved rounds\n"
    )
    print(table(results, levels))
    steal = [sample.steal for cell in results.values() for sample in cell.samples]
    print(
        f"\nCPU steal (the hypervisor running other guests) during the wrk runs: "
        f"median {statistics.median(steal):.0%}, max {max(steal):.0%}"
    )
    ok = True
    for level in levels:
        cached = ratio(results, "chefs (cached)", level)
        uncached = ratio(results, "chefs (uncached)", level)
        ok &= cached >= CACHED_RATIO_TARGET and uncached >= UNCACHED_RATIO_TARGET
    failures = sum(cell.failures for cell in results.values())
    ok &= failures == 0
    goal = f"cached ≥ {CACHED_RATIO_TARGET} × health, uncached ≥ {UNCACHED_RATIO_TARGET} × health"
    print(f"\ntargets ({goal}, 0 failures): {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
