"""The inputs and outputs of the verdict engine (pure data)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from perfci.measurement import Measurement, text
from perfci.units import decode_float


class Outcome(StrEnum):
    """A verdict's outcome; the value is a slug (JSON, SQL), reporters show labels."""

    PASS = "pass"
    REGRESSION = "regression"
    IMPROVEMENT = "improvement"
    BUDGET = "budget_violation"
    NEW = "new"
    MISSING = "missing"
    ACKNOWLEDGED = "acknowledged"
    NOISY = "too_noisy"

    @property
    def words(self) -> str:
        """The slug as words, for prose in reasons and notes: "budget violation"."""
        return self.value.replace("_", " ")

    @classmethod
    def _missing_(cls, value: object) -> Outcome | None:
        """Results, baselines and history rows written before the slugs used prose."""
        return _LEGACY_OUTCOMES.get(value) if isinstance(value, str) else None

    @property
    def fails(self) -> bool:
        return self in (Outcome.REGRESSION, Outcome.BUDGET, Outcome.MISSING)


_LEGACY_OUTCOMES = {"budget violation": Outcome.BUDGET, "too noisy to judge": Outcome.NOISY}


class Mode(StrEnum):
    """How a verdict was reached (the report says which, per verdict)."""

    EXACT = "exact"  # deterministic value compared exactly
    BASELINE = "baseline"  # timing samples vs a stored baseline
    NORMALIZED = "normalized"  # timing vs baseline, scaled by the in-run calibration probe
    SAME_RUN = "same-run"  # timing, base and head measured interleaved in this run
    BUDGET = "budget"  # only an absolute budget applied (no baseline value)
    UNCOMPARED = "uncompared"  # a new measurement: nothing to compare with, no budget applied


@dataclass(frozen=True)
class ThresholdRule:
    pattern: str  # fnmatch glob over measurement names
    threshold: float  # relative, 0.10 = 10%
    strict: bool = False  # judge timing even when too noisy
    source: str = ""  # "perfci.yaml:14", for messages


@dataclass(frozen=True)
class BudgetRule:
    pattern: str
    max: float | None = None  # in ``unit``
    min: float | None = None
    unit: str | None = None  # None: the measurement's own unit
    source: str = ""  # "perfci.yaml:14", for messages
    # Set by a check for its own limits: applies where its metric exists, never "unmatched".
    optional: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "pattern": self.pattern,
            "max": self.max,
            "min": self.min,
            "unit": self.unit,
            "source": self.source,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BudgetRule:
        """Build from ``to_dict`` output; raises KeyError/TypeError/ValueError on bad data."""
        unit = data.get("unit")
        return cls(
            pattern=text(data["pattern"]),
            max=optional_float(data.get("max")),
            min=optional_float(data.get("min")),
            unit=None if unit is None else text(unit),
            source=text(data.get("source") or ""),
        )


@dataclass(frozen=True)
class AckRule:
    pattern: str
    reason: str
    expires: dt.date | None = None
    source: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "pattern": self.pattern,
            "reason": self.reason,
            "expires": self.expires.isoformat() if self.expires else None,
            "source": self.source,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AckRule:
        """Build from ``to_dict`` output; raises KeyError/TypeError/ValueError on bad data."""
        expires = data.get("expires")
        return cls(
            pattern=text(data["pattern"]),
            reason=text(data.get("reason") or ""),
            expires=dt.date.fromisoformat(text(expires)) if expires else None,
            source=text(data.get("source") or ""),
        )


@dataclass(frozen=True)
class Rules:
    """Everything the engine needs besides the measurements. ``today`` keeps it clock-free."""

    today: dt.date
    default_threshold: float = 0.10
    thresholds: tuple[ThresholdRule, ...] = ()
    budgets: tuple[BudgetRule, ...] = ()
    acknowledgements: tuple[AckRule, ...] = ()
    alpha: float = 0.05  # significance level of timing verdicts
    # Checks disabled or filtered out (--only/--quick): their missing metrics are not failures.
    skipped_checks: frozenset[str] = frozenset()
    # How the stored baseline's machine differs from this run's ("cpu: A → B", ...).
    # Non-empty: a timing change against it cannot be told from the machine change.
    baseline_machine_differences: tuple[str, ...] = ()


@dataclass(frozen=True)
class Verdict:
    """One measurement judged. ``reason`` is one sentence with the numbers behind it."""

    name: str
    outcome: Outcome
    mode: Mode
    reason: str
    current: Measurement | None = None
    baseline: Measurement | None = None
    change: float | None = None  # relative, signed: +0.15 = 15% larger than baseline
    threshold: float | None = None
    p_value: float | None = None
    budget: BudgetRule | None = None
    acknowledged: AckRule | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def fails(self) -> bool:
        return self.outcome.fails

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "outcome": self.outcome.value,
            "mode": self.mode.value,
            "reason": self.reason,
            "current": self.current.to_dict() if self.current else None,
            "baseline": self.baseline.to_dict() if self.baseline else None,
            "change": self.change,
            "threshold": self.threshold,
            "p_value": self.p_value,
            "budget": self.budget.to_dict() if self.budget else None,
            "acknowledged": self.acknowledged.to_dict() if self.acknowledged else None,
            "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Verdict:
        """Build from ``to_dict`` output; raises KeyError/TypeError/ValueError on bad data."""
        current, baseline = data.get("current"), data.get("baseline")
        budget, ack = data.get("budget"), data.get("acknowledged")
        return cls(
            name=text(data["name"]),
            outcome=Outcome(data["outcome"]),
            mode=Mode(data["mode"]),
            reason=text(data.get("reason") or ""),
            current=None if current is None else Measurement.from_dict(current),
            baseline=None if baseline is None else Measurement.from_dict(baseline),
            change=optional_float(data.get("change")),
            threshold=optional_float(data.get("threshold")),
            p_value=optional_float(data.get("p_value")),
            budget=None if budget is None else BudgetRule.from_dict(budget),
            acknowledged=None if ack is None else AckRule.from_dict(ack),
            notes=tuple(text(n) for n in data.get("notes") or ()),
        )


def optional_float(value: Any) -> float | None:
    """``None`` or a number (``decode_float``)."""
    return None if value is None else decode_float(value)


@dataclass(frozen=True)
class Judgement:
    """The engine's answer: one verdict per measurement, plus rules that matched nothing."""

    verdicts: tuple[Verdict, ...]
    unmatched_rules: tuple[str, ...] = ()  # e.g. "perfci.yaml:14: budget 'latency/x/p95'"

    @property
    def failed(self) -> bool:
        return any(v.fails for v in self.verdicts)
