"""How fast perfci gates, and what its query recorder costs.

Measures, on this machine, with the dog-food perfci.yaml at the repository root:

1. wall time of a full ``perfci run`` and of ``perfci run --quick``
   (median of --repeat runs, each a fresh process, exit code checked);
2. the QueryRecorder's overhead on an endpoint's in-process latency: blocks of
   requests with and without the recorder attached and recording, interleaved
   (A B A B ...) in one process, ratio of medians;
3. that the deterministic checks still catch every deterministic fault at the
   default data size (scale 1.0), and pass the optimized API there.

Prints a Markdown report and, with --write, puts it into docs/performance.md
between the perfci-bench markers. Targets (issue 4): full run <= 60 s,
--quick <= 15 s, recorder overhead <= 5%.

    python benchmarks/bench_perfci.py --repeat 3 --write
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
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from perfci.environment import cpu_model  # noqa: E402

START = "<!-- perfci-bench:start -->"
END = "<!-- perfci-bench:end -->"

#: fault -> the deterministic check that catches it (bench_verdicts uses it too).
DETERMINISTIC_FAULTS = {
    "n_plus_one": "n_plus_one",
    "missing_indexes": "indexes",
    "no_cache": "cache",
    "small_pool": "pool",
    "no_wal": "pool",
    "fat_payload": "payload",
}


def perfci(*args: str, env: dict[str, str] | None = None) -> tuple[int, float, str]:
    environ = {**os.environ, **(env or {})}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "perfci", *args],
        cwd=REPO,
        env=environ,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.returncode, time.perf_counter() - started, done.stdout + done.stderr


def wall_times(repeat: int, *args: str) -> tuple[list[float], list[int]]:
    times, codes = [], []
    for _ in range(repeat):
        code, seconds, output = perfci("run", *args, env={"PERFCI_FAULTS": ""})
        if code != 0:
            print(output[-3000:], file=sys.stderr)
        times.append(seconds)
        codes.append(code)
    return times, codes


def recorder_overhead(rounds: int = 20, block: int = 50) -> tuple[float, float, float]:
    """Median per-request ms without and with the recorder, and the median of per-round ratios."""
    from perfci.target.recorder import QueryRecorder
    from target_api import create_app
    from target_api.seed import seed_database

    workdir = Path(tempfile.mkdtemp(prefix="perfci-bench-"))
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{workdir / 'bench.db'}"})
    seed_database(app, scale=1.0)
    client = app.test_client()
    headers = {"Cache-Control": "no-cache"}  # measure the query path, not the response cache
    url = "/api/coocook/chefs?per_page=12"
    with app.app_context():
        engine = app.extensions["sqlalchemy"].engine
    for _ in range(100):
        client.get(url, headers=headers)
    plain: list[float] = []
    recorded: list[float] = []
    ratios: list[float] = []
    for _ in range(rounds):
        medians = []
        for attach in (False, True):
            recorder = QueryRecorder(engine) if attach else None
            times = []
            for _ in range(block):
                started = time.perf_counter()
                if recorder is not None:
                    with recorder.record():
                        client.get(url, headers=headers)
                else:
                    client.get(url, headers=headers)
                times.append((time.perf_counter() - started) * 1000)
            if recorder is not None:
                recorder.close()
            (recorded if attach else plain).extend(times)
            medians.append(statistics.median(times))
        # Each round's two blocks ran seconds apart: their ratio cancels the machine's drift.
        ratios.append(medians[1] / medians[0])
    return statistics.median(plain), statistics.median(recorded), statistics.median(ratios)


def faults_at_default_size() -> list[tuple[str, str, int, str]]:
    """(fault, check, exit code, first failing line) for each deterministic fault at scale 1."""
    rows = []
    env = {"PERFCI_SCALE": "1.0"}
    code, _, output = perfci("run", "--quick", env={**env, "PERFCI_FAULTS": ""})
    rows.append(("(none)", "all deterministic", code, _first_failure(output)))
    for fault, check in DETERMINISTIC_FAULTS.items():
        code, _, output = perfci(
            "run", "--quick", "--only", check, env={**env, "PERFCI_FAULTS": fault}
        )
        rows.append((fault, check, code, _first_failure(output)))
    return rows


def _first_failure(output: str) -> str:
    for line in output.splitlines():
        if "REGRESSION" in line or "BUDGET" in line or "MISSING" in line:
            return " ".join(line.split())[:110]
    return ""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs of each perfci command")
    parser.add_argument("--write", action="store_true", help="update docs/performance.md")
    parser.add_argument(
        "--skip-faults", action="store_true", help="skip the default-size fault sweep"
    )
    args = parser.parse_args()

    full, full_codes = wall_times(args.repeat)
    quick, quick_codes = wall_times(args.repeat, "--quick")
    without, with_, ratio = recorder_overhead()
    lines = [
        START,
        "## perfci's own speed",
        "",
        f"Measured {dt.date.today().isoformat()} by "
        f"`python benchmarks/bench_perfci.py --repeat {args.repeat}` "
        f"on {os.cpu_count()} cores ({cpu_model()}, {platform.machine()}, "
        f"Python {platform.python_version()}), "
        "dog-food perfci.yaml, each run a fresh process.",
        "",
        "| what | median | runs | exit codes | target |",
        "|---|---|---|---|---|",
        f"| `perfci run` (every enabled check) | {statistics.median(full):.1f} s | "
        f"{', '.join(f'{t:.1f}' for t in full)} s | {full_codes} | <= 60 s |",
        f"| `perfci run --quick` | {statistics.median(quick):.1f} s | "
        f"{', '.join(f'{t:.1f}' for t in quick)} s | {quick_codes} | <= 15 s |",
        "| query recorder overhead, `GET /api/coocook/chefs?per_page=12` in-process, "
        f"cache bypassed | {100 * (ratio - 1):+.1f}% ({without:.3f} ms → {with_:.3f} ms) "
        "| 20 rounds × 50 requests each way, interleaved; median of the per-round ratios "
        "| - | <= 5% |",
        "",
    ]
    if not args.skip_faults:
        lines += [
            "### Deterministic checks at the default data size (scale 1.0)",
            "",
            "`PERFCI_SCALE=1.0 perfci run --quick --only CHECK` with each fault profile:",
            "",
            "| fault | check | exit | first failing verdict |",
            "|---|---|---|---|",
        ]
        for fault, check, code, line in faults_at_default_size():
            lines.append(f"| {fault} | {check} | {code} | {line.replace('|', '/') or '-'} |")
        lines.append("")
    lines.append(END)
    report = "\n".join(lines)
    print(report)
    if args.write:
        path = REPO / "docs" / "performance.md"
        text = path.read_text() if path.exists() else "# Performance\n"
        if START in text and END in text:
            head, rest = text.split(START, 1)
            text = head + report + rest.split(END, 1)[1]
        else:
            text = text.rstrip("\n") + "\n\n" + report + "\n"
        path.write_text(text)
        print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
