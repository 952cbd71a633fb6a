"""Read back what ``RunResult.to_dict()`` wrote: the inverse used by the store and JSON import.

Non-finite numbers arrive as the strings ``"Infinity"``/``"NaN"`` (the
``--json`` convention) or as floats; ``float()`` reads both.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any

from perfci.measurement import Measurement
from perfci.result import RunResult
from perfci.verdict.model import AckRule, BudgetRule, Judgement, Mode, Outcome, Verdict


def optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


def measurement_or_none(data: Mapping[str, Any] | None) -> Measurement | None:
    return None if data is None else Measurement.from_dict(data)


def budget_from_dict(data: Mapping[str, Any] | None) -> BudgetRule | None:
    if data is None:
        return None
    return BudgetRule(
        pattern=str(data["pattern"]),
        max=optional_float(data.get("max")),
        min=optional_float(data.get("min")),
        unit=data.get("unit"),
        source=str(data.get("source", "")),
    )


def budget_to_dict(rule: BudgetRule | None) -> dict[str, Any] | None:
    """Like ``Verdict.to_dict``'s budget, plus the rule's source line."""
    if rule is None:
        return None
    return {
        "pattern": rule.pattern,
        "max": rule.max,
        "min": rule.min,
        "unit": rule.unit,
        "source": rule.source,
    }


def ack_from_dict(data: Mapping[str, Any] | None) -> AckRule | None:
    if data is None:
        return None
    expires = data.get("expires")
    return AckRule(
        pattern=str(data["pattern"]),
        reason=str(data["reason"]),
        expires=dt.date.fromisoformat(expires) if expires else None,
        source=str(data.get("source", "")),
    )


def ack_to_dict(rule: AckRule | None) -> dict[str, Any] | None:
    if rule is None:
        return None
    return {
        "pattern": rule.pattern,
        "reason": rule.reason,
        "expires": rule.expires.isoformat() if rule.expires else None,
        "source": rule.source,
    }


def verdict_from_dict(data: Mapping[str, Any]) -> Verdict:
    """Build from ``Verdict.to_dict`` output; raises KeyError/ValueError on bad data."""
    return Verdict(
        name=str(data["name"]),
        outcome=Outcome(data["outcome"]),
        mode=Mode(data["mode"]),
        reason=str(data["reason"]),
        current=measurement_or_none(data.get("current")),
        baseline=measurement_or_none(data.get("baseline")),
        change=optional_float(data.get("change")),
        threshold=optional_float(data.get("threshold")),
        p_value=optional_float(data.get("p_value")),
        budget=budget_from_dict(data.get("budget")),
        acknowledged=ack_from_dict(data.get("acknowledged")),
        notes=tuple(str(n) for n in data.get("notes", ())),
    )


def result_from_dict(data: Mapping[str, Any]) -> RunResult:
    """Build from ``RunResult.to_dict`` output; raises KeyError/ValueError/TypeError on bad data."""
    return RunResult(
        suite=str(data["suite"]),
        measurements=tuple(Measurement.from_dict(m) for m in data.get("measurements", ())),
        judgement=Judgement(
            verdicts=tuple(verdict_from_dict(v) for v in data.get("verdicts", ())),
            unmatched_rules=tuple(str(r) for r in data.get("unmatched_rules", ())),
        ),
        exit_code=int(data["exit_code"]),
        started_at=str(data["started_at"]),
        duration_s=float(data.get("duration_s", 0.0)),
        commit=data.get("commit"),
        branch=data.get("branch"),
        environment={str(k): str(v) for k, v in dict(data.get("environment") or {}).items()},
        baseline_path=data.get("baseline_path"),
        checks=tuple(str(c) for c in data.get("checks", ())),
        skipped_checks=tuple(str(c) for c in data.get("skipped_checks", ())),
    )


def verdict_to_dict(verdict: Verdict) -> dict[str, Any]:
    """``Verdict.to_dict`` plus the source lines of its budget and acknowledgement."""
    data = verdict.to_dict()
    data["budget"] = budget_to_dict(verdict.budget)
    data["acknowledged"] = ack_to_dict(verdict.acknowledged)
    return data


def result_to_dict(result: RunResult) -> dict[str, Any]:
    """``RunResult.to_dict`` with everything ``result_from_dict`` needs to rebuild it exactly."""
    data = result.to_dict()
    data["verdicts"] = [verdict_to_dict(v) for v in result.verdicts]
    data["unmatched_rules"] = list(result.judgement.unmatched_rules)
    return data


def finite(value: Any) -> Any:
    """Non-finite floats as the strings ``"Infinity"``, ``"-Infinity"``, ``"NaN"`` (strict JSON)."""
    if isinstance(value, float) and not math.isfinite(value):
        if math.isnan(value):
            return "NaN"
        return "Infinity" if value > 0 else "-Infinity"
    if isinstance(value, dict):
        return {key: finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [finite(item) for item in value]
    return value
