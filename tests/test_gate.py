"""The gate pipeline's branches, with scripted measurers (no target, no subprocess)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from perfci.errors import CheckCrashed, ConfigError, ExitCode
from perfci.gate import Outputs, Sides, compare_files, finish, judge_and_confirm, rejudge
from perfci.measurement import Measurement
from perfci.plugin.manager import PluginHost
from perfci.result import RunResult
from perfci.verdict.model import BudgetRule, Judgement, Outcome, ThresholdRule
from tests.verdict.builders import count, rules, timed

FAST = [10.0 + 0.01 * i for i in range(40)]
SLOW = [20.0 + 0.01 * i for i in range(40)]


@dataclass
class Scripted:
    """A Measurer whose every ``measure`` call answers the next scripted (head, base)."""

    script: list[tuple[list[Measurement], list[Measurement] | None]]
    same_run: bool = False
    foreign: tuple[str, ...] = ()
    compared: str | None = "scripted"
    calls: list[tuple[str, ...]] = field(default_factory=list)
    crash_on_call: int | None = None

    def measure(self, checks: Sequence[str]) -> Sides:
        self.calls.append(tuple(checks))
        if self.crash_on_call == len(self.calls):
            raise CheckCrashed("check 'latency' crashed: RuntimeError: boom")
        head, base = self.script.pop(0)
        wanted = [m for m in head if m.check in checks]
        return Sides(wanted, base)

    @property
    def partial(self) -> list[Measurement]:
        return []


def _budgets() -> tuple[BudgetRule, ...]:
    # Like the dog-food config: budgets on deterministic checks that are never re-measured.
    return (
        BudgetRule("n_plus_one/*/growth", max=0, source="perfci.yaml:97"),
        BudgetRule("indexes/*/full_scans", max=0, source="perfci.yaml:99"),
    )


def _deterministic() -> list[Measurement]:
    return [count("n_plus_one/GET /a/growth", 0), count("indexes/GET /a/full_scans", 0)]


@pytest.mark.parametrize("same_run", [False, True], ids=["baseline", "against"])
def test_a_confirmed_timing_regression_fails_and_other_rules_are_not_unmatched(
    same_run: bool,
) -> None:
    base = [*_deterministic(), timed("latency/GET /a/p50", FAST)]
    head = [*_deterministic(), timed("latency/GET /a/p50", SLOW)]
    measurer = Scripted([(head, base), (head, base)], same_run=same_run)
    judged = judge_and_confirm(
        measurer, ["n_plus_one", "indexes", "latency"], rules(budgets=_budgets())
    )
    assert measurer.calls == [("n_plus_one", "indexes", "latency"), ("latency",)]
    by_name = {v.name: v for v in judged.judgement.verdicts}
    assert by_name["latency/GET /a/p50"].outcome is Outcome.REGRESSION
    assert judged.confirmations["latency/GET /a/p50"].startswith("confirmed by a second")
    assert judged.judgement.failed


@pytest.mark.parametrize("same_run", [False, True], ids=["baseline", "against"])
def test_an_unconfirmed_suspect_passes(same_run: bool) -> None:
    base = [*_deterministic(), timed("latency/GET /a/p50", FAST)]
    first = [*_deterministic(), timed("latency/GET /a/p50", SLOW)]
    second = [*_deterministic(), timed("latency/GET /a/p50", FAST)]
    measurer = Scripted([(first, base), (second, base)], same_run=same_run)
    judged = judge_and_confirm(
        measurer, ["n_plus_one", "indexes", "latency"], rules(budgets=_budgets())
    )
    assert not judged.judgement.failed
    (verdict,) = [v for v in judged.judgement.verdicts if v.name.startswith("latency")]
    assert verdict.outcome is Outcome.PASS
    assert any("not confirmed" in note for note in verdict.notes)


def test_without_confirmation_a_suspect_fails_at_once() -> None:
    base = [timed("latency/GET /a/p50", FAST)]
    head = [timed("latency/GET /a/p50", SLOW)]
    measurer = Scripted([(head, base)])
    judged = judge_and_confirm(measurer, ["latency"], rules(), confirm_timing=False)
    assert judged.judgement.failed
    assert measurer.calls == [("latency",)]


def test_a_rule_matching_nothing_in_the_full_measurement_is_still_an_error() -> None:
    typo = BudgetRule("n_plus_one/GET /itemz/growth", max=0, source="perfci.yaml:3")
    measurer = Scripted([(_deterministic(), _deterministic())])
    with pytest.raises(ConfigError, match="perfci.yaml:3: budget 'n_plus_one/GET /itemz/growth'"):
        judge_and_confirm(measurer, ["n_plus_one", "indexes"], rules(budgets=(typo,)))


def test_rejudge_ignores_other_checks_metrics_and_rules() -> None:
    base = [*_deterministic(), timed("latency/GET /a/p50", FAST)]
    sides = Sides([timed("latency/GET /a/p50", SLOW)], base)
    judgement = rejudge(sides, ["latency"], rules(budgets=_budgets()), same_run=False)
    assert [v.name for v in judgement.verdicts] == ["latency/GET /a/p50"]
    assert judgement.verdicts[0].outcome is Outcome.REGRESSION


def test_the_machine_rule_comes_from_the_measurer() -> None:
    base = [timed("latency/GET /a/p50", FAST)]
    head = [timed("latency/GET /a/p50", SLOW)]
    measurer = Scripted([(head, base)], foreign=("cpu: A → B",))
    judged = judge_and_confirm(measurer, ["latency"], rules())
    assert not judged.judgement.failed
    assert judged.judgement.verdicts[0].outcome is Outcome.NOISY


# --- compare: two results files --------------------------------------------------------------


def _results_file(
    path: Path,
    measurements: list[Measurement],
    *,
    skipped: Sequence[str] = (),
    environment: dict[str, str] | None = None,
) -> Path:
    result = RunResult(
        suite="s",
        measurements=tuple(measurements),
        judgement=Judgement(()),
        exit_code=0,
        started_at="2026-11-30T00:00:00+00:00",
        duration_s=1.0,
        environment=environment or {},
        checks=tuple(dict.fromkeys(m.check for m in measurements)),
        skipped_checks=tuple(skipped),
    )
    path.write_text(json.dumps(result.to_dict()))
    return path


QUICK_SKIPPED = ("latency", "load")
DOGFOOD_BUDGETS = (
    BudgetRule("latency/GET /a/p95", max=25.0, unit="ms", source="perfci.yaml:90"),
    BudgetRule("load/500users/rps", min=100.0, unit="req/s", source="perfci.yaml:96"),
    *_budgets(),
)


@pytest.mark.parametrize(("head_growth", "code"), [(115.0, 1), (108.0, 0)])
def test_compare_quick_results_excuses_skipped_checks_rules(
    tmp_path: Path, head_growth: float, code: int
) -> None:
    base = _results_file(
        tmp_path / "base.json",
        [count("n_plus_one/GET /a/queries", 100.0), *_deterministic()],
        skipped=QUICK_SKIPPED,
    )
    head = _results_file(
        tmp_path / "head.json",
        [count("n_plus_one/GET /a/queries", head_growth), *_deterministic()],
        skipped=QUICK_SKIPPED,
    )
    result = compare_files(
        base,
        head,
        rules(budgets=DOGFOOD_BUDGETS),
        suite="s",
        configured=("n_plus_one", "indexes", "latency", "load"),
    )
    assert result.exit_code == code
    assert result.skipped_checks == QUICK_SKIPPED


def test_compare_still_refuses_a_rule_of_a_check_that_ran(tmp_path: Path) -> None:
    base = _results_file(tmp_path / "base.json", _deterministic(), skipped=QUICK_SKIPPED)
    head = _results_file(tmp_path / "head.json", _deterministic(), skipped=QUICK_SKIPPED)
    typo = ThresholdRule("indexes/GET /itemz/*", 0.5, source="perfci.yaml:9")
    with pytest.raises(ConfigError, match="perfci.yaml:9: threshold 'indexes/GET /itemz/\\*'"):
        compare_files(base, head, rules(thresholds=(typo,)), suite="s", configured=("indexes",))


def test_compare_a_check_that_vanished_from_the_head_is_missing(tmp_path: Path) -> None:
    base = _results_file(tmp_path / "base.json", _deterministic())
    head = _results_file(tmp_path / "head.json", [count("indexes/GET /a/full_scans", 0)])
    result = compare_files(base, head, rules(), suite="s", configured=("n_plus_one", "indexes"))
    assert result.exit_code == ExitCode.REGRESSION
    assert {v.name: v.outcome for v in result.verdicts}["n_plus_one/GET /a/growth"] is (
        Outcome.MISSING
    )


def test_compare_applies_the_machine_rule_from_both_files(tmp_path: Path) -> None:
    here = {"cpu": "A", "cores": "2", "machine": "x86_64", "python": "3.11.7"}
    there = {**here, "cpu": "B"}
    base = _results_file(tmp_path / "b.json", [timed("latency/GET /a/p50", FAST)], environment=here)
    head = _results_file(
        tmp_path / "h.json", [timed("latency/GET /a/p50", SLOW)], environment=there
    )
    result = compare_files(base, head, rules(), suite="s")
    assert result.exit_code == ExitCode.OK
    (verdict,) = result.verdicts
    assert verdict.outcome is Outcome.NOISY
    assert verdict.reason.startswith("not comparable across machines")
    assert any("cpu: A → B" in note for note in verdict.notes), verdict.notes
    same = _results_file(
        tmp_path / "h2.json", [timed("latency/GET /a/p50", SLOW)], environment=here
    )
    assert compare_files(base, same, rules(), suite="s").exit_code == ExitCode.REGRESSION


# --- errors after measuring still produce reports ---------------------------------------------


def test_a_crash_during_confirmation_keeps_the_reports(tmp_path: Path) -> None:
    from perfci.gate import run_gate

    base = [timed("latency/GET /a/p50", FAST)]
    head = [timed("latency/GET /a/p50", SLOW)]
    measurer = Scripted([(head, base)], crash_on_call=2)
    gate = _gate(tmp_path, ("latency",))
    import datetime as dt

    result = run_gate(gate, measurer, started_at=dt.datetime(2026, 11, 30, tzinfo=dt.UTC))
    assert result.exit_code == ExitCode.TARGET
    assert result.error == "check 'latency' crashed: RuntimeError: boom"
    lines: list[tuple[str, bool]] = []
    outputs = Outputs(
        json=tmp_path / "r.json", markdown=tmp_path / "r.md", junit=tmp_path / "r.xml"
    )
    code = finish(result, outputs, PluginHost(), lambda text, err: lines.append((text, err)))
    assert code == ExitCode.TARGET
    written = json.loads((tmp_path / "r.json").read_text())
    assert written["error"] == "check 'latency' crashed: RuntimeError: boom"
    assert written["exit_code"] == ExitCode.TARGET
    assert "crashed" in (tmp_path / "r.md").read_text()
    assert "crashed" in (tmp_path / "r.xml").read_text()
    assert lines[-1] == ("perfci: check 'latency' crashed: RuntimeError: boom", True)


def test_an_unwritable_report_still_prints_the_terminal_report(tmp_path: Path) -> None:
    result = RunResult(
        suite="s",
        measurements=(),
        judgement=Judgement(()),
        exit_code=0,
        started_at="2026-11-30T00:00:00+00:00",
        duration_s=1.0,
    )
    (tmp_path / "file").write_text("")
    lines: list[tuple[str, bool]] = []
    outputs = Outputs(junit=tmp_path / "file" / "under-a-file.xml")
    code = finish(result, outputs, PluginHost(), lambda text, err: lines.append((text, err)))
    assert code == ExitCode.USAGE
    errors = [text for text, err in lines if err]
    assert len(errors) == 1 and "under-a-file.xml" in errors[0], errors
    terminal = [text for text, err in lines if not err]
    assert terminal, "the terminal report was not printed"
    assert "(exit 2)" in terminal[-1], "the summary must say the exit code perfci returns"


def _gate(tmp_path: Path, checks: tuple[str, ...]):  # type: ignore[no-untyped-def]
    from perfci.config.model import Config, ConfigModel
    from perfci.gate import Gate
    from perfci.runner import Selection

    model = ConfigModel.model_validate({"target": {"app": "x:y"}, "history": {"enabled": False}})
    config = Config(model, tmp_path / "perfci.yaml", {}, {})
    return Gate(config, PluginHost(), Selection(checks, ()), rules())


def test_a_partial_update_cannot_mix_timings_of_two_machines() -> None:
    from perfci.baseline import Baseline
    from perfci.environment import machine_info
    from perfci.gate import baseline_machine

    there = {**machine_info(), "cpu": "Some Other CPU"}
    previous = Baseline(
        suite="s",
        environment=there,
        measurements=(timed("latency/GET /a/p50", FAST), timed("load/50users/rps", FAST)),
    )
    assert baseline_machine(previous, ["n_plus_one"], timing_measured=False) == there
    assert baseline_machine(previous, ["latency", "load"], timing_measured=True) == machine_info()
    with pytest.raises(ConfigError, match=r"stored timings of load were taken on another machine"):
        baseline_machine(previous, ["latency"], timing_measured=True)


def test_compare_refuses_a_results_file_of_a_run_that_could_not_be_judged(tmp_path: Path) -> None:
    base = _results_file(tmp_path / "base.json", _deterministic())
    broken = json.loads(base.read_text())
    broken["error"] = "perfci.yaml:9: budget 'x' matches no measurement"
    broken["exit_code"] = 2
    head = tmp_path / "head.json"
    head.write_text(json.dumps(broken))
    with pytest.raises(ConfigError, match="could not be judged: perfci.yaml:9: budget 'x'"):
        compare_files(base, head, rules(), suite="s")
