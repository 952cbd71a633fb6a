"""What the charts draw, as plain data: one trend per metric, one row per load stage.

Pure functions over ``RunResult``s (oldest first, the report's run last): no
I/O, no markup. ``svg`` draws these, ``page`` lays them out.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from perfci.measurement import Direction, Measurement
from perfci.result import RunResult
from perfci.units import convert
from perfci.verdict.model import BudgetRule, Outcome, Verdict

LOAD_CHECK = "load"
THROUGHPUT_METRICS = ("rps", "throughput")
_PERCENTILE = re.compile(r"^p(\d{1,2}(?:\.\d+)?)$")


@dataclass(frozen=True)
class RunLabel:
    """How a run is named on an x axis and in tooltips."""

    index: int  # position in the history, 0 = oldest shown
    commit: str | None
    branch: str | None
    started_at: str

    @property
    def short(self) -> str:
        """Seven characters of the commit, else the day and time the run started."""
        if self.commit:
            return self.commit[:7]
        return self.started_at[5:16].replace("T", " ") or f"#{self.index + 1}"


@dataclass(frozen=True)
class TrendPoint:
    run: RunLabel
    value: float | None  # None: not measured in that run
    outcome: Outcome | None  # None: measured but not judged
    baseline: float | None
    threshold: float | None
    change: float | None
    reason: str = ""


@dataclass(frozen=True)
class Trend:
    """One metric across the runs; the last point is the report's run."""

    name: str
    unit: str
    direction: Direction
    points: tuple[TrendPoint, ...]
    budget: BudgetRule | None = None
    text_values: tuple[str | None, ...] = ()  # for text facts ('equal' strings): no chart

    @property
    def check(self) -> str:
        return self.name.split("/", 1)[0]

    @property
    def latest(self) -> TrendPoint:
        return self.points[-1]

    @property
    def is_text(self) -> bool:
        return bool(self.text_values)

    def budget_limits(self) -> list[tuple[str, float]]:
        """The budget's ``("max", v)``/``("min", v)`` in this metric's unit, when convertible."""
        rule = self.budget
        if rule is None:
            return []
        limits = []
        for side, limit in (("min", rule.min), ("max", rule.max)):
            if limit is None:
                continue
            try:
                limits.append((side, convert(limit, rule.unit or self.unit, self.unit)))
            except ValueError:
                continue
        return limits


def run_labels(runs: Sequence[RunResult]) -> list[RunLabel]:
    return [RunLabel(i, r.commit, r.branch, r.started_at) for i, r in enumerate(runs)]


def trends(runs: Sequence[RunResult]) -> list[Trend]:
    """A trend for every metric of the last run (measured or judged), in its verdict order."""
    if not runs:
        return []
    labels = run_labels(runs)
    latest = runs[-1]
    names = [v.name for v in latest.verdicts]
    names += [m.name for m in latest.measurements if m.name not in set(names)]
    indexed = [_index(run) for run in runs]
    result = []
    for name in names:
        points = []
        texts: list[str | None] = []
        unit, direction = "", Direction.LOWER
        for label, (measured, judged) in zip(labels, indexed, strict=True):
            measurement = measured.get(name)
            verdict = judged.get(name)
            if measurement is None and verdict is not None:
                measurement = verdict.current
            described = measurement or (verdict.baseline if verdict else None)
            if described is not None:
                unit, direction = described.unit, described.direction
            texts.append(_text(measurement))
            points.append(_point(label, measurement, verdict))
        is_text = any(t is not None for t in texts)
        last_verdict = indexed[-1][1].get(name)
        result.append(
            Trend(
                name=name,
                unit=unit,
                direction=direction,
                points=tuple(points),
                budget=last_verdict.budget if last_verdict else None,  # the rule in force now
                text_values=tuple(texts) if is_text else (),
            )
        )
    return result


def _index(run: RunResult) -> tuple[dict[str, Measurement], dict[str, Verdict]]:
    return {m.name: m for m in run.measurements}, {v.name: v for v in run.verdicts}


def _number(measurement: Measurement | None) -> float | None:
    if measurement is None or isinstance(measurement.value, str):
        return None
    value = float(measurement.value)
    return value if math.isfinite(value) else None


def _text(measurement: Measurement | None) -> str | None:
    if measurement is not None and isinstance(measurement.value, str):
        return measurement.value
    return None


def _point(label: RunLabel, measurement: Measurement | None, verdict: Verdict | None) -> TrendPoint:
    return TrendPoint(
        run=label,
        value=_number(measurement),
        outcome=verdict.outcome if verdict else None,
        baseline=_number(verdict.baseline) if verdict else None,
        threshold=verdict.threshold if verdict else None,
        change=verdict.change if verdict else None,
        reason=verdict.reason if verdict else "",
    )


@dataclass(frozen=True)
class LoadStage:
    """One stage of the load test in the report's run: its metrics by name."""

    name: str  # the subject, e.g. "500users"
    metrics: dict[str, Measurement]
    outcomes: dict[str, Outcome]

    @property
    def throughput(self) -> Measurement | None:
        for metric in THROUGHPUT_METRICS:
            if metric in self.metrics:
                return self.metrics[metric]
        return None

    def percentiles(self) -> list[tuple[float, Measurement]]:
        """``(95.0, p95 measurement)``, ... in ascending order."""
        found = []
        for metric, measurement in self.metrics.items():
            match = _PERCENTILE.match(metric)
            if match and not isinstance(measurement.value, str):
                found.append((float(match.group(1)), measurement))
        return sorted(found, key=lambda pair: pair[0])


def load_stages(result: RunResult) -> list[LoadStage]:
    """The load check's metrics grouped by stage, stages ordered by their user count."""
    stages: dict[str, LoadStage] = {}
    outcomes = {v.name: v.outcome for v in result.verdicts}
    for measurement in result.measurements:
        if measurement.check != LOAD_CHECK:
            continue
        stage = stages.setdefault(measurement.subject, LoadStage(measurement.subject, {}, {}))
        stage.metrics[measurement.metric] = measurement
        if measurement.name in outcomes:
            stage.outcomes[measurement.metric] = outcomes[measurement.name]
    return sorted(stages.values(), key=lambda s: natural_key(s.name))


def natural_key(text: str) -> tuple[float, str]:
    """``"50users"`` before ``"100users"``: the first number, then the text."""
    match = re.search(r"\d+(?:\.\d+)?", text)
    return (float(match.group()) if match else math.inf, text)
