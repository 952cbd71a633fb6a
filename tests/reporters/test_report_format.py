"""The one place reporters spell numbers, changes and verdicts."""

from __future__ import annotations

import pytest

from perfci.measurement import Direction, Measurement
from perfci.reporters import format as fmt
from perfci.verdict.model import BudgetRule, Mode, Outcome, Verdict


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (0.0123, "s", "12.3 ms"),
        (1.5, "s", "1.5 s"),
        (1500.0, "ms", "1.5 s"),
        (32.8, "ms", "32.8 ms"),
        (0.25, "ms", "250 µs"),
        (0.5, "us", "500 ns"),
        (12.0, "ms", "12 ms"),
        (0.0, "ms", "0 ms"),
        (512, "bytes", "512 B"),
        (12288, "bytes", "12.3 KB"),
        (1536, "B", "1.54 KB"),
        (2048, "KiB", "2 MiB"),
        (3, "count", "3"),
        (1234, "count", "1234"),
        (31, "statements", "31 statements"),
        (2.5, "queries", "2.5 queries"),
        (0.95, "ratio", "95%"),
        (0.333, "ratio", "33.3%"),
        (12.5, "%", "12.5%"),
        (812.4, "req/s", "812 req/s"),
        (15.25, "req/s", "15.2 req/s"),
        (0.00001, "widgets", "1.00e-05 widgets"),
        ("QueuePool", "", "QueuePool"),
        (float("inf"), "ms", "∞ ms"),
        (float("nan"), "count", "n/a"),
    ],
)
def test_quantity(value: float | str, unit: str, expected: str) -> None:
    assert fmt.quantity(value, unit) == expected


def _verdict(change: float | None, current: object = 2.0, baseline: object = 1.0) -> Verdict:
    name = "c/s/m"
    direction = Direction.EQUAL if isinstance(current, str) else Direction.LOWER
    return Verdict(
        name=name,
        outcome=Outcome.PASS,
        mode=Mode.EXACT,
        reason="",
        current=Measurement(name, current, "", direction),  # type: ignore[arg-type]
        baseline=Measurement(name, baseline, "", direction),  # type: ignore[arg-type]
        change=change,
    )


@pytest.mark.parametrize(
    ("verdict", "expected"),
    [
        (_verdict(0.15), "+15.0%"),
        (_verdict(-0.032), "-3.2%"),
        (_verdict(float("inf")), "+∞"),
        (_verdict(float("-inf")), "-∞"),
        (_verdict(float("nan")), "n/a"),
        (_verdict(None), "—"),
        (_verdict(None, "NullPool", "QueuePool"), "changed"),
        (_verdict(None, "QueuePool", "QueuePool"), "—"),
    ],
)
def test_change(verdict: Verdict, expected: str) -> None:
    assert fmt.change(verdict) == expected


def test_budget_uses_the_rule_unit_and_names_its_source() -> None:
    rule = BudgetRule("latency/*", max=0.025, unit="s", source="perfci.yaml:14")
    assert fmt.budget(rule, "ms") == "max 25 ms (perfci.yaml:14)"
    assert fmt.budget(BudgetRule("load/*", min=100), "req/s") == "min 100 req/s"


def test_split_name_keeps_slashes_in_the_subject() -> None:
    assert fmt.split_name("n_plus_one/GET /api/x/queries") == ("n_plus_one", "GET /api/x/queries")


def test_every_outcome_has_a_word_a_label_and_a_rank() -> None:
    for outcome in Outcome:
        assert fmt.word(outcome) in fmt.label(outcome)
    failing = [o for o in Outcome if o.fails]
    assert all(fmt.word(o).isupper() for o in failing)


def test_ordered_puts_failures_first_and_passes_last_stably() -> None:
    names = ["a/x/p1", "a/x/r", "a/x/p2", "a/x/n", "a/x/b"]
    outcomes = [Outcome.PASS, Outcome.REGRESSION, Outcome.PASS, Outcome.NOISY, Outcome.BUDGET]
    verdicts = [Verdict(n, o, Mode.EXACT, "") for n, o in zip(names, outcomes, strict=True)]
    assert [v.name for v in fmt.ordered(verdicts)] == [
        "a/x/r",
        "a/x/b",
        "a/x/n",
        "a/x/p1",
        "a/x/p2",
    ]
