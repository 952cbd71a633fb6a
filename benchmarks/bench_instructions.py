"""How steady is Ir per request, what does it catch, what does it cost? (issue 15)

Drives the instructions check's own worker (perfci.checks.instructions.callgrind) on the
dog-food endpoints of perfci.yaml, against one SQLite database seeded at
scale 1.0, and prints a Markdown report:

(a) A/A spread of Ir per endpoint: within one process (--in-process
    requests) and across --runs worker processes (each the median of 3);
(b) detection: a pure-Python loop added to the chefs list, sized from a
    calibration run to +5% and +10% of that endpoint's Ir, judged by the
    verdict engine against run 0 (the stored baseline) in --runs runs, with
    another process burning a core (on 3 s, off 3 s) in every other run; the
    same changes judged by the latency check's statistics (in-process samples
    with the /health calibration probe, against a stored baseline);
(c) wall time of the worker for 1, 5 and 10 endpoints at 3 requests and 10
    at 6, and of ``perfci run --only instructions`` on perfci.yaml, with the
    load average next to each (the machine is shared).

    python benchmarks/bench_instructions.py --runs 20
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
os.environ["PYTHONPATH"] = os.pathsep.join(
    filter(None, [str(REPO), str(HERE), os.environ.get("PYTHONPATH")])
)
sys.path[:0] = [str(REPO), str(HERE)]
from bench_verdicts import cpu_hog  # noqa: E402  (one CPU hog for every benchmark)

WORK_PATH = "/api/coocook/chefs"
WORK = f"GET {WORK_PATH}?per_page=12"
#: Iterations of the calibration loop: about +10% of the chefs list.
CALIBRATION_LOOPS = 400


def create_app(config: dict[str, Any]) -> Any:
    """target_api with ``?_loop=N``: N iterations of a pure-Python loop before the view."""
    from flask import request

    from target_api import create_app as target_app

    app = target_app(config)

    @app.before_request
    def extra_work() -> None:
        loops = int(request.args.get("_loop", "0"))
        total = 0
        for i in range(loops):
            total += i * i
        if total < 0:
            raise AssertionError(total)

    return app


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def load_average() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


class Bench:
    def __init__(self) -> None:
        from perfci.checks.instructions import callgrind as _callgrind
        from target_api.seed import seed_database

        self.cg = _callgrind
        self.tools = _callgrind.find_tools()
        self.workdir = Path(tempfile.mkdtemp(prefix="perfci-bench-instructions-"))
        self.shim = _callgrind.build_shim(self.tools, self.workdir)
        self.url = f"sqlite:///{self.workdir / 'target.db'}"
        self.app = create_app({"SQLALCHEMY_DATABASE_URI": self.url})
        seed_database(self.app, scale=1.0)
        self.count = 0

    def worker(
        self, endpoints: Sequence[str], requests: int, warmup: int = 15
    ) -> tuple[float, dict[str, list[int]]]:
        """One worker process under callgrind: (wall seconds, Ir per request per endpoint)."""
        from perfci.endpoint import Endpoint

        parsed = [Endpoint.parse(e) for e in endpoints]
        job = self.cg.Job(
            app="bench_instructions:create_app",
            config={"SQLALCHEMY_DATABASE_URI": self.url},
            endpoints=parsed,
            warmup=warmup,
            requests=requests,
            clear_cache=True,
            shim=self.shim,
        )
        self.count += 1
        started = time.monotonic()
        statuses, dumps = self.cg.run_worker(
            self.tools, job, self.workdir / f"run{self.count}", cwd=REPO, timeout=1800
        )
        wall = time.monotonic() - started
        if any(s >= 400 for s in statuses):
            raise SystemExit(f"an endpoint failed: {statuses}")
        found = {e: [d.ir for d in dumps if d.endpoint == i] for i, e in enumerate(endpoints)}
        return wall, found


def spread(values: Sequence[float]) -> float:
    return (max(values) - min(values)) / statistics.median(values)


def judge_ir(base: float, head: float) -> tuple[str, float]:
    from perfci.measurement import Direction, Measurement
    from perfci.verdict.engine import compare
    from perfci.verdict.model import Rules

    def m(value: float) -> Measurement:
        return Measurement("instructions/x/Ir", value, "instructions", Direction.LOWER)

    verdict = compare(m(head), m(base), Rules(today=dt.date.today()))
    return verdict.outcome.value, (head - base) / base


def latency_samples(loops: int, rounds: int = 200) -> tuple[list[float], list[float]]:
    """In-process samples of the chefs list with ``loops`` extra, and of /health, interleaved."""
    from perfci.endpoint import Endpoint

    from perfci.checks._timing import NO_CACHE_HEADERS, inprocess_probe, sample_interleaved

    app = create_app({"SQLALCHEMY_DATABASE_URI": BENCH.url})
    client = app.test_client()
    probes = {
        "work": inprocess_probe(client, Endpoint.parse(f"{WORK}&_loop={loops}"), NO_CACHE_HEADERS),
        "calibration": inprocess_probe(client, Endpoint.parse("GET /health"), {}),
    }
    samples = sample_interleaved(probes, rounds=rounds, warmup=20)
    return samples["work"], samples["calibration"]


def judge_latency(
    base: tuple[list[float], list[float]], head: tuple[list[float], list[float]]
) -> str:
    from perfci.verdict.engine import judge_pair
    from perfci.verdict.model import Mode

    # The latency check's p50 verdict: medians of the samples, normalised by calibration.
    verdict = judge_pair(
        "latency/chefs/p50",
        base[0],
        head[0],
        unit="ms",
        mode=Mode.NORMALIZED,
        base_calibration=base[1],
        head_calibration=head[1],
    )
    return verdict.outcome.value


BENCH: Bench


def main() -> None:
    global BENCH
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20, help="worker processes after the baseline")
    parser.add_argument("--in-process", type=int, default=10, help="requests in one process")
    args = parser.parse_args()
    config = yaml.safe_load((REPO / "perfci.yaml").read_text())
    endpoints: list[str] = config["target"]["endpoints"]
    out: list[str] = []
    log("seeding")
    BENCH = bench = Bench()
    out.append(
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, valgrind {bench.tools.version}; "
        f"{dt.date.today()}; shared with other engineers' test runs (load average shown)."
    )

    log("calibration: Ir per loop iteration")
    # A loop of the size being sized: the cost per iteration grows with the loop (its
    # integers grow), and a 20,000-iteration calibration made "+10%" come out +7.4%.
    _, cal = bench.worker([f"{WORK}&_loop=0", f"{WORK}&_loop={CALIBRATION_LOOPS}"], requests=3)
    base_ir = statistics.median(cal[f"{WORK}&_loop=0"])
    per_loop = (
        statistics.median(cal[f"{WORK}&_loop={CALIBRATION_LOOPS}"]) - base_ir
    ) / CALIBRATION_LOOPS
    loops = {pct: round(base_ir * pct / 100 / per_loop) for pct in (5, 10)}
    variants = {0: f"{WORK}&_loop=0", **{p: f"{WORK}&_loop={n}" for p, n in loops.items()}}
    out.append(
        f"\nCalibration: `{WORK}&_loop=0` costs {base_ir:,.0f} Ir; one loop iteration "
        f"{per_loop:.1f} Ir: +5% = {loops[5]} iterations, +10% = {loops[10]}."
    )

    log(f"(a) in one process: {args.in_process} requests per endpoint")
    load = load_average()
    wall, one = bench.worker(endpoints, requests=args.in_process)
    in_process = {e: spread(v) for e, v in one.items()}

    measured = [*endpoints, *variants.values()]
    log(f"(a, b) {args.runs + 1} worker processes, {len(measured)} endpoints x 3 requests")
    medians: list[dict[str, float]] = []
    loads: list[str] = []
    walls: list[float] = []
    for run in range(args.runs + 1):
        hog = run % 2 == 1
        with cpu_hog(hog):
            loads.append(load_average())
            wall, found = bench.worker(measured, requests=3)
        walls.append(wall)
        medians.append({e: statistics.median(v) for e, v in found.items()})
        log(f"run {run}: {wall:.0f} s, load {loads[-1]}, hog {hog}")

    out.append("\n### A/A spread of Ir, per endpoint\n")
    out.append(
        f"| endpoint | median Ir | in one process ({args.in_process} requests) | "
        f"across {args.runs + 1} processes (median of 3 each) | A/A verdicts passed |"
    )
    out.append("|---|---:|---:|---:|---:|")
    worst = 0.0
    for endpoint in endpoints:
        values = [m[endpoint] for m in medians]
        passed = sum(judge_ir(values[0], v)[0] == "pass" for v in values[1:])
        worst = max(worst, spread(values))
        out.append(
            f"| `{endpoint}` | {statistics.median(values):,.0f} | {in_process[endpoint]:.2%} | "
            f"{spread(values):.2%} | {passed}/{args.runs} |"
        )
    out.append(f"\nLargest spread across processes: {worst:.2%} (the noise floor).")

    log("(b) latency check on the same changes")
    base_latency = latency_samples(0)
    detection: dict[int, dict[str, Any]] = {}
    for pct in (0, 5, 10):
        ir_verdicts, changes, lat_verdicts = [], [], []
        for run in range(1, args.runs + 1):
            outcome, change = judge_ir(medians[0][variants[0]], medians[run][variants[pct]])
            ir_verdicts.append(outcome)
            changes.append(change)
            with cpu_hog(run % 2 == 1):
                lat_verdicts.append(judge_latency(base_latency, latency_samples(loops.get(pct, 0))))
        detection[pct] = {"ir": ir_verdicts, "changes": changes, "latency": lat_verdicts}

    out.append("\n### Detection against a stored baseline (run 0), CPU hog in every other run\n")
    out.append(
        "| extra work | Ir change measured (min–max) | `instructions` verdicts | "
        "`latency` p50 verdicts |"
    )
    out.append("|---|---|---|---|")
    for pct, found in detection.items():
        label = "none (A/A)" if pct == 0 else f"+{pct}% of the endpoint's Ir"
        out.append(
            f"| {label} | {min(found['changes']):+.2%} – {max(found['changes']):+.2%} | "
            f"{tally(found['ir'])} | {tally(found['latency'])} |"
        )

    log("(c) wall time")
    out.append("\n### Wall time of the worker under callgrind\n")
    out.append("| endpoints | requests each (+15 warm-up) | wall time | load (1/5/15 min) |")
    out.append("|---:|---:|---:|---|")
    for count, requests in ((1, 3), (5, 3), (10, 3)):
        load = load_average()
        wall, _ = bench.worker(endpoints[:count], requests=requests)
        out.append(f"| {count} | {requests} | {wall:.1f} s | {load} |")
    out.append(
        f"\nThe {args.runs + 1} runs of (a) with {len(measured)} endpoints x 3 requests took "
        f"{min(walls):.0f}–{max(walls):.0f} s each (median {statistics.median(walls):.0f} s)."
    )
    load = load_average()
    started = time.monotonic()
    completed = subprocess.run(
        [sys.executable, "-m", "perfci", "run", "--quick", "--only", "instructions"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    total = time.monotonic() - started
    out.append(
        f"`perfci run --quick --only instructions` on perfci.yaml (build, seed, 10 endpoints): "
        f"{total:.1f} s, exit {completed.returncode}, load average {load} before."
    )
    print("\n".join(out))


def tally(outcomes: Sequence[str]) -> str:
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome] = counts.get(outcome, 0) + 1
    return ", ".join(f"{n} {o}" for o, n in sorted(counts.items(), key=lambda i: -i[1]))


if __name__ == "__main__":
    main()
