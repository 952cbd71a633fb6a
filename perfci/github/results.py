"""Read a results file (``perfci run --json``) back into a ``RunResult``.

The publisher renders the comment, summary and annotations itself from the
parsed data rather than posting a Markdown file: in the fork-safe pattern the
results come from an artifact a pull request produced, and rebuilding them
through the reporters keeps every cell escaped and the report within size.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from perfci.errors import ConfigError
from perfci.measurement import Measurement
from perfci.result import RESULTS_SCHEMA, RunResult
from perfci.verdict.model import AckRule, BudgetRule, Judgement, Mode, Outcome, Verdict

_NON_FINITE = {"Infinity": math.inf, "-Infinity": -math.inf, "NaN": math.nan}


def load_result(path: Path) -> RunResult:
    """The ``RunResult`` a results file describes; ``ConfigError`` naming the file otherwise."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"cannot read the results file: {error}", where=str(path)) from None
    except ValueError as error:
        raise ConfigError(f"not valid JSON: {error}", where=str(path)) from None
    if not isinstance(data, dict) or "perfci_results" not in data:
        raise ConfigError("not a results file written by 'perfci run --json'", where=str(path))
    version = data["perfci_results"]
    if isinstance(version, bool) or not isinstance(version, int) or version > RESULTS_SCHEMA:
        raise ConfigError(
            f"results schema {version!r} is not one this perfci reads ({RESULTS_SCHEMA})",
            where=str(path),
        )
    try:
        return _result(data)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise ConfigError(f"not a valid results file: {error!r}", where=str(path)) from None


def _result(data: Mapping[str, Any]) -> RunResult:
    verdicts = tuple(_verdict(item) for item in data.get("verdicts") or ())
    exit_code = data["exit_code"]
    if isinstance(exit_code, bool) or not isinstance(exit_code, int):
        raise ValueError(f"exit_code is not an integer: {exit_code!r}")
    return RunResult(
        suite=str(data.get("suite") or "perfci"),
        measurements=tuple(_measurement(m) for m in data.get("measurements") or ()),
        judgement=Judgement(verdicts=verdicts),
        exit_code=exit_code,
        started_at=str(data.get("started_at") or ""),
        duration_s=float(data.get("duration_s") or 0.0),
        commit=_optional(data.get("commit")),
        branch=_optional(data.get("branch")),
        environment={str(k): str(v) for k, v in (data.get("environment") or {}).items()},
        baseline_path=_optional(data.get("baseline_path")),
        checks=tuple(str(c) for c in data.get("checks") or ()),
        skipped_checks=tuple(str(c) for c in data.get("skipped_checks") or ()),
    )


def _verdict(data: Mapping[str, Any]) -> Verdict:
    budget = data.get("budget")
    ack = data.get("acknowledged")
    return Verdict(
        name=str(data["name"]),
        outcome=Outcome(data["outcome"]),
        mode=Mode(data["mode"]),
        reason=str(data.get("reason") or ""),
        current=_measurement(data["current"]) if data.get("current") else None,
        baseline=_measurement(data["baseline"]) if data.get("baseline") else None,
        change=_float(data.get("change")),
        threshold=_float(data.get("threshold")),
        p_value=_float(data.get("p_value")),
        budget=BudgetRule(
            pattern=str(budget["pattern"]),
            max=_float(budget.get("max")),
            min=_float(budget.get("min")),
            unit=_optional(budget.get("unit")),
        )
        if budget
        else None,
        acknowledged=AckRule(
            pattern=str(ack["pattern"]),
            reason=str(ack.get("reason") or ""),
            expires=dt.date.fromisoformat(ack["expires"]) if ack.get("expires") else None,
        )
        if ack
        else None,
        notes=tuple(str(n) for n in data.get("notes") or ()),
    )


def _measurement(data: Mapping[str, Any]) -> Measurement:
    value = data.get("value")
    fixed = dict(data)
    if isinstance(value, str) and value in _NON_FINITE and data.get("direction") != "equal":
        fixed["value"] = _NON_FINITE[value]
    return Measurement.from_dict(fixed)


def _float(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, str):
        return _NON_FINITE[value]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected a number, got {value!r}")
    return float(value)


def _optional(value: Any) -> str | None:
    return None if value is None else str(value)
