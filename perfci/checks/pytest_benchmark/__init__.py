"""The built-in 'pytest_benchmark' check: pytest-benchmark results in the same gate.

Every benchmark of a pytest-benchmark JSON file (``--benchmark-json``)
becomes a timing measurement, ``pytest_benchmark/<fullname>/median``, with
the per-round times as samples when the file has them
(``--benchmark-save-data``), so the engine judges it statistically like any
other timing. The check reads a file the project wrote, or runs the
benchmarks itself first.
"""

from __future__ import annotations

import dataclasses
import json
import math
import shlex
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator

import perfci
from perfci import (
    Check,
    CheckCrashed,
    CheckOptions,
    ConfigError,
    Direction,
    Evidence,
    Kind,
    Measurement,
    RunContext,
    start_process_group,
    stop_process_group,
)

from . import calibration as _bench_calibration

UNIT = "s"  # pytest-benchmark's own unit; reports scale it for reading


class PytestBenchmarkOptions(CheckOptions):
    """``checks.pytest_benchmark`` in perfci.yaml."""

    # The results file, relative to perfci.yaml. With ``run`` and no ``json`` the check
    # adds --benchmark-json (and --benchmark-save-data) to the command itself.
    json_path: str | None = Field(default=None, alias="json")
    # A command run from perfci.yaml's directory before reading; "pytest" means this
    # interpreter's pytest (python -m pytest).
    run: list[str] | str | None = None
    timeout: float = Field(default=600.0, gt=0)  # seconds the command may take
    statistic: Literal["median", "mean", "min"] = "median"
    # Per-round samples kept per benchmark (evenly thinned beyond this).
    max_samples: int = Field(default=1000, ge=8)  # the engine needs 8 a side
    # With ``run``: add a fixed pure-Python benchmark to the same pytest run, whose
    # times calibrate every other benchmark (a machine 20% slower slows it alike).
    calibrate: bool = True

    @field_validator("run")
    @classmethod
    def _command(cls, run: list[str] | str | None) -> list[str] | str | None:
        if run is not None and not (shlex.split(run) if isinstance(run, str) else run):
            raise ValueError("'run' is an empty command")
        return run


class PytestBenchmark(Check[PytestBenchmarkOptions]):
    name = "pytest_benchmark"
    description = "every pytest-benchmark result as a timing measurement"
    Options = PytestBenchmarkOptions
    deterministic = False
    needs_target = False  # reads pytest-benchmark's JSON: no app to build

    def collect(self, ctx: RunContext, options: PytestBenchmarkOptions) -> Iterable[Measurement]:
        if options.json_path is None and options.run is None:
            # Checked here, not in Options: perfci validates every check's defaults.
            raise ConfigError(
                "checks.pytest_benchmark: give 'json' (a pytest-benchmark JSON file), "
                "'run' (a command that writes one), or both"
            )
        root = ctx.root
        if options.json_path is not None:
            path = Path(options.json_path)
            path = path if path.is_absolute() else root / path
        else:
            path = ctx.workdir / "pytest-benchmark.json"
        if options.run is not None:
            command = build_command(options.run, None if options.json_path else path)
            if options.calibrate:
                command += ["-p", CALIBRATION_PLUGIN]
            ctx.progress(f"pytest_benchmark: running {shlex.join(command)}")
            run_command(command, cwd=root, timeout=options.timeout, log=ctx.workdir / "bench.log")
            if not path.is_file():
                raise CheckCrashed(f"pytest_benchmark: {shlex.join(command)} wrote no {path}")
        measurements = read_benchmarks(
            path, statistic=options.statistic, max_samples=options.max_samples
        )
        return calibrated(measurements)


CALIBRATION_PLUGIN = "perfci.checks.pytest_benchmark.calibration"


def calibrated(measurements: Sequence[Measurement]) -> list[Measurement]:
    """Attach the calibration benchmark's samples to every other benchmark, and drop it."""
    probe = next(
        (m for m in measurements if m.subject.endswith(f"::{_bench_calibration.NAME}")), None
    )
    if probe is None:
        return list(measurements)
    return [
        dataclasses.replace(m, calibration=probe.samples) for m in measurements if m is not probe
    ]


def build_command(run: Sequence[str] | str, json_out: Path | None) -> list[str]:
    """The command to run: ``pytest`` is this interpreter's; output flags added when asked."""
    command = shlex.split(run) if isinstance(run, str) else list(run)
    if command and command[0] in ("pytest", "py.test"):
        command = [sys.executable, "-m", "pytest", *command[1:]]
    if json_out is not None:
        command += [f"--benchmark-json={json_out}"]
        if "--benchmark-save-data" not in command:
            command.append("--benchmark-save-data")
    return command


def run_command(command: Sequence[str], *, cwd: Path, timeout: float, log: Path) -> None:
    """Run ``command``; CheckCrashed with the output's last lines when it fails or hangs."""
    log.parent.mkdir(parents=True, exist_ok=True)
    shown = shlex.join(command)
    with log.open("wb") as output:
        try:
            process = start_process_group(  # its own process group: stopped as a whole
                command,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        except OSError as error:
            raise CheckCrashed(f"pytest_benchmark: cannot run {shown}: {error.strerror}") from None
        try:
            code = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise CheckCrashed(
                f"pytest_benchmark: {shown} did not finish within {timeout:g} s and was stopped"
            ) from None
        finally:
            stop_process_group(process)
    if code != 0:
        raise CheckCrashed(f"pytest_benchmark: {shown} exited with code {code}: {_tail(log)}")


def read_benchmarks(
    path: Path, *, statistic: str = "median", max_samples: int = 1000
) -> list[Measurement]:
    """One timing measurement per benchmark of a pytest-benchmark JSON file.

    Raises ConfigError naming the file when it is missing, not JSON, or not
    pytest-benchmark output.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("no such pytest-benchmark JSON file", where=str(path)) from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"cannot read pytest-benchmark JSON: {error}", where=str(path)) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ConfigError(
            f"not valid JSON (line {error.lineno} column {error.colno}: {error.msg})",
            where=str(path),
        ) from None
    benchmarks = data.get("benchmarks") if isinstance(data, dict) else None
    if not isinstance(benchmarks, list):
        raise ConfigError("not pytest-benchmark JSON (no 'benchmarks' list)", where=str(path))
    measurements: dict[str, Measurement] = {}
    for index, bench in enumerate(benchmarks):
        try:
            measurement = benchmark_measurement(bench, statistic, max_samples, source=path.name)
        except (KeyError, TypeError, ValueError) as error:
            raise ConfigError(
                f"benchmarks[{index}] is not a pytest-benchmark result ({type(error).__name__}: "
                f"{error})",
                where=str(path),
            ) from None
        if measurement.name in measurements:
            raise ConfigError(f"benchmark {measurement.subject!r} appears twice", where=str(path))
        measurements[measurement.name] = measurement
    return list(measurements.values())


def benchmark_measurement(
    bench: Mapping[str, Any], statistic: str, max_samples: int, *, source: str
) -> Measurement:
    """The measurement of one entry of the file's ``benchmarks`` list."""
    fullname = str(bench["fullname"])
    stats = bench["stats"]
    value = float(stats[statistic])
    data = stats.get("data") or []
    samples = thin([float(s) for s in data], max_samples)
    if not all(math.isfinite(v) for v in (value, *samples)):  # NaN would pass as "too noisy"
        raise ValueError(f"{fullname}: {statistic} or a round is not a finite number")
    summary = (
        f"{int(stats['rounds'])} rounds x {int(stats.get('iterations', 1))} iterations; "
        f"min {stats['min']:.4g} s, median {stats['median']:.4g} s, "
        f"mean {stats['mean']:.4g} s, stddev {stats['stddev']:.4g} s, max {stats['max']:.4g} s"
    )
    evidence = [Evidence("note", f"pytest-benchmark ({source}): {summary}")]
    if samples and len(samples) < len(data):
        evidence.append(Evidence("note", f"samples: every round thinned to {len(samples)}"))
    if not samples:
        evidence.append(
            Evidence(
                "note",
                "no per-round data in the file: compared by value, without statistics; "
                "run pytest with --benchmark-save-data for statistical verdicts",
            )
        )
    return Measurement(
        f"pytest_benchmark/{fullname}/{statistic}",
        value,
        UNIT,
        Direction.LOWER,
        Kind.TIMING,
        samples=tuple(samples),
        evidence=tuple(evidence),
        statistic=_JUDGED_AS.get(statistic, statistic),
    )


#: The statistic of the rounds the engine judges for each ``statistic`` option.
_JUDGED_AS = {"min": "p0"}


def thin(samples: Sequence[float], limit: int) -> list[float]:
    """At most ``limit`` samples, evenly spaced in time order (rounds drift; keep all of it)."""
    if len(samples) <= limit:
        return list(samples)
    step = len(samples) / limit
    return [samples[int(i * step)] for i in range(limit)]


def _tail(path: Path, lines: int = 3) -> str:
    try:
        text = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return "(no output)"
    tail = [line.strip() for line in text[-lines:] if line.strip()]
    return " | ".join(tail) or "(no output)"


@perfci.hookimpl
def perfci_checks() -> list[type[Check]]:
    return [PytestBenchmark]
