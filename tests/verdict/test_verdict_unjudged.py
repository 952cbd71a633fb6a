"""Values that do not measure their subject (``UNJUDGED_LABEL`` evidence): never judged, never
within a budget (e.g. a load stage whose generator, not the server, was the bottleneck)."""

from __future__ import annotations

from dataclasses import replace

from perfci.measurement import UNJUDGED_LABEL, Direction, Evidence, Measurement
from perfci.verdict import BudgetRule, Outcome, judge
from tests.verdict.builders import lognormal, rules, timed

RPS = "load/500users/rps"
WHY = "generator-bound: Locust process 7 used 98% of a core"


def rps(median: float, seed: int, *, unjudged: bool = False) -> Measurement:
    measured = timed(
        RPS, lognormal(median, 0.02, 12, seed), unit="req/s", direction=Direction.HIGHER
    )
    if not unjudged:
        return measured
    return replace(measured, evidence=(Evidence(UNJUDGED_LABEL, WHY),))


def test_the_label_is_read_back_as_the_reason() -> None:
    assert rps(100, 1, unjudged=True).unjudged == WHY
    assert rps(100, 1).unjudged is None


def test_a_generator_bound_drop_is_not_a_regression_of_the_server() -> None:
    [verdict] = judge([rps(500, 1, unjudged=True)], [rps(1000, 2)], rules()).verdicts
    assert verdict.outcome is Outcome.NOISY and not verdict.fails
    assert verdict.reason == f"not judged: {WHY}"
    # What the comparison would have said stays visible.
    assert any(note.startswith("against the baseline: regression") for note in verdict.notes)


def test_a_generator_bound_pass_is_not_a_pass_either() -> None:
    [verdict] = judge([rps(1000, 1, unjudged=True)], [rps(1000, 2)], rules()).verdicts
    assert verdict.outcome is Outcome.NOISY
    assert verdict.reason.startswith("not judged: generator-bound")


def test_a_generator_bound_baseline_cannot_pass_the_current_value() -> None:
    [verdict] = judge([rps(1000, 1)], [rps(1000, 2, unjudged=True)], rules()).verdicts
    assert verdict.outcome is Outcome.NOISY
    assert verdict.reason == f"not judged: the baseline value was not judged: {WHY}"


def test_a_regression_below_a_generator_bound_baseline_stands() -> None:
    # The baseline's server served at least its 1000 req/s; today's, judged, serves 500.
    [verdict] = judge([rps(500, 1)], [rps(1000, 2, unjudged=True)], rules()).verdicts
    assert verdict.outcome is Outcome.REGRESSION and verdict.fails
    assert any("so the regression stands" in note for note in verdict.notes)


def test_both_sides_generator_bound_is_not_judged() -> None:
    current, base = rps(500, 1, unjudged=True), rps(1000, 2, unjudged=True)
    [verdict] = judge([current], [base], rules()).verdicts
    assert verdict.outcome is Outcome.NOISY and verdict.reason == f"not judged: {WHY}"


def test_a_budget_on_a_generator_bound_value_fails_even_when_the_number_is_within() -> None:
    budget = BudgetRule(RPS, min=100, source="perfci.yaml:117")
    for baseline in ([rps(1000, 2)], None):
        [verdict] = judge(
            [rps(1000, 1, unjudged=True)], baseline, rules(budgets=(budget,))
        ).verdicts
        assert verdict.outcome is Outcome.BUDGET and verdict.fails
        assert verdict.budget == budget
        assert verdict.reason == (
            f"the budget min 100 req/s ('{RPS}', perfci.yaml:117) cannot be held: {WHY}"
        )


def test_the_same_budget_passes_a_judged_value() -> None:
    budget = BudgetRule(RPS, min=100)
    [verdict] = judge([rps(1000, 1)], [rps(1000, 2)], rules(budgets=(budget,))).verdicts
    assert verdict.outcome is Outcome.PASS


def test_a_new_unjudged_measurement_stays_new_with_the_reason() -> None:
    [verdict] = judge([rps(1000, 1, unjudged=True)], None, rules()).verdicts
    assert verdict.outcome is Outcome.NEW
    assert WHY in verdict.notes


def test_same_run_verdicts_are_not_judged_either() -> None:
    # perfci run --against: base and head measured in this run; a generator-bound head
    # still does not measure the head's server.
    judgement = judge([rps(500, 1, unjudged=True)], [rps(1000, 2)], rules(), same_run=True)
    [verdict] = judgement.verdicts
    assert verdict.outcome is Outcome.NOISY
    assert verdict.reason == f"not judged: {WHY}"
