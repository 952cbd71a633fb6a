"""The pytest_benchmark check: JSON conversion, clear errors, running the benchmarks, the gate."""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from perfci.checks.pytest_benchmark import (
    PytestBenchmark,
    PytestBenchmarkOptions,
    build_command,
    calibrated,
    read_benchmarks,
    run_command,
    thin,
)
from perfci.errors import CheckCrashed, ConfigError
from perfci.measurement import Direction, Kind, timing
from tests.plugins.softfactory import SoftFactoryProject, explain

FIXTURE = Path(__file__).parent / "data" / "pytest_benchmark.json"
FAST = "benchmarks/test_sum.py::test_sum[10]"  # ten rounds of data
BIG = "benchmarks/test_sum.py::test_sum[1000]"  # summary only, no data


def fixture_data() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(FIXTURE.read_text())
    return data


def write(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return path


# --- conversion ---------------------------------------------------------------


def test_every_benchmark_becomes_a_timing_measurement() -> None:
    fast, big = read_benchmarks(FIXTURE)
    assert fast.name == f"pytest_benchmark/{FAST}/median"
    assert fast.subject == FAST and fast.metric == "median"
    assert (fast.kind, fast.direction, fast.unit) == (Kind.TIMING, Direction.LOWER, "s")
    assert fast.value == pytest.approx(2.15e-7)
    assert fast.samples == (
        2.1e-7,
        2.0e-7,
        2.3e-7,
        2.0e-7,
        2.2e-7,
        2.4e-7,
        2.1e-7,
        2.2e-7,
        2.0e-7,
        2.3e-7,
    )
    assert "10 rounds x 20 iterations" in fast.evidence[0].text

    assert big.name == f"pytest_benchmark/{BIG}/median"
    assert big.kind is Kind.TIMING and big.samples == ()
    assert "--benchmark-save-data" in big.evidence[-1].text


def test_statistic_and_thinning_are_options() -> None:
    fast, _ = read_benchmarks(FIXTURE, statistic="min", max_samples=3)
    assert fast.name.endswith("/min") and fast.value == pytest.approx(2.0e-7)
    assert fast.samples == (2.1e-7, 2.0e-7, 2.1e-7)  # rounds 0, 3 and 6
    assert "thinned to 3" in fast.evidence[1].text


@pytest.mark.parametrize(
    ("option", "statistic"), [("median", "median"), ("mean", "mean"), ("min", "p0")]
)
def test_the_engine_judges_the_statistic_the_option_names(option: str, statistic: str) -> None:
    fast, _ = read_benchmarks(FIXTURE, statistic=option)
    assert fast.statistic == statistic


def test_thinning_keeps_time_order_evenly() -> None:
    assert thin([float(i) for i in range(10)], 4) == [0.0, 2.0, 5.0, 7.0]
    assert thin([1.0, 2.0], 4) == [1.0, 2.0]


# --- errors name the file ------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        read_benchmarks(tmp_path / "nope.json")
    assert str(caught.value) == f"{tmp_path / 'nope.json'}: no such pytest-benchmark JSON file"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"benchmarks": [', r"not valid JSON \(line 1 column 17: Expecting value\)"),
        ('{"results": []}', r"not pytest-benchmark JSON \(no 'benchmarks' list\)"),
        ('{"benchmarks": [{"name": "x"}]}', r"benchmarks\[0\] is not a pytest-benchmark result"),
    ],
)
def test_corrupt_file(tmp_path: Path, content: str, message: str) -> None:
    path = write(tmp_path / "bench.json", content)
    with pytest.raises(ConfigError, match=message) as caught:
        read_benchmarks(path)
    assert caught.value.where == str(path)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("where", ["median", "data"])
def test_a_nan_result_fails_closed(tmp_path: Path, where: str) -> None:
    data = fixture_data()
    stats = data["benchmarks"][0]["stats"]
    if where == "median":
        stats["median"] = float("nan")
    else:
        stats["data"] = [float("nan"), *stats["data"]]
    path = write(tmp_path / "bench.json", json.dumps(data))  # pytest-benchmark writes NaN so
    with pytest.raises(ConfigError, match="is not a finite number"):
        read_benchmarks(path)


def test_a_benchmark_listed_twice_is_an_error(tmp_path: Path) -> None:
    data = fixture_data()
    data["benchmarks"].append(copy.deepcopy(data["benchmarks"][0]))
    with pytest.raises(ConfigError, match="appears twice"):
        read_benchmarks(write(tmp_path / "bench.json", data))


def test_json_path_is_relative_to_the_project_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    (project / "out").mkdir(parents=True)
    write(project / "out" / "bench.json", fixture_data())
    monkeypatch.chdir(tmp_path)  # perfci started elsewhere, with --config
    ctx = SimpleNamespace(root=project, workdir=tmp_path / "run", progress=lambda message: None)
    options = PytestBenchmarkOptions.model_validate({"json": "out/bench.json"})
    made = list(PytestBenchmark().collect(ctx, options))  # type: ignore[arg-type]
    assert [m.subject for m in made] == [FAST, BIG]


def test_the_calibration_benchmark_calibrates_the_others() -> None:
    fast = timing(f"pytest_benchmark/{FAST}/median", [1.0] * 10, unit="s")
    probe = timing(
        "pytest_benchmark/benches/test_add.py::test_perfci_calibration/median",
        [2.0] * 10,
        unit="s",
    )
    (made,) = calibrated([fast, probe])
    assert made.name == fast.name
    assert made.calibration == probe.samples
    assert calibrated([fast]) == [fast]


def test_json_or_run_is_required(tmp_path: Path) -> None:
    ctx = SimpleNamespace(workdir=tmp_path, progress=lambda message: None)
    with pytest.raises(ConfigError, match="give 'json'"):
        list(PytestBenchmark().collect(ctx, PytestBenchmarkOptions()))  # type: ignore[arg-type]


# --- running the benchmarks ------------------------------------------------------


def test_command_uses_this_pytest_and_asks_for_data(tmp_path: Path) -> None:
    out = tmp_path / "b.json"
    assert build_command("pytest benchmarks -q", out) == [
        sys.executable,
        "-m",
        "pytest",
        "benchmarks",
        "-q",
        f"--benchmark-json={out}",
        "--benchmark-save-data",
    ]
    # With a json path of its own the command is the user's business.
    assert build_command(["make", "bench"], None) == ["make", "bench"]


def test_failing_or_hanging_commands_are_crashes(tmp_path: Path) -> None:
    log = tmp_path / "bench.log"
    failing = [sys.executable, "-c", "print('3 failed'); raise SystemExit(1)"]
    with pytest.raises(CheckCrashed, match=r"exited with code 1: 3 failed"):
        run_command(failing, cwd=tmp_path, timeout=30, log=log)
    hanging = [sys.executable, "-c", "import time; time.sleep(30)"]
    with pytest.raises(CheckCrashed, match=r"did not finish within 0.5 s"):
        run_command(hanging, cwd=tmp_path, timeout=0.5, log=log)
    with pytest.raises(CheckCrashed, match="cannot run no-such-command"):
        run_command(["no-such-command"], cwd=tmp_path, timeout=5, log=log)


# --- end to end ------------------------------------------------------------------


def slower(data: dict[str, Any], factor: float) -> dict[str, Any]:
    slowed = copy.deepcopy(data)
    stats = slowed["benchmarks"][0]["stats"]
    stats["data"] = [x * factor for x in stats["data"]]
    for key in ("min", "max", "mean", "median"):
        stats[key] *= factor
    return slowed


@pytest.mark.slow
def test_gate_on_a_json_file(softfactory: SoftFactoryProject) -> None:
    softfactory.configure({"pytest_benchmark": {"json": "results/bench.json"}}, endpoints=[])
    (softfactory.path / "results").mkdir()
    bench = softfactory.path / "results" / "bench.json"
    write(bench, fixture_data())
    softfactory.baseline()

    same = softfactory.gate()
    assert same.exit_code == 0, explain(same)

    write(bench, slower(fixture_data(), 3.0))
    slow = softfactory.gate()
    assert slow.exit_code == 1, explain(slow)
    assert softfactory.failing() == {f"pytest_benchmark/{FAST}/median": "regression"}
    assert FAST in slow.stdout


@pytest.mark.slow
def test_gate_runs_the_benchmarks(softfactory: SoftFactoryProject) -> None:
    softfactory.write(
        "benches/test_add.py",
        """
        def test_add(benchmark):
            benchmark(lambda: 1 + 1)
        """,
    )
    run = ["pytest", "benches/test_add.py", "-q", "-p", "no:cacheprovider"]
    run += ["--benchmark-max-time=0.01", "--benchmark-min-rounds=5"]
    softfactory.configure(
        {"pytest_benchmark": {"run": run, "timeout": 120}},
        endpoints=[],
        extra={"baselines": {"required": False}},
    )
    result = softfactory.gate()
    assert result.exit_code == 0, explain(result)
    (verdict,) = softfactory.results()["verdicts"]
    assert verdict["name"] == "pytest_benchmark/benches/test_add.py::test_add/median"
    assert verdict["outcome"] == "new"
