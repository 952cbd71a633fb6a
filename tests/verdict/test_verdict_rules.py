"""Budgets, acknowledgements, new and missing metrics, skipped checks and unmatched rules."""

from __future__ import annotations

import datetime as dt

import pytest

from perfci.measurement import Direction, Kind, Measurement
from perfci.verdict import AckRule, BudgetRule, Mode, Outcome, ThresholdRule, judge
from tests.verdict.builders import TODAY, count, lognormal, rules, timed

QUERIES = "n_plus_one/GET /api/coocook/chefs/queries"
P95 = "latency/GET /api/coocook/chefs/p95"


def p95(value_ms: float) -> Measurement:
    return Measurement(P95, value_ms, "ms", Direction.LOWER, Kind.TIMING)


# --- budgets -----------------------------------------------------------------------------------


def test_a_budget_violation_names_budget_value_and_source() -> None:
    budget = BudgetRule(P95, max=25, unit="ms", source="perfci.yaml:14")
    [verdict] = judge([p95(31.2)], [p95(31.0)], rules(budgets=(budget,))).verdicts
    assert verdict.outcome is Outcome.BUDGET
    assert verdict.fails
    assert verdict.budget == budget
    assert verdict.reason == (
        "31.2 ms exceeds the budget max 25 ms "
        "('latency/GET /api/coocook/chefs/p95', perfci.yaml:14)"
    )
    assert verdict.mode is Mode.BASELINE  # judged against a baseline as well
    assert verdict.change == pytest.approx(31.2 / 31 - 1)


def test_a_budget_violation_takes_precedence_over_a_regression() -> None:
    budget = BudgetRule(QUERIES, max=10, source="perfci.yaml:20")
    [verdict] = judge([count(QUERIES, 51)], [count(QUERIES, 42)], rules(budgets=(budget,))).verdicts
    assert verdict.outcome is Outcome.BUDGET
    assert verdict.reason.startswith("51 statements exceeds the budget max 10 statements")
    assert (
        "against the baseline: regression, 42 → 51 statements (+21.4%, threshold 10%)"
        in verdict.notes
    )


def test_a_budget_applies_without_a_baseline() -> None:
    budget = BudgetRule(P95, max=0.025, unit="s", source="perfci.yaml:3")
    [verdict] = judge([p95(31.2)], None, rules(budgets=(budget,))).verdicts
    assert verdict.outcome is Outcome.BUDGET
    assert verdict.mode is Mode.BUDGET
    assert verdict.change is None
    assert "exceeds the budget max 25 ms" in verdict.reason


def test_a_met_budget_leaves_a_new_metric_new_with_a_note() -> None:
    budget = BudgetRule(P95, max=25, unit="ms", source="perfci.yaml:3")
    [verdict] = judge([p95(12.0)], None, rules(budgets=(budget,))).verdicts
    assert verdict.outcome is Outcome.NEW
    assert verdict.mode is Mode.BUDGET  # the budget is what judged it
    assert verdict.notes == (
        "within budget max 25 ms ('latency/GET /api/coocook/chefs/p95', perfci.yaml:3)",
    )


def test_a_min_budget_fails_when_the_value_is_below_it() -> None:
    name = "cache/GET /x/hit_ratio"
    ratio = Measurement(name, 0.42, "ratio", Direction.HIGHER)
    budget = BudgetRule(name, min=50, unit="%", source="perfci.yaml:9")
    [verdict] = judge([ratio], [ratio], rules(budgets=(budget,))).verdicts
    assert verdict.outcome is Outcome.BUDGET
    assert (
        verdict.reason
        == "42% is below the budget min 50% ('cache/GET /x/hit_ratio', perfci.yaml:9)"
    )


def test_a_value_exactly_at_the_budget_passes() -> None:
    budget = BudgetRule(QUERIES, max=10)
    [verdict] = judge([count(QUERIES, 10)], None, rules(budgets=(budget,))).verdicts
    assert verdict.outcome is Outcome.NEW


@pytest.mark.parametrize(
    ("value", "unit", "limit", "limit_unit", "violated"),
    [
        (2_090_000, "B", 2, "MiB", False),  # 2 MiB is 2,097,152 B
        (2_090_000, "B", 2, "MB", True),
        (2_100_000, "B", 2, "MiB", True),
        (0.9, "s", 1000, "ms", False),
        (1200, "us", 1, "ms", True),
        (150, "req/s", 10_000, "req/min", False),
    ],
)
def test_budgets_convert_units(
    value: float, unit: str, limit: float, limit_unit: str, violated: bool
) -> None:
    name = "payload/GET /x/bytes"
    measurement = Measurement(name, value, unit, Direction.LOWER)
    budget = BudgetRule(name, max=limit, unit=limit_unit)
    [verdict] = judge([measurement], None, rules(budgets=(budget,))).verdicts
    assert (verdict.outcome is Outcome.BUDGET) is violated


def test_the_first_violated_budget_is_reported_and_all_are_checked() -> None:
    budgets = (
        BudgetRule("latency/*", max=100, unit="ms", source="a:1"),
        BudgetRule(P95, max=20, unit="ms", source="a:2"),
        BudgetRule(P95, max=10, unit="ms", source="a:3"),
    )
    [verdict] = judge([p95(31.2)], None, rules(budgets=budgets)).verdicts
    assert verdict.budget == budgets[1]
    assert verdict.notes == ("within budget max 100 ms ('latency/*', a:1)",)


def test_a_budget_in_an_incompatible_unit_is_a_rule_problem_not_a_crash() -> None:
    budget = BudgetRule(QUERIES, max=25, unit="ms", source="perfci.yaml:14")
    judgement = judge([count(QUERIES, 5)], None, rules(budgets=(budget,)))
    assert judgement.verdicts[0].outcome is Outcome.NEW
    assert judgement.unmatched_rules == (
        "perfci.yaml:14: budget 'n_plus_one/GET /api/coocook/chefs/queries' for "
        "'n_plus_one/GET /api/coocook/chefs/queries': unknown unit 'statements': "
        "cannot convert 'ms' to 'statements'",
    )


def test_a_budget_on_a_text_value_is_a_rule_problem() -> None:
    name = "pool/engine/pool_class"
    budget = BudgetRule(name, max=1, source="perfci.yaml:2")
    judgement = judge([count(name, "QueuePool", unit="")], None, rules(budgets=(budget,)))
    assert judgement.unmatched_rules == (
        "perfci.yaml:2: budget 'pool/engine/pool_class' matches 'pool/engine/pool_class', "
        "whose value is text",
    )


def test_a_budget_applies_to_a_timing_headline_value() -> None:
    name = "latency/GET /x/p95"
    base = timed(name, lognormal(10, 0.1, 100, seed=1), value=30.0)
    budget = BudgetRule(name, max=25, unit="ms")
    [verdict] = judge([base], [base], rules(budgets=(budget,))).verdicts
    assert verdict.outcome is Outcome.BUDGET
    assert verdict.reason.startswith("30 ms exceeds the budget max 25 ms")
    assert verdict.p_value is not None


# --- acknowledgements ---------------------------------------------------------------------------


def ack(pattern: str = "n_plus_one/*", expires: dt.date | None = None) -> AckRule:
    return AckRule(pattern, "known N+1, fixed in #42", expires=expires, source="perfci.yaml:30")


def test_an_acknowledged_regression_passes_with_its_reason_visible() -> None:
    acknowledgement = ack()
    judgement = judge(
        [count(QUERIES, 51)], [count(QUERIES, 42)], rules(acknowledgements=(acknowledgement,))
    )
    [verdict] = judgement.verdicts
    assert verdict.outcome is Outcome.ACKNOWLEDGED
    assert not verdict.fails
    assert not judgement.failed
    assert verdict.acknowledged == acknowledgement
    assert verdict.reason == "acknowledged regression (perfci.yaml:30): known N+1, fixed in #42"
    assert "regression acknowledged: 42 → 51 statements (+21.4%, threshold 10%)" in verdict.notes
    assert verdict.change == pytest.approx(51 / 42 - 1)


@pytest.mark.parametrize(
    ("expires", "applies"),
    [
        (None, True),
        (TODAY + dt.timedelta(days=30), True),
        (TODAY, True),  # the expiry day itself still counts
        (TODAY - dt.timedelta(days=1), False),
    ],
)
def test_an_acknowledgement_applies_up_to_and_including_its_expiry_day(
    expires: dt.date | None, applies: bool
) -> None:
    [verdict] = judge(
        [count(QUERIES, 51)], [count(QUERIES, 42)], rules(acknowledgements=(ack(expires=expires),))
    ).verdicts
    assert (verdict.outcome is Outcome.ACKNOWLEDGED) is applies
    assert (verdict.outcome is Outcome.REGRESSION) is not applies


def test_an_expired_acknowledgement_leaves_a_note() -> None:
    expired = ack(expires=dt.date(2025, 3, 13))
    [verdict] = judge(
        [count(QUERIES, 51)], [count(QUERIES, 42)], rules(acknowledgements=(expired,))
    ).verdicts
    assert verdict.outcome is Outcome.REGRESSION
    assert verdict.acknowledged is None
    assert verdict.notes == (
        "acknowledgement 'n_plus_one/*' (perfci.yaml:30) expired on 2025-03-13 "
        "and no longer applies",
    )


def test_an_unexpired_acknowledgement_after_an_expired_one_still_applies() -> None:
    expired, current = ack(expires=dt.date(2020, 1, 1)), ack(QUERIES)
    [verdict] = judge(
        [count(QUERIES, 51)], [count(QUERIES, 42)], rules(acknowledgements=(expired, current))
    ).verdicts
    assert verdict.acknowledged == current
    assert any("expired on 2020-01-01" in note for note in verdict.notes)


def test_an_acknowledgement_says_until_when() -> None:
    [verdict] = judge(
        [count(QUERIES, 51)],
        [count(QUERIES, 42)],
        rules(acknowledgements=(ack(expires=dt.date(2025, 4, 1)),)),
    ).verdicts
    assert verdict.notes[-1].startswith("regression acknowledged until 2025-04-01: ")


def test_an_acknowledgement_does_not_touch_a_passing_verdict() -> None:
    [verdict] = judge(
        [count(QUERIES, 42)], [count(QUERIES, 42)], rules(acknowledgements=(ack(),))
    ).verdicts
    assert verdict.outcome is Outcome.PASS
    assert verdict.acknowledged is None


def test_an_acknowledgement_covers_a_budget_violation() -> None:
    budget = BudgetRule(QUERIES, max=10, source="perfci.yaml:14")
    [verdict] = judge(
        [count(QUERIES, 12)], None, rules(budgets=(budget,), acknowledgements=(ack(),))
    ).verdicts
    assert verdict.outcome is Outcome.ACKNOWLEDGED
    assert verdict.budget == budget
    assert verdict.reason.startswith("acknowledged budget violation (perfci.yaml:30)")


def test_an_acknowledgement_covers_a_missing_metric() -> None:
    [verdict] = judge([], [count(QUERIES, 12)], rules(acknowledgements=(ack(),))).verdicts
    assert verdict.outcome is Outcome.ACKNOWLEDGED
    assert verdict.reason.startswith("acknowledged missing")


def test_an_acknowledgement_does_not_silence_noise() -> None:
    base = timed(P95, lognormal(10.0, 1.2, 30, seed=40))
    head = timed(P95, lognormal(13.0, 1.2, 30, seed=41))
    [verdict] = judge([head], [base], rules(acknowledgements=(ack("latency/*"),))).verdicts
    assert verdict.outcome is Outcome.NOISY


# --- new, missing, skipped -----------------------------------------------------------------------


def test_no_baseline_makes_every_measurement_new() -> None:
    judgement = judge([count(QUERIES, 5), p95(12)], None, rules())
    assert [v.outcome for v in judgement.verdicts] == [Outcome.NEW, Outcome.NEW]
    # No budget applied to them: their mode says nothing was compared (not "budget").
    assert [v.mode for v in judgement.verdicts] == [Mode.UNCOMPARED, Mode.UNCOMPARED]
    assert judgement.verdicts[0].reason == "new measurement: 5 statements (no baseline)"
    assert not judgement.failed


def test_a_measurement_absent_from_the_baseline_is_new() -> None:
    [verdict] = judge([count(QUERIES, 5)], [], rules()).verdicts
    assert verdict.outcome is Outcome.NEW
    assert verdict.reason == "new measurement: 5 statements (not in the baseline)"


def test_a_baseline_metric_no_longer_measured_is_missing_and_fails() -> None:
    judgement = judge([count(QUERIES, 5)], [count(QUERIES, 5), p95(12)], rules())
    missing = judgement.verdicts[1]
    assert missing.outcome is Outcome.MISSING
    assert missing.fails
    assert judgement.failed
    assert missing.current is None
    assert missing.baseline == p95(12)
    assert missing.reason == (
        "in the baseline (12 ms) but not measured in this run, "
        "although its check 'latency' was not skipped"
    )


def test_metrics_of_skipped_checks_produce_no_verdict() -> None:
    judgement = judge(
        [count(QUERIES, 5)],
        [count(QUERIES, 5), p95(12)],
        rules(skipped_checks=frozenset({"latency"})),
    )
    assert [v.name for v in judgement.verdicts] == [QUERIES]
    assert not judgement.failed


def test_verdicts_come_in_current_order_then_missing_in_baseline_order() -> None:
    names = ["b/x/m", "a/x/m", "c/x/m", "d/x/m"]
    current = [count(names[0], 1), count(names[1], 1)]
    baseline = [count(names[3], 1), count(names[1], 1), count(names[2], 1)]
    verdicts = judge(current, baseline, rules()).verdicts
    assert [v.name for v in verdicts] == ["b/x/m", "a/x/m", "d/x/m", "c/x/m"]
    assert [v.outcome for v in verdicts] == [
        Outcome.NEW,
        Outcome.PASS,
        Outcome.MISSING,
        Outcome.MISSING,
    ]


@pytest.mark.parametrize("side", ["current", "baseline"])
def test_duplicate_names_are_a_bug_and_raise(side: str) -> None:
    twice = [count(QUERIES, 1), count(QUERIES, 2)]
    with pytest.raises(ValueError, match=f"duplicate {side} measurement"):
        judge(twice if side == "current" else [], twice if side == "baseline" else None, rules())


# --- rules that match nothing ------------------------------------------------------------------


def test_every_kind_of_rule_matching_nothing_is_reported_with_its_source() -> None:
    judgement = judge(
        [count(QUERIES, 5)],
        None,
        rules(
            thresholds=(ThresholdRule("latency/GET /y/*", 0.2, source="perfci.yaml:5"),),
            budgets=(BudgetRule("latency/GET /x/p95", max=25, source="perfci.yaml:14"),),
            acknowledgements=(AckRule("pool/*", "why", source="perfci.yaml:22"),),
        ),
    )
    assert judgement.unmatched_rules == (
        "perfci.yaml:5: threshold 'latency/GET /y/*' matches no measurement",
        "perfci.yaml:14: budget 'latency/GET /x/p95' matches no measurement",
        "perfci.yaml:22: acknowledgement 'pool/*' matches no measurement",
    )


def test_a_rule_without_a_source_is_still_reported() -> None:
    judgement = judge([], None, rules(thresholds=(ThresholdRule("x/*", 0.2),)))
    assert judgement.unmatched_rules == ("threshold 'x/*' matches no measurement",)


def test_rules_matching_only_a_baseline_name_are_matched() -> None:
    judgement = judge(
        [],
        [p95(12)],
        rules(budgets=(BudgetRule(P95, max=25),), acknowledgements=(ack("latency/*"),)),
    )
    assert judgement.unmatched_rules == ()


@pytest.mark.parametrize("pattern", ["latency/GET /x/p95", "lat*/*", "latency"])
def test_rules_targeting_a_skipped_check_are_not_reported(pattern: str) -> None:
    judgement = judge(
        [count(QUERIES, 5)],
        None,
        rules(
            budgets=(BudgetRule(pattern, max=25),),
            skipped_checks=frozenset({"latency"}),
        ),
    )
    assert judgement.unmatched_rules == ()


def test_a_rule_matching_a_measurement_is_not_reported() -> None:
    judgement = judge(
        [count("latency/GET /api/x?page=2/p95", 5, unit="ms")],
        None,
        rules(thresholds=(ThresholdRule("latency/GET /api/x?page=?/p95", 0.2),)),
    )
    assert judgement.unmatched_rules == ()


@pytest.mark.parametrize("pattern", ["*/GET /itemz/queries", "n*/GET /itemz/queries"])
def test_a_wildcard_rule_that_also_names_a_check_that_ran_is_not_excused(pattern: str) -> None:
    judgement = judge(
        [count(QUERIES, 5)],
        None,
        rules(budgets=(BudgetRule(pattern, max=0),), skipped_checks=frozenset({"latency"})),
    )
    assert judgement.unmatched_rules == (f"budget '{pattern}' matches no measurement",)


def test_outcomes_written_as_prose_by_older_versions_are_read() -> None:
    assert Outcome("budget violation") is Outcome.BUDGET
    assert Outcome("too noisy to judge") is Outcome.NOISY
    assert Outcome("budget_violation") is Outcome.BUDGET
    with pytest.raises(ValueError, match="'budget'"):
        Outcome("budget")
