"""Deterministic measurements: exact, direction-aware comparison with a relative threshold."""

from __future__ import annotations

import math

import pytest

from perfci.measurement import Direction, Kind, Measurement
from perfci.verdict import Mode, Outcome, ThresholdRule, Verdict, judge
from tests.verdict.builders import count, rules

NAME = "n_plus_one/GET /api/coocook/chefs/queries"


def verdict_for(before: float | str, after: float | str, **rule_fields: object) -> Verdict:
    [verdict] = judge([count(NAME, after)], [count(NAME, before)], rules(**rule_fields)).verdicts
    return verdict


def test_fifteen_percent_more_statements_is_a_regression() -> None:
    verdict = verdict_for(42, 48.3)
    assert verdict.outcome is Outcome.REGRESSION
    assert verdict.mode is Mode.EXACT
    assert verdict.change == pytest.approx(0.15)
    assert verdict.threshold == 0.10
    assert verdict.p_value is None
    assert verdict.reason == "42 → 48.3 statements (+15%, threshold 10%)"
    assert verdict.fails


def test_eight_percent_more_statements_passes() -> None:
    verdict = verdict_for(42, 45.36)
    assert verdict.outcome is Outcome.PASS
    assert verdict.change == pytest.approx(0.08)
    assert verdict.reason == "42 → 45.4 statements (+8%, threshold 10%)"
    assert not verdict.fails


def test_reason_for_a_larger_regression_has_one_decimal() -> None:
    assert verdict_for(42, 51).reason == "42 → 51 statements (+21.4%, threshold 10%)"


def test_exactly_at_the_threshold_passes_despite_float_rounding() -> None:
    # 46.2 / 42 - 1 is 0.10000000000000009 in binary floating point.
    assert verdict_for(42, 46.2).outcome is Outcome.PASS
    assert verdict_for(42, 46.2001).outcome is Outcome.REGRESSION


@pytest.mark.parametrize(
    ("direction", "before", "after", "outcome"),
    [
        (Direction.LOWER, 100, 111, Outcome.REGRESSION),
        (Direction.LOWER, 100, 110, Outcome.PASS),
        (Direction.LOWER, 100, 100, Outcome.PASS),
        (Direction.LOWER, 100, 90, Outcome.PASS),
        (Direction.LOWER, 100, 89, Outcome.IMPROVEMENT),
        (Direction.HIGHER, 100, 89, Outcome.REGRESSION),
        (Direction.HIGHER, 100, 90, Outcome.PASS),
        (Direction.HIGHER, 100, 110, Outcome.PASS),
        (Direction.HIGHER, 100, 111, Outcome.IMPROVEMENT),
        (Direction.EQUAL, 100, 100, Outcome.PASS),
        (Direction.EQUAL, 100, 101, Outcome.REGRESSION),
        (Direction.EQUAL, 100, 99.99, Outcome.REGRESSION),
        (Direction.LOWER, -10, -12, Outcome.IMPROVEMENT),
        (Direction.LOWER, -10, -8, Outcome.REGRESSION),
    ],
)
def test_direction_decides_which_way_is_worse(
    direction: Direction, before: float, after: float, outcome: Outcome
) -> None:
    current = count(NAME, after, direction=direction)
    base = count(NAME, before, direction=direction)
    [verdict] = judge([current], [base], rules()).verdicts
    assert verdict.outcome is outcome


@pytest.mark.parametrize(
    ("direction", "before", "after", "outcome", "change"),
    [
        (Direction.LOWER, 0, 1, Outcome.REGRESSION, math.inf),
        (Direction.LOWER, 0, 0, Outcome.PASS, 0.0),
        (Direction.LOWER, 0, -1, Outcome.IMPROVEMENT, -math.inf),
        (Direction.HIGHER, 0, 1, Outcome.IMPROVEMENT, math.inf),
        (Direction.HIGHER, 5, 0, Outcome.REGRESSION, -1.0),
        (Direction.EQUAL, 0, 1, Outcome.REGRESSION, math.inf),
    ],
)
def test_a_zero_baseline_is_well_defined(
    direction: Direction, before: float, after: float, outcome: Outcome, change: float
) -> None:
    current = count(NAME, after, direction=direction)
    base = count(NAME, before, direction=direction)
    [verdict] = judge([current], [base], rules()).verdicts
    assert verdict.outcome is outcome
    assert verdict.change == change


def test_growth_from_zero_says_so_instead_of_an_infinite_percentage() -> None:
    assert verdict_for(0, 3).reason == "0 → 3 statements (from zero, threshold 10%)"


def test_a_text_fact_that_changed_is_a_regression() -> None:
    name = "pool/engine/pool_class"
    [verdict] = judge(
        [count(name, "NullPool", unit="")], [count(name, "QueuePool", unit="")], rules()
    ).verdicts
    assert verdict.outcome is Outcome.REGRESSION
    assert verdict.change is None
    assert verdict.threshold == 0.0
    assert verdict.reason == "'QueuePool' → 'NullPool' (must not change)"


def test_a_text_fact_that_stayed_passes() -> None:
    name = "pool/engine/pool_class"
    [verdict] = judge(
        [count(name, "QueuePool", unit="")], [count(name, "QueuePool", unit="")], rules()
    ).verdicts
    assert verdict.outcome is Outcome.PASS
    assert verdict.reason == "unchanged: 'QueuePool' (must not change)"


def test_an_equal_fact_that_changed_from_number_to_text_is_a_regression() -> None:
    name = "pool/engine/size"
    current = count(name, "5", unit="", direction=Direction.EQUAL)
    base = count(name, 5, unit="", direction=Direction.EQUAL)
    [verdict] = judge([current], [base], rules()).verdicts
    assert verdict.outcome is Outcome.REGRESSION
    assert verdict.change is None


def test_an_equal_number_reports_its_change() -> None:
    name = "pool/engine/size"
    current = count(name, 10, unit="connections", direction=Direction.EQUAL)
    base = count(name, 5, unit="connections", direction=Direction.EQUAL)
    [verdict] = judge([current], [base], rules()).verdicts
    assert verdict.reason == "5 → 10 connections (must not change)"
    assert verdict.change == 1.0


def test_the_first_matching_threshold_rule_wins() -> None:
    thresholds = (
        ThresholdRule("n_plus_one/GET /api/coocook/*/queries", 0.20),
        ThresholdRule("n_plus_one/*", 0.05),
    )
    verdict = verdict_for(100, 115, thresholds=thresholds)
    assert verdict.outcome is Outcome.PASS
    assert verdict.threshold == 0.20
    assert verdict.reason.endswith("(+15%, threshold 20%)")


def test_the_default_threshold_applies_when_no_rule_matches() -> None:
    verdict = verdict_for(100, 107, default_threshold=0.05, thresholds=(ThresholdRule("x/*", 0.5),))
    assert verdict.outcome is Outcome.REGRESSION
    assert verdict.threshold == 0.05


@pytest.mark.parametrize(
    ("name", "pattern", "matches"),
    [
        ("latency/GET /api/x?page=2/p95", "latency/GET /api/x?page=2/p95", True),
        ("latency/GET /api/x?page=2/p95", "latency/GET /api/x[?]page=2/*", True),
        ("latency/GET /api/x?page=2/p95", "latency/*/p95", True),
        ("latency/GET /api/x/p95", "latency/get /api/x/p95", False),  # case-sensitive
        ("latency/GET /api/x/p95", "latency/GET /api/x", False),  # full name, not a prefix
        ("latency/GET /api/x/p95", "*p95", True),  # '*' crosses slashes
    ],
)
def test_threshold_globs_match_full_names_case_sensitively(
    name: str, pattern: str, matches: bool
) -> None:
    thresholds = (ThresholdRule(pattern, 0.5),)
    [verdict] = judge([count(name, 120)], [count(name, 100)], rules(thresholds=thresholds)).verdicts
    assert (verdict.threshold == 0.5) is matches
    assert verdict.outcome is (Outcome.PASS if matches else Outcome.REGRESSION)


def test_a_baseline_in_another_compatible_unit_is_converted() -> None:
    name = "payload/GET /x/bytes"
    current = count(name, 1200, unit="B")
    base = count(name, 1.0, unit="KB")
    [verdict] = judge([current], [base], rules()).verdicts
    assert verdict.outcome is Outcome.REGRESSION
    assert verdict.change == pytest.approx(0.2)
    assert "baseline converted from KB to B" in verdict.notes


def test_an_incompatible_unit_change_is_not_compared() -> None:
    current = count(NAME, 10, unit="ms")
    base = count(NAME, 10, unit="statements")
    [verdict] = judge([current], [base], rules()).verdicts
    assert verdict.outcome is Outcome.NEW
    assert "unit changed from 'statements' to 'ms'" in verdict.reason
    assert verdict.baseline == base


def test_a_changed_direction_is_noted_and_the_current_one_wins() -> None:
    current = count(NAME, 120, direction=Direction.HIGHER)
    base = count(NAME, 100, direction=Direction.LOWER)
    [verdict] = judge([current], [base], rules()).verdicts
    assert verdict.outcome is Outcome.IMPROVEMENT
    assert any("direction changed from lower to higher" in note for note in verdict.notes)


def test_not_a_number_is_never_a_pass() -> None:
    # "too noisy to judge" passes the gate: a NaN must fail it (a NaN benchmark passed so).
    for base in (count(NAME, 3), count(NAME, math.nan)):
        [verdict] = judge([count(NAME, math.nan)], [base], rules()).verdicts
        assert verdict.outcome is Outcome.REGRESSION and verdict.fails
        assert verdict.reason.startswith("cannot judge")
    [new] = judge([count(NAME, math.nan)], None, rules()).verdicts
    assert new.fails and new.reason.startswith("new measurement is not a number")


def test_verdict_keeps_both_measurements() -> None:
    current, base = count(NAME, 5), count(NAME, 4)
    [verdict] = judge([current], [base], rules()).verdicts
    assert verdict.current == current
    assert verdict.baseline == base
    assert verdict.name == NAME


def test_the_kind_of_a_deterministic_measurement_is_exact() -> None:
    current = Measurement(NAME, 5, "statements", Direction.LOWER, Kind.DETERMINISTIC)
    [verdict] = judge([current], [current], rules()).verdicts
    assert verdict.mode is Mode.EXACT
    assert verdict.outcome is Outcome.PASS
    assert verdict.change == 0.0


def test_an_equal_number_read_back_as_a_float_is_unchanged() -> None:
    """A results file keeps the status code 200 as an integer, a history store (and so a
    perfci server baseline) as the float 200.0: the same number, not a change."""
    name = "toy_http/GET /health/status"
    current = count(name, 200, unit="code", direction=Direction.EQUAL)
    base = count(name, 200.0, unit="code", direction=Direction.EQUAL)
    [verdict] = judge([current], [base], rules()).verdicts
    assert verdict.outcome is Outcome.PASS
    changed = count(name, 500, unit="code", direction=Direction.EQUAL)
    [verdict] = judge([changed], [base], rules()).verdicts
    assert verdict.outcome is Outcome.REGRESSION
