"""How reporters spell numbers, changes and verdicts: the one place that formats them.

Every reporter goes through these functions so the terminal, the PR comment and
JUnit show the same value the same way. Numbers are spelled by
``perfci.units``; units and their ladders here add what only reports need
(bare counts, "n/a"); the rest is report-specific (verdict labels, sort
order, the summary line).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

from perfci import units
from perfci.measurement import Measurement
from perfci.result import RunResult
from perfci.verdict.model import BudgetRule, Outcome, Verdict

DASH = "—"

# Most urgent first: failures, then what a reviewer should look at, then passes.
_RANK: dict[Outcome, int] = {
    Outcome.REGRESSION: 0,
    Outcome.BUDGET: 1,
    Outcome.MISSING: 2,
    Outcome.NOISY: 3,
    Outcome.ACKNOWLEDGED: 4,
    Outcome.NEW: 5,
    Outcome.IMPROVEMENT: 6,
    Outcome.PASS: 7,
}

# Words first, symbols as a second cue: never colour alone.
_LABEL: dict[Outcome, tuple[str, str]] = {
    Outcome.REGRESSION: ("✗", "REGRESSION"),
    Outcome.BUDGET: ("✗", "BUDGET VIOLATION"),
    Outcome.MISSING: ("✗", "MISSING"),
    Outcome.NOISY: ("?", "too noisy"),
    Outcome.ACKNOWLEDGED: ("!", "acknowledged"),
    Outcome.NEW: ("+", "new"),
    Outcome.IMPROVEMENT: ("✓", "improvement"),
    Outcome.PASS: ("✓", "pass"),
}

# Summary-line phrases: (singular, plural).
_PHRASE: dict[Outcome, tuple[str, str]] = {
    Outcome.REGRESSION: ("regression", "regressions"),
    Outcome.BUDGET: ("budget violation", "budget violations"),
    Outcome.MISSING: ("missing", "missing"),
    Outcome.NOISY: ("too noisy to judge", "too noisy to judge"),
    Outcome.ACKNOWLEDGED: ("acknowledged", "acknowledged"),
    Outcome.NEW: ("new", "new"),
    Outcome.IMPROVEMENT: ("improvement", "improvements"),
    Outcome.PASS: ("passed", "passed"),
}

# Outcomes whose reason and evidence are spelled out under the table.
DETAILED: frozenset[Outcome] = frozenset(
    {Outcome.REGRESSION, Outcome.BUDGET, Outcome.MISSING, Outcome.NOISY, Outcome.ACKNOWLEDGED}
)

# unit -> (ladder of display units, size of one unit in the ladder's base unit)
_TIME = ("ns", "µs", "ms", "s"), {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0}
_SIZE = (
    ("B", "KB", "MB", "GB"),
    {"B": 1.0, "bytes": 1.0, "byte": 1.0, "KB": 1e3, "MB": 1e6, "GB": 1e9},
)
_BINARY = ("B", "KiB", "MiB", "GiB"), {"KiB": 1024.0, "MiB": 1024.0**2, "GiB": 1024.0**3}
_BARE = frozenset({"count", ""})


def number(value: float) -> str:
    """Whole numbers as integers, otherwise about three significant digits: 1234, 12.3, 0.0451."""
    if math.isnan(value):
        return _non_finite(value)
    return units.format_number(value)


def _non_finite(value: float) -> str:
    if math.isnan(value):
        return "n/a"
    return "∞" if value > 0 else "-∞"


def quantity(value: float | str, unit: str) -> str:
    """A value with its unit, scaled to a readable unit: 0.0123 s → "12.3 ms", 0.5 ratio → "50%".

    Follows the conventions of ``perfci.units.format_quantity`` (decimal KB for
    bytes, trailing zeros trimmed) so that columns and the engine's reasons agree.
    """
    if isinstance(value, str):
        return value
    if unit == "ratio":
        return f"{number(value * 100)}%"
    if unit == "%":
        return f"{number(value)}%"
    if unit in _BARE:
        return number(value)
    for ladder, scales in (_TIME, _SIZE, _BINARY):
        if unit in scales and math.isfinite(value) and value != 0:
            base = value * scales[unit]
            shown = ladder[0]
            for candidate in ladder:
                if abs(base / _scale(candidate)) >= 1:
                    shown = candidate
            return f"{number(base / _scale(shown))} {shown}"
    return f"{number(value)} {unit}"


def _scale(unit: str) -> float:
    for _, scales in (_TIME, _SIZE, _BINARY):
        if unit in scales:
            return scales[unit]
    raise KeyError(unit)


def measured(measurement: Measurement | None) -> str:
    """A measurement's value with its unit, or a dash when there is none."""
    if measurement is None:
        return DASH
    return quantity(measurement.value, measurement.unit)


def percent(fraction: float) -> str:
    """A relative amount as a percentage: 0.1 → "10%", 0.125 → "12.5%"."""
    if not math.isfinite(fraction):
        return _non_finite(fraction)
    text = f"{fraction * 100:.1f}".removesuffix(".0")
    return f"{text}%"


def change(verdict: Verdict) -> str:
    """The signed relative change: "+15.0%", "-3.2%", "+∞" (from zero), "changed" for text facts."""
    if verdict.change is None:
        current, baseline = verdict.current, verdict.baseline
        if (
            current is not None
            and baseline is not None
            and isinstance(current.value, str)
            and current.value != baseline.value
        ):
            return "changed"
        return DASH
    if math.isnan(verdict.change):
        return "n/a"
    if math.isinf(verdict.change):
        return "+∞" if verdict.change > 0 else "-∞"
    return f"{verdict.change * 100:+.1f}%"


def budget(rule: BudgetRule, unit: str) -> str:
    """A budget rule in words: "max 25 ms", "min 100 req/s", "min 1 s, max 2 s"."""
    unit = rule.unit or unit
    parts = []
    if rule.min is not None:
        parts.append(f"min {quantity(rule.min, unit)}")
    if rule.max is not None:
        parts.append(f"max {quantity(rule.max, unit)}")
    text = ", ".join(parts) or "no limit"
    return f"{text} ({rule.source})" if rule.source else text


def unit_of(verdict: Verdict) -> str:
    measurement = verdict.current or verdict.baseline
    return measurement.unit if measurement else ""


def label(outcome: Outcome) -> str:
    """The verdict word with a symbol, e.g. "✗ REGRESSION", "✓ pass"."""
    symbol, word = _LABEL[outcome]
    return f"{symbol} {word}"


def word(outcome: Outcome) -> str:
    """The verdict word alone: failures in capitals ("REGRESSION"), the rest in lower case."""
    return _LABEL[outcome][1]


def phrase(outcome: Outcome) -> str:
    """The outcome as words in a sentence: "budget violation", "too noisy to judge"."""
    return _PHRASE[outcome][0]


def split_name(name: str) -> tuple[str, str]:
    """``check/subject/metric`` → (check, ``subject/metric``)."""
    check, _, rest = name.partition("/")
    return check, rest


def ordered(verdicts: Iterable[Verdict]) -> list[Verdict]:
    """Failures first, then noisy/acknowledged/new/improvements, then passes; stable within each."""
    return sorted(verdicts, key=lambda v: _RANK[v.outcome])


def details(verdict: Verdict) -> list[tuple[str, str]]:
    """The facts behind a verdict besides its reason, as (label, text) pairs."""
    unit = unit_of(verdict)
    facts: list[tuple[str, str]] = []
    if verdict.threshold is not None:
        facts.append(("threshold", percent(verdict.threshold)))
    if verdict.budget is not None:
        facts.append(("budget", budget(verdict.budget, unit)))
    if verdict.p_value is not None:
        facts.append(("p-value", f"{verdict.p_value:.3g}"))
    current = verdict.current
    if current is not None and current.samples:
        facts.append(("samples", str(len(current.samples))))
    if verdict.acknowledged is not None:
        ack = verdict.acknowledged
        text = ack.reason
        if ack.expires is not None:
            text += f" (until {ack.expires.isoformat()})"
        if ack.source:
            text += f" [{ack.source}]"
        facts.append(("acknowledged", text))
    facts.extend(("note", note) for note in verdict.notes)
    return facts


def summary(result: RunResult) -> str:
    """One line: "2 regressions, 1 budget violation, 40 passed — FAILED (exit 1)"."""
    return f"{tally(result)} {DASH} {status(result)} (exit {result.exit_code})"


def tally(result: RunResult) -> str:
    """The non-zero counts, most urgent first: "2 regressions, 1 budget violation, 40 passed"."""
    return tally_of(result.counts())


def tally_of(counts: Mapping[Outcome, int]) -> str:
    """``tally`` of verdict counts by outcome (a run listed without its verdicts)."""
    parts = [
        f"{n} {_PHRASE[outcome][0 if n == 1 else 1]}"
        for outcome in sorted(counts, key=_RANK.__getitem__)
        if (n := counts[outcome])
    ]
    return ", ".join(parts) or "no measurements"


def status(result: RunResult) -> str:
    """PASSED (exit 0), FAILED (exit 1) or ERROR (anything else).

    The verdicts can only make it worse: a results file (a fork's artifact)
    whose ``exit_code`` is 0 while a verdict fails is FAILED, and one listing
    rules that matched nothing is ERROR.
    """
    if result.exit_code not in (0, 1) or result.judgement.unmatched_rules:
        return "ERROR"
    if result.exit_code == 1 or result.judgement.failed:
        return "FAILED"
    return "PASSED"


def lines(text: str) -> Sequence[str]:
    """Evidence text split into lines, trailing blank lines dropped."""
    return text.rstrip("\n").splitlines() or [""]
