"""perfci end to end, as a user runs it: a project directory, the real command."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from perfci.baseline import SCHEMA_KEY
from perfci.errors import ExitCode
from perfci.pytest_plugin import PerfciProject
from tests.toy.project import CONFIG, FLAKY, make_toy

TOY = Path(__file__).parent / "toy"


@pytest.fixture
def toy(perfci_project: PerfciProject) -> PerfciProject:
    return make_toy(perfci_project)


def test_baseline_then_pass_then_regression(toy: PerfciProject) -> None:
    created = toy.run_inprocess("baseline", "update")
    assert created.exit_code == 0, created.output
    stored = json.loads((toy.path / "baselines" / "toy.json").read_text())
    assert [m["name"] for m in stored["measurements"]] == ["toy_queries/GET /items/queries"]

    passed = toy.run_inprocess("run", "--verbose")
    assert passed.exit_code == ExitCode.OK, passed.output
    assert "toy_queries" in passed.stdout

    regressed = toy.run_inprocess(
        "run",
        "--json",
        "out/results.json",
        "--junit",
        "out/junit.xml",
        "--markdown",
        "out/report.md",
        env={"TOY_EXTRA_QUERIES": "2"},
    )
    assert regressed.exit_code == ExitCode.REGRESSION, regressed.output
    assert "GET /items" in regressed.stdout
    results = json.loads((toy.path / "out" / "results.json").read_text())
    verdict = results["verdicts"][0]
    assert verdict["outcome"] == "regression"
    assert verdict["current"]["value"] == 3
    assert (toy.path / "out" / "junit.xml").read_text().count("<failure") == 1
    assert "toy_queries" in (toy.path / "out" / "report.md").read_text()


def test_http_check_starts_and_stops_gunicorn(toy: PerfciProject) -> None:
    toy.write_config(
        CONFIG.replace("toy_queries: {}", "toy_http: {}") + "baselines:\n  required: false\n"
    )
    result = toy.run_inprocess("run")
    assert result.exit_code == 0, result.output
    assert "starting gunicorn" in result.stderr
    pid = int(result.stderr.split("server pid ")[1].split()[0])
    assert not Path(f"/proc/{pid}").exists()


def test_missing_baseline_is_a_usage_error(toy: PerfciProject) -> None:
    result = toy.run_inprocess("run")
    assert result.exit_code == ExitCode.USAGE
    assert "no baseline at" in result.stderr
    assert "Traceback" not in result.output


def test_unknown_check_suggests(toy: PerfciProject) -> None:
    toy.write_config(CONFIG.replace("toy_queries: {}", "toy_querys: {}"))
    result = toy.run_inprocess("run")
    assert result.exit_code == ExitCode.USAGE
    assert result.stderr.strip() == (
        "perfci: perfci.yaml:14: checks.toy_querys: unknown check 'toy_querys' "
        "(did you mean 'toy_queries'?)"
    )


def test_broken_yaml(toy: PerfciProject) -> None:
    toy.write("perfci.yaml", "target:\n  app: [x\n")
    result = toy.run_inprocess("run")
    assert result.exit_code == ExitCode.USAGE
    assert result.stderr.startswith("perfci: perfci.yaml:3: invalid YAML")
    assert "Traceback" not in result.output


def test_budget_matching_nothing_is_a_usage_error(toy: PerfciProject) -> None:
    toy.write_config(
        CONFIG
        + 'budgets:\n  "latency/GET /nope/p95": {max: 25ms}\n'
        + "baselines:\n  required: false\n"
    )
    result = toy.run_inprocess("run")
    assert result.exit_code == ExitCode.USAGE, result.output
    assert "perfci.yaml:18" in result.stderr
    assert "latency/GET /nope/p95" in result.stderr


def test_budget_violation_fails(toy: PerfciProject) -> None:
    toy.write_config(
        CONFIG
        + 'budgets:\n  "toy_queries/*/queries": {max: 0}\n'
        + "baselines:\n  required: false\n"
    )
    result = toy.run_inprocess("run")
    assert result.exit_code == ExitCode.REGRESSION, result.output


def test_corrupt_baseline(toy: PerfciProject) -> None:
    toy.write("baselines/toy.json", '{"schema": 1, "measurements": [')
    result = toy.run_inprocess("run")
    assert result.exit_code == ExitCode.USAGE
    assert "toy.json" in result.stderr
    assert "Traceback" not in result.output


def test_newer_baseline_schema_is_refused(toy: PerfciProject) -> None:
    assert toy.run_inprocess("baseline", "update").exit_code == 0
    path = toy.path / "baselines" / "toy.json"
    data = json.loads(path.read_text())
    data[SCHEMA_KEY] = 99
    path.write_text(json.dumps(data))
    result = toy.run_inprocess("run")
    assert result.exit_code == ExitCode.USAGE
    assert "newer" in result.stderr


def test_target_that_fails_to_build_is_exit_3(toy: PerfciProject) -> None:
    # A config and baselines that are fine: only the target fails (it was an empty
    # baseline, exit 2, that this test used to accept).
    toy.write_config(
        CONFIG.replace("TOY_EXTRA_QUERIES", "TOY_BROKEN") + "baselines:\n  required: false\n"
    )
    result = toy.run_inprocess("run", env={"TOY_BROKEN": "1"})
    assert result.exit_code == ExitCode.TARGET, result.output
    assert "toy app refuses to start" in result.stderr
    assert "Traceback" not in result.output


def test_crashing_check_is_exit_3_and_named(toy: PerfciProject) -> None:
    toy.write_plugin(
        "crash",
        """
        import perfci
        from perfci import Check

        class Crash(Check):
            name = "crash"
            def collect(self, ctx, options):
                raise ZeroDivisionError("division by zero")

        @perfci.hookimpl
        def perfci_checks():
            return [Crash]
        """,
        directory="local_plugins",
    )
    toy.write_config(
        CONFIG.replace("toy_queries: {}", "crash: {}") + "baselines:\n  required: false\n"
    )
    result = toy.run_inprocess("run")
    assert result.exit_code == ExitCode.TARGET
    assert result.stderr.strip().endswith(
        "check 'crash' crashed: ZeroDivisionError: division by zero"
    )


SKIPPING = """
import os

import perfci
from perfci import Check, CheckSkipped, Direction, Measurement

class Picky(Check):
    name = "picky"
    def collect(self, ctx, options):
        if os.environ.get("PICKY_SKIP"):
            raise CheckSkipped("picky: cannot read this engine")
        yield Measurement("picky/GET /items/facts", 1, "count", Direction.LOWER)

@perfci.hookimpl
def perfci_checks():
    return [Picky]
"""


def test_a_skipping_check_keeps_the_others_results(toy: PerfciProject) -> None:
    toy.write_plugin("picky", SKIPPING, directory="local_plugins")
    toy.write_config(
        CONFIG.replace("toy_queries: {}", "picky: {}\n  toy_queries: {}")
        + "baselines:\n  required: false\n"
    )
    result = toy.run("run", "--json", "results.json", env={"PICKY_SKIP": "1"})
    assert result.exit_code == ExitCode.OK, result.output
    assert "picky: skipped: picky: cannot read this engine" in result.stderr
    assert "Traceback" not in result.output
    names = [v["name"] for v in json.loads((toy.path / "results.json").read_text())["verdicts"]]
    assert names == ["toy_queries/GET /items/queries"]

    # Against a baseline that has the skipped check's metric, it is missing: the gate fails.
    assert toy.run("baseline", "update").exit_code == ExitCode.OK
    skipped = toy.run("run", env={"PICKY_SKIP": "1"})
    assert skipped.exit_code == ExitCode.REGRESSION, skipped.output
    assert "picky/GET /items/facts" in skipped.stdout


def test_only_unknown_check(toy: PerfciProject) -> None:
    result = toy.run_inprocess("run", "--only", "toy_querie")
    assert result.exit_code == ExitCode.USAGE
    assert "did you mean 'toy_queries'" in result.stderr


def test_only_a_disabled_check_names_it(toy: PerfciProject) -> None:
    toy.write_config(CONFIG.replace("toy_queries: {}", "toy_queries: {enabled: false}"))
    result = toy.run_inprocess("run", "--only", "toy_queries")
    assert result.exit_code == ExitCode.USAGE
    assert "check 'toy_queries' is disabled (enabled: false)" in result.stderr
    assert "perfci.yaml:" in result.stderr


def test_plugins_lists_sources(toy: PerfciProject) -> None:
    result = toy.run_inprocess("plugins")
    assert result.exit_code == 0, result.output
    line = next(line for line in result.stdout.splitlines() if line.startswith("toy_checks"))
    assert "local" in line
    assert "toy_queries" in line
    assert "  toy_queries: statements per request of each endpoint" in result.stdout


def test_version_and_help(toy: PerfciProject) -> None:
    assert "perfci, version" in toy.run_inprocess("--version").stdout
    help_text = toy.run_inprocess("run", "--help").stdout
    assert "--only CHECK" in help_text
    assert "Exit codes" in toy.run_inprocess("--help").stdout


def _results(measurements: list[dict[str, object]]) -> str:
    return json.dumps({"perfci_results": 1, "measurements": measurements, "verdicts": []})


@pytest.mark.parametrize(("head_value", "code"), [(115.0, 1), (108.0, 0), (85.0, 0)])
def test_compare_results_files(perfci_project: PerfciProject, head_value: float, code: int) -> None:
    metric = {
        "name": "n_plus_one/GET /x/queries",
        "unit": "statements",
        "direction": "lower",
        "kind": "deterministic",
    }
    perfci_project.write("base.json", _results([{**metric, "value": 100.0}]))
    perfci_project.write("head.json", _results([{**metric, "value": head_value}]))
    result = perfci_project.run_inprocess("compare", "base.json", "head.json")
    assert result.exit_code == code, result.output
    if code:
        assert "n_plus_one" in result.stdout
        assert "GET /x" in result.stdout


def test_baseline_show(toy: PerfciProject) -> None:
    assert toy.run_inprocess("baseline", "update").exit_code == 0
    shown = toy.run_inprocess("baseline", "show")
    assert shown.exit_code == 0
    assert "toy_queries/GET /items/queries" in shown.stdout


@pytest.mark.parametrize(
    ("slow", "code", "note"),
    [
        ("first", ExitCode.OK, "not confirmed: the second measurement was pass"),
        ("always", ExitCode.REGRESSION, "confirmed by a second measurement"),
    ],
)
def test_a_timing_regression_is_re_measured_before_it_fails(
    toy: PerfciProject, slow: str, code: int, note: str
) -> None:
    toy.write_plugin("flaky", FLAKY, directory="local_plugins")
    toy.write_config(CONFIG.replace("toy_queries: {}", "flaky: {}"))
    assert toy.run_inprocess("baseline", "update").exit_code == 0
    result = toy.run_inprocess("run", "--json", "r.json", env={"FLAKY_SLOW": slow})
    assert result.exit_code == code, result.output
    assert "re-measuring 1 suspected timing regression(s): flaky" in result.stderr
    (verdict,) = json.loads((toy.path / "r.json").read_text())["verdicts"]
    assert any(note in n for n in verdict["notes"]), verdict["notes"]


def test_a_timing_change_against_another_machines_baseline_does_not_fail(
    toy: PerfciProject,
) -> None:
    toy.write_plugin("flaky", FLAKY, directory="local_plugins")
    toy.write_config(CONFIG.replace("toy_queries: {}", "flaky: {}"))
    assert toy.run_inprocess("baseline", "update").exit_code == 0
    path = toy.path / "baselines" / "toy.json"
    stored = json.loads(path.read_text())
    stored["environment"]["cpu"] = "Some Other CPU"
    path.write_text(json.dumps(stored))
    result = toy.run_inprocess("run", "--json", "r.json", env={"FLAKY_SLOW": "always"})
    assert result.exit_code == ExitCode.OK, result.output
    assert "the baseline was recorded on another machine (cpu: Some Other CPU → " in result.stderr
    (verdict,) = json.loads((toy.path / "r.json").read_text())["verdicts"]
    assert verdict["outcome"] == "too_noisy"
    assert verdict["reason"].startswith("not comparable across machines: median 10.2 → 20.2")


SLEEPER = """
import time
import perfci
from perfci import Check


class Sleeper(Check):
    name = "sleeper"

    def collect(self, ctx, options):
        ctx.progress(f"server pid {ctx.server().pid}")
        time.sleep(120)
        return []


@perfci.hookimpl
def perfci_checks():
    return [Sleeper]
"""


@pytest.mark.parametrize(("signal_number", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_interrupting_a_run_stops_the_server(
    toy: PerfciProject, signal_number: int, code: int
) -> None:
    toy.write_plugin("sleeper", SLEEPER, directory="local_plugins")
    toy.write_config(
        CONFIG.replace("toy_queries: {}", "sleeper: {}") + "baselines:\n  required: false\n"
    )
    with subprocess.Popen(
        [sys.executable, "-m", "perfci", "run"],
        cwd=toy.path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stderr is not None
        pid = None
        for line in process.stderr:
            if "server pid" in line:
                pid = int(line.rsplit(" ", 1)[1])
                break
        if pid is None:
            process.kill()
            pytest.fail("the server never started")
        group = subprocess.run(
            ["pgrep", "-g", str(pid)], capture_output=True, text=True, check=False
        ).stdout.split()
        assert len(group) >= 2
        process.send_signal(signal_number)
        rest = process.stderr.read()
        assert process.wait(timeout=60) == code
    assert "everything perfci started was stopped" in rest
    assert "Traceback" not in rest
    for member in map(int, group):
        status = Path(f"/proc/{member}/status")
        assert not status.exists() or "zombie" in status.read_text()


def test_json_to_stdout_keeps_stdout_parseable(toy: PerfciProject) -> None:
    assert toy.run_inprocess("baseline", "update").exit_code == ExitCode.OK
    result = toy.run_inprocess("run", "--json", "-")
    assert result.exit_code == ExitCode.OK, result.output
    results = json.loads(result.stdout)  # the terminal report went to stderr
    assert results["verdicts"][0]["name"] == "toy_queries/GET /items/queries"
    assert "passed" in result.stderr


def test_a_quick_baseline_update_keeps_where_the_timings_were_taken(toy: PerfciProject) -> None:
    toy.write_plugin("flaky", FLAKY, directory="local_plugins")
    toy.write_config(CONFIG.replace("toy_queries: {}", "toy_queries: {}\n  flaky: {}"))
    assert toy.run_inprocess("baseline", "update").exit_code == ExitCode.OK
    path = toy.path / "baselines" / "toy.json"
    stored = json.loads(path.read_text())
    stored["environment"]["cpu"] = "Some Other CPU"
    path.write_text(json.dumps(stored))

    # Only deterministic checks re-measured here: the kept timings keep their machine.
    assert toy.run_inprocess("baseline", "update", "--quick").exit_code == ExitCode.OK
    assert json.loads(path.read_text())["environment"]["cpu"] == "Some Other CPU"
    result = toy.run_inprocess("run", "--json", "r.json", env={"FLAKY_SLOW": "always"})
    assert result.exit_code == ExitCode.OK, result.output
    verdicts = {v["name"]: v for v in json.loads((toy.path / "r.json").read_text())["verdicts"]}
    assert verdicts["flaky/GET /x/p50"]["outcome"] == "too_noisy"

    # Re-measuring the timings here makes the file this machine's again.
    assert toy.run_inprocess("baseline", "update", "--only", "flaky").exit_code == ExitCode.OK
    assert json.loads(path.read_text())["environment"]["cpu"] != "Some Other CPU"


def test_ctrl_c_while_perfci_is_still_importing_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import importlib.abc

    from perfci.cli import main

    class Interrupting(importlib.abc.MetaPathFinder):
        def find_spec(self, name: str, *_: object) -> None:
            if name == "perfci.cli.app":
                raise KeyboardInterrupt  # Ctrl-C half-way through the imports
            return None

    monkeypatch.delitem(sys.modules, "perfci.cli.app", raising=False)
    monkeypatch.setattr(sys, "meta_path", [Interrupting(), *sys.meta_path])
    sigterm = signal.getsignal(signal.SIGTERM)
    try:
        with pytest.raises(SystemExit) as stopped:
            main(["--version"])
    finally:
        signal.signal(signal.SIGTERM, sigterm)
    assert stopped.value.code == 130
    assert capsys.readouterr().err == "perfci: interrupted; everything perfci started was stopped\n"


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (
            ("compare", "nope.json", "other.json"),
            "perfci compare: invalid value for 'BASE': File 'nope.json' does not exist "
            "(see 'perfci compare --help')",
        ),
        (
            ("run", "--json", "."),
            "perfci run: invalid value for '--json': File '.' is a directory "
            "(see 'perfci run --help')",
        ),
        (
            ("run", "--frobnicate"),
            "perfci run: no such option '--frobnicate' (see 'perfci run --help')",
        ),
        (("frob",), "perfci: no such command 'frob' (see 'perfci --help')"),
    ],
)
def test_a_usage_error_is_one_line_with_where_help_is(
    toy: PerfciProject, args: tuple[str, ...], line: str
) -> None:
    result = toy.run_inprocess(*args)
    assert result.exit_code == ExitCode.USAGE
    assert result.stderr.splitlines() == [line]
    assert result.stdout == ""
