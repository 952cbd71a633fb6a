"""Does the load check measure the server, or itself? (issue 18)

    python benchmarks/bench_load.py [--rounds 3] [--duration 10] [--connections 100]
        [--only fair|hog|stall] [--hog python --hog 2python --hog yes]

Prerequisite: ``wrk`` (``apt-get install wrk``). Needs 2 cores or more.

1. **Fair generator, against wrk.** Seeds a throw-away SQLite file, starts
   target_api under gunicorn *outside perfci* (``target_api/gunicorn_conf.py``)
   and pins it to core 0. Then, per round, on core 1: the load check's Locust
   runner (``run_load``: one process, ``--connections`` users, the cached chefs
   list) and wrk (one thread, the same connections, the same endpoint, the same
   duration). Prints each side's requests/s, the median of the rounds and the
   ratio (goal: the load check at 0.8x wrk or more), and the CPU both sides used.
2. **A CPU hog on the generator's core** (``--only hog``). The same server,
   per round the same load-check stage without a hog, then with each ``--hog``
   pinned to core 1: ``python`` (a busy loop), ``2python`` (two of them),
   ``yes`` (``yes > /dev/null``). Prints each stage's requests/s, p50/p99,
   the generator's time on a CPU and waiting for one, the other work on core 1,
   and the generator-bound line the check would put on its rps/p95/p99 (every
   hog run must have one, the run without a hog none).
3. **Open versus closed model on a stalling endpoint.** A tiny threaded
   server whose ``/stall`` answers nothing for the first second of every two;
   an arrival-rate stage (100 req/s, latency from the intended send time) and
   a closed stage (20 users) against it: p50/p95/p99 of each.

The machine is shared: figures swing with other work; quote medians of rounds.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bench_target_api import free_port, seed, start_server

from perfci.checks.load import LoadOptions, build_spec, run_load
from perfci.checks.load.cpu import pin
from perfci.checks.load.saturation import GENERATOR, StageCpu, generator_bound
from perfci.checks.load.stats import StageResult
from perfci.target.endpoint import Endpoint

ENDPOINT = "/api/coocook/chefs?per_page=12"
SERVER_CORE, GENERATOR_CORE = 0, 1


def load_stage(
    host: str, options: LoadOptions, server_pid: int | None, generator: int | None
) -> tuple[StageResult, StageCpu | None]:
    with tempfile.TemporaryDirectory() as directory:
        ((stage, cpu),) = run_load(
            build_spec(host, [Endpoint.parse("GET " + ENDPOINT)], options),
            Path(directory),
            progress=lambda _line: None,
            timeout=120,
            server_pid=server_pid,
            generator_cores=None if generator is None else [generator],
        )
    return stage, cpu


#: Locust's FastHttpSession adds this header to every request that has none; wrk sends none,
#: and target_api compresses (Flask-Compress) only when asked. Both send it: the same request.
LOCUST_ACCEPT_ENCODING = "Accept-Encoding: gzip, deflate, br"


def wrk(url: str, connections: int, duration: float, core: int) -> float:
    """wrk's requests/s, one thread pinned to ``core``, with the load check's request headers."""
    command = ["wrk", "-t", "1", "-c", str(connections), "-d", f"{duration:g}s"]
    command += ["-H", LOCUST_ACCEPT_ENCODING, url]
    output = subprocess.run(
        command,
        capture_output=True,
        text=True,
        check=True,
        preexec_fn=lambda: os.sched_setaffinity(0, {core}),
    ).stdout
    line = next(line for line in output.splitlines() if line.startswith("Requests/sec:"))
    return float(line.split()[1])


#: ``--hog`` kinds: the busy processes each one pins to the generator's core.
HOGS: dict[str, list[list[str]]] = {
    "python": [[sys.executable, "-c", "while True: pass"]],
    "2python": [[sys.executable, "-c", "while True: pass"]] * 2,
    "yes": [["sh", "-c", "exec yes > /dev/null"]],
}


@contextmanager
def hog(core: int, kind: str = "python") -> Iterator[None]:
    """The busy processes of ``kind`` (``HOGS``) pinned to ``core`` for the block."""
    processes = [
        subprocess.Popen(command, preexec_fn=lambda: os.sched_setaffinity(0, {core}))
        for command in HOGS[kind]
    ]
    try:
        time.sleep(0.5)  # running before the stage starts
        yield
    finally:
        for process in processes:
            process.kill()
            process.wait()


class Stall(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    started = time.monotonic()

    def do_GET(self) -> None:
        phase = (time.monotonic() - self.started) % 2.0
        if phase < 1.0:
            time.sleep(1.0 - phase)
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: Any) -> None:
        pass


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients closing connections at the end of a stage


def cpu_line(cpu: StageCpu | None) -> str:
    return cpu.summary() if cpu is not None else "CPU: not measured"


def fair(args: argparse.Namespace) -> None:
    directory = Path(tempfile.mkdtemp(prefix="perfci-bench-load-"))
    database_url = f"sqlite:///{directory / 'bench.db'}"
    seed(database_url, 1.0)
    port = free_port()
    server = start_server(database_url, port, [])
    try:
        pin(server.pid, [SERVER_CORE])
        host = f"http://127.0.0.1:{port}"
        subprocess.run(["wrk", "-t1", "-c10", "-d2s", host + ENDPOINT], capture_output=True)
        options = LoadOptions(stages=[args.connections], duration=args.duration)
        ours: list[float] = []
        theirs: list[float] = []
        for round_ in range(args.rounds):
            stage, cpu = load_stage(host, options, server.pid, GENERATOR_CORE)
            ours.append(stage.rps)
            theirs.append(wrk(host + ENDPOINT, args.connections, args.duration, GENERATOR_CORE))
            print(
                f"round {round_ + 1}: load check {stage.rps:,.0f} req/s, wrk {theirs[-1]:,.0f} "
                f"req/s ({stage.rps / theirs[-1]:.2f}x); p99 {stage.percentile(99):.1f} ms; "
                f"{cpu_line(cpu)}; "
                f"{(cpu and generator_bound(cpu)) or 'not generator-bound'}",
                flush=True,
            )
        ratios = [a / b for a, b in zip(ours, theirs, strict=True)]
        print(
            f"\nmedian of {args.rounds}: load check {statistics.median(ours):,.0f} req/s, "
            f"wrk {statistics.median(theirs):,.0f} req/s, ratio {statistics.median(ratios):.2f}x "
            f"(server on core {SERVER_CORE}, generator on core {GENERATOR_CORE}, "
            f"{args.connections} connections, {args.duration:g} s)"
        )
    finally:
        stop(server, directory)


def stop(server: subprocess.Popen[bytes], directory: Path) -> None:
    server.terminate()  # gunicorn stops its workers on SIGTERM
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
    shutil.rmtree(directory, ignore_errors=True)


def shares(cpu: StageCpu | None) -> str:
    """The generator's time on a CPU and waiting for one, the other work on its core."""
    if cpu is None or cpu.wall <= 0:
        return "CPU not measured"
    generator = [p for p in cpu.processes if p.role == GENERATOR]
    on_cpu = sum(p.seconds for p in generator) / cpu.wall
    waited = sum(p.waited or 0.0 for p in generator) / cpu.wall
    core = cpu.core_busy.get(GENERATOR_CORE, 0.0) / cpu.wall
    other = cpu.foreign_seconds((GENERATOR_CORE,)) / cpu.wall
    return (
        f"generator on a CPU {on_cpu:.0%}, waiting for one {waited:.0%} of the stage; "
        f"core {GENERATOR_CORE} {core:.0%} busy, other work {other:.0%}"
    )


def hogs(args: argparse.Namespace) -> None:
    """The load-check stage without a hog, then with each ``--hog`` on the generator's core."""
    directory = Path(tempfile.mkdtemp(prefix="perfci-bench-load-"))
    database_url = f"sqlite:///{directory / 'bench.db'}"
    seed(database_url, 1.0)
    port = free_port()
    server = start_server(database_url, port, [])
    kinds = ["none", *(args.hog or HOGS)]
    try:
        pin(server.pid, [SERVER_CORE])
        host = f"http://127.0.0.1:{port}"
        subprocess.run(["wrk", "-t1", "-c10", "-d2s", host + ENDPOINT], capture_output=True)
        options = LoadOptions(stages=[args.connections], duration=args.duration)
        print(
            f"\nCPU hogs on core {GENERATOR_CORE} (server on core {SERVER_CORE}, generator on "
            f"core {GENERATOR_CORE}, {args.connections} connections, {args.duration:g} s):"
        )
        flagged: dict[str, list[bool]] = {kind: [] for kind in kinds}
        for round_ in range(args.rounds):
            for kind in kinds:
                with hog(GENERATOR_CORE, kind) if kind != "none" else nullcontext():
                    stage, cpu = load_stage(host, options, server.pid, GENERATOR_CORE)
                why = cpu and generator_bound(cpu)
                flagged[kind].append(bool(why))
                print(
                    f"round {round_ + 1}, hog {kind}: {stage.rps:,.0f} req/s, "
                    f"p50 {stage.percentile(50):.1f} ms, p99 {stage.percentile(99):.1f} ms; "
                    f"{shares(cpu)}; load average {load_average()}\n"
                    f"  -> {why or 'not generator-bound'}",
                    flush=True,
                )
        print(
            "\ngenerator-bound: "
            + ", ".join(f"{kind} {sum(marks)}/{len(marks)}" for kind, marks in flagged.items())
        )
    finally:
        stop(server, directory)


def load_average() -> str:
    with open("/proc/loadavg") as stream:
        return " ".join(stream.read().split()[:3])


def stall(args: argparse.Namespace) -> None:
    server = QuietServer(("127.0.0.1", 0), Stall)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host = f"http://127.0.0.1:{server.server_address[1]}"
    print(f"\n/stall (1 s without answers every 2 s), {args.duration:g} s per stage:")
    stages: list[Any] = [{"rate": "100/s", "connections": 20}, 20]
    for configured in stages:
        options = LoadOptions.model_validate(
            {"stages": [configured], "duration": args.duration, "timeout": 5}
        )
        with tempfile.TemporaryDirectory() as directory:
            ((stage, _),) = run_load(
                build_spec(host, [Endpoint.parse("/stall")], options),
                Path(directory),
                progress=lambda _line: None,
                timeout=120,
            )
        model = "open, 100 req/s" if stage.rate else "closed, 20 users"
        print(
            f"  {model}: {stage.requests} requests, p50 {stage.percentile(50):.1f} ms, "
            f"p95 {stage.percentile(95):.1f} ms, p99 {stage.percentile(99):.1f} ms"
        )
    server.shutdown()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=100)
    parser.add_argument("--only", choices=["fair", "hog", "stall"])
    parser.add_argument(
        "--hog",
        action="append",
        choices=sorted(HOGS),
        help="what runs on the generator's core in the hog part (repeatable; default: all)",
    )
    args = parser.parse_args()
    if args.only in (None, "fair", "hog"):
        if shutil.which("wrk") is None:
            raise SystemExit("wrk is not installed (apt-get install wrk)")
        if len(os.sched_getaffinity(0)) < 2:
            raise SystemExit("needs 2 cores: the server on one, the generator on the other")
    if args.only in (None, "fair"):
        fair(args)
    if args.only in (None, "hog"):
        hogs(args)
    if args.only in (None, "stall"):
        stall(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
