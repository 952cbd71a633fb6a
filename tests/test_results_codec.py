"""One results codec: every field survives every reader (results file, history export, store).

The sample sets every field of every dataclass to a non-default value, and a
test checks that it does: a field a reader drops (``source``, ``calibration``)
makes the round trip unequal.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

import pytest

from perfci.github.results import load_result
from perfci.history.jsonio import export_history, import_history
from perfci.history.store import HistoryStore
from perfci.measurement import Direction, Evidence, Kind, Measurement
from perfci.reporters import render_json
from perfci.result import RunResult
from perfci.verdict.model import AckRule, BudgetRule, Judgement, Mode, Outcome, Verdict

CURRENT = Measurement(
    "latency/GET /x/p95",
    12.5,
    "ms",
    Direction.LOWER,
    Kind.TIMING,
    samples=(12.0, 12.5, 13.0),
    evidence=(Evidence("sql", "SELECT 1"),),
    calibration=(1.0, 1.1, 0.9),
    environment={"python": "3.11.7", "valgrind": "3.19.0"},
    statistic="p95",
)
BASE = dataclasses.replace(CURRENT, value=10.0, samples=(10.0, 10.5), calibration=(1.0, 1.0))
VERDICT = Verdict(
    name=CURRENT.name,
    outcome=Outcome.ACKNOWLEDGED,
    mode=Mode.NORMALIZED,
    reason="25% slower, acknowledged",
    current=CURRENT,
    baseline=BASE,
    change=math.inf,
    threshold=0.1,
    p_value=0.01,
    budget=BudgetRule("latency/*", max=20.0, min=1.0, unit="ms", source="perfci.yaml:14"),
    acknowledged=AckRule("latency/*", "known", dt.date(2027, 1, 31), source="perfci.yaml:31"),
    notes=("a note",),
)
RESULT = RunResult(
    suite="default",
    measurements=(CURRENT,),
    judgement=Judgement(verdicts=(VERDICT,), unmatched_rules=("perfci.yaml:9: budget 'x'",)),
    exit_code=1,
    started_at="2026-11-29T02:00:00+00:00",
    duration_s=3.5,
    commit="abc",
    branch="main",
    environment={"cpu": "x86"},
    baseline_path="baselines/default.json",
    checks=("latency",),
    skipped_checks=("load",),
    error="perfci.yaml:9: budget 'x' matches no measurement",
)
# A run that could not be judged (``error``) is never recorded (gate.finish), so the
# store has no column for it: what comes back from the store is the judged run.
STORED = dataclasses.replace(RESULT, error=None)
# Fields left at their default on purpose: a check's own budgets are never serialized.
NOT_SERIALIZED = {("BudgetRule", "optional")}


def _defaults_left(value: Any) -> list[str]:
    left = []
    for field in dataclasses.fields(value):
        item = getattr(value, field.name)
        default = field.default
        if field.default_factory is not dataclasses.MISSING:
            default = field.default_factory()
        if item == default and (type(value).__name__, field.name) not in NOT_SERIALIZED:
            left.append(f"{type(value).__name__}.{field.name}")
        if dataclasses.is_dataclass(item) and not isinstance(item, type):
            left += _defaults_left(item)
    return left


def test_the_sample_sets_every_field() -> None:
    assert _defaults_left(RESULT) + _defaults_left(VERDICT) + _defaults_left(CURRENT) == []


def test_measurement_equality_includes_calibration() -> None:
    assert dataclasses.replace(CURRENT, calibration=()) != CURRENT


def test_results_file_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    path.write_text(render_json(RESULT), encoding="utf-8")
    assert load_result(path) == RESULT


def test_history_store_and_export_round_trip(tmp_path: Path) -> None:
    with HistoryStore(f"sqlite:///{tmp_path / 'a.db'}") as store:
        store.record(STORED)
        [stored] = store.history()
        assert stored.result == STORED
        export_history(store, tmp_path / "export.json")
    with HistoryStore(f"sqlite:///{tmp_path / 'b.db'}") as other:
        assert import_history(other, tmp_path / "export.json") == (1, 0)
        [imported] = other.history()
    assert imported.result == STORED


def test_non_finite_spellings_round_trip_and_nothing_else_does() -> None:
    data = json.loads(render_json(RESULT))
    assert data["verdicts"][0]["change"] == "Infinity"
    assert RunResult.from_dict(data).verdicts[0].change == math.inf
    data["verdicts"][0]["change"] = "inf"  # float() would read it; perfci never writes it
    with pytest.raises(ValueError, match="expected a number"):
        RunResult.from_dict(data)


def test_a_file_without_statistic_reads_as_median_and_median_is_not_written() -> None:
    data = CURRENT.to_dict()
    assert data["statistic"] == "p95"
    del data["statistic"]  # written before the field existed
    assert Measurement.from_dict(data).statistic == "median"
    median = dataclasses.replace(CURRENT, statistic="median")
    assert "statistic" not in median.to_dict()  # additive: median files stay as they were


@pytest.mark.parametrize("statistic", ["median", "mean", "p0", "p50", "p95", "p99.9", "p100"])
def test_statistics_that_are_allowed(statistic: str) -> None:
    measurement = dataclasses.replace(CURRENT, statistic=statistic)
    assert Measurement.from_dict(measurement.to_dict()) == measurement


@pytest.mark.parametrize("statistic", ["max", "P95", "p101", "p-1", "p95.00001", "", "p"])
def test_other_statistics_are_refused(statistic: str) -> None:
    with pytest.raises(ValueError, match="is not median, mean or pNN"):
        dataclasses.replace(CURRENT, statistic=statistic)
    with pytest.raises(ValueError, match="is not median, mean or pNN"):
        Measurement.from_dict({**CURRENT.to_dict(), "statistic": statistic})
