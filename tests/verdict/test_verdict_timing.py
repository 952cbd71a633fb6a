"""Timing measurements: effect size AND significance, calibration, noise, strict rules."""

from __future__ import annotations

import pytest

from perfci.measurement import Direction, Kind, Measurement
from perfci.verdict import Mode, Outcome, ThresholdRule, Verdict, judge, judge_pair
from tests.verdict.builders import count, lognormal, rules, timed

NAME = "latency/GET /api/coocook/chefs/p50"
BASE = lognormal(10.0, 0.10, 400, seed=1)


def judged(head: Measurement, base: Measurement, **rule_fields: object) -> Verdict:
    [verdict] = judge([head], [base], rules(**rule_fields)).verdicts
    return verdict


# --- known answers (issue 5, "Tests") ---------------------------------------------------------


SEEDS = [(100, 101), (102, 103), (104, 105), (106, 107), (108, 109)]


@pytest.mark.parametrize(("base_seed", "head_seed"), SEEDS)
def test_same_distribution_passes(base_seed: int, head_seed: int) -> None:
    base = timed(NAME, lognormal(10.0, 0.10, 400, seed=base_seed))
    verdict = judged(timed(NAME, lognormal(10.0, 0.10, 400, seed=head_seed)), base)
    assert verdict.outcome is Outcome.PASS
    assert verdict.mode is Mode.BASELINE
    assert abs(verdict.change or 0) < 0.03
    assert verdict.p_value is not None


@pytest.mark.parametrize(("base_seed", "head_seed"), SEEDS)
def test_shift_of_thirty_percent_with_modest_noise_is_a_regression(
    base_seed: int, head_seed: int
) -> None:
    base = timed(NAME, lognormal(10.0, 0.10, 400, seed=base_seed))
    verdict = judged(timed(NAME, lognormal(13.0, 0.10, 400, seed=head_seed)), base)
    assert verdict.outcome is Outcome.REGRESSION
    assert verdict.change == pytest.approx(0.30, abs=0.03)
    assert verdict.p_value is not None
    assert verdict.p_value < 1e-6
    assert verdict.threshold == 0.10


def test_a_regression_reason_carries_the_numbers() -> None:
    verdict = judged(timed(NAME, lognormal(13.0, 0.10, 400, seed=3)), timed(NAME, BASE))
    assert verdict.reason == (
        "median 9.95 → 13 ms (+31%, ratio 1.31, 95% CI 1.29–1.33, p<0.0001, threshold 10%)"
    )


@pytest.mark.parametrize(("base_seed", "head_seed"), [(4, 5), (40, 41), (42, 43), (44, 45)])
def test_shift_of_thirty_percent_with_huge_variance_is_too_noisy(
    base_seed: int, head_seed: int
) -> None:
    base = timed(NAME, lognormal(10.0, 1.2, 30, seed=base_seed))
    head = timed(NAME, lognormal(13.0, 1.2, 30, seed=head_seed))
    verdict = judged(head, base)
    assert verdict.outcome is Outcome.NOISY
    assert not verdict.fails
    assert verdict.reason.startswith("too noisy to judge: median ")
    for number in ("ratio ", "95% CI ", "CV ", "p=", "threshold 10%"):
        assert number in verdict.reason
    assert any(note.startswith("smallest change detectable") for note in verdict.notes)


def test_shift_of_minus_thirty_percent_is_an_improvement() -> None:
    verdict = judged(timed(NAME, lognormal(7.0, 0.10, 400, seed=6)), timed(NAME, BASE))
    assert verdict.outcome is Outcome.IMPROVEMENT
    assert verdict.change == pytest.approx(-0.30, abs=0.03)
    assert verdict.p_value is not None
    assert verdict.p_value < 1e-6


# --- the decision rule in detail ---------------------------------------------------------------


def test_a_significant_change_within_the_threshold_passes() -> None:
    verdict = judged(timed(NAME, lognormal(10.6, 0.05, 400, seed=7)), timed(NAME, BASE))
    assert verdict.outcome is Outcome.PASS
    assert verdict.p_value is not None
    assert verdict.p_value < 0.05


def test_past_the_threshold_but_not_significant_is_too_noisy() -> None:
    # Three samples a side: the smallest one-sided Mann-Whitney p is 0.05, never below it.
    verdict = judged(timed(NAME, [13.0, 13.1, 13.2]), timed(NAME, [10.0, 10.1, 10.2]))
    assert verdict.outcome is Outcome.NOISY
    assert any("only 3 baseline and 3 current samples" in note for note in verdict.notes)


def test_an_interval_wider_than_the_threshold_band_is_too_noisy_even_near_no_change() -> None:
    base = timed(NAME, lognormal(10.0, 1.0, 25, seed=8))
    head = timed(NAME, lognormal(10.0, 1.0, 25, seed=9))
    verdict = judged(head, base, default_threshold=0.5)  # keep the point within the band
    wide = judged(head, base, default_threshold=0.05)
    assert verdict.outcome in (Outcome.PASS, Outcome.NOISY)
    assert wide.outcome is Outcome.NOISY


def test_an_interval_wholly_past_the_threshold_is_a_regression_however_wide() -> None:
    base = timed(NAME, lognormal(10.0, 0.3, 40, seed=10))
    head = timed(NAME, lognormal(30.0, 0.3, 40, seed=11))
    verdict = judged(head, base)
    assert verdict.outcome is Outcome.REGRESSION


def test_strict_judges_the_point_ratio_despite_the_noise() -> None:
    base = timed(NAME, lognormal(10.0, 1.2, 30, seed=40))
    head = timed(NAME, lognormal(13.0, 1.2, 30, seed=41))
    assert judged(head, base).outcome is Outcome.NOISY
    verdict = judged(head, base, thresholds=(ThresholdRule("latency/*", 0.10, strict=True),))
    assert verdict.outcome is Outcome.REGRESSION
    assert any(note.startswith("strict: judged on the point ratio") for note in verdict.notes)


def test_strict_does_not_turn_noise_within_the_threshold_into_a_failure() -> None:
    same = lognormal(10.0, 0.1, 100, seed=12)
    verdict = judged(
        timed(NAME, same), timed(NAME, same), thresholds=(ThresholdRule("*", 0.1, strict=True),)
    )
    assert verdict.outcome is Outcome.PASS
    assert verdict.change == 0.0


@pytest.mark.parametrize(
    ("head_median", "outcome"),
    [(7.0, Outcome.REGRESSION), (10.0, Outcome.PASS), (13.0, Outcome.IMPROVEMENT)],
)
def test_higher_is_better_timings_regress_when_they_drop(
    head_median: float, outcome: Outcome
) -> None:
    name = "load/GET /x/throughput"
    base = timed(
        name, lognormal(10.0, 0.05, 200, seed=13), unit="req/s", direction=Direction.HIGHER
    )
    head = timed(
        name, lognormal(head_median, 0.05, 200, seed=14), unit="req/s", direction=Direction.HIGHER
    )
    assert judged(head, base).outcome is outcome


# --- calibration -------------------------------------------------------------------------------


def test_a_machine_thirty_percent_slower_overall_passes_after_normalisation() -> None:
    base = timed(NAME, BASE, calibration=lognormal(2.0, 0.05, 50, seed=20))
    head = timed(
        NAME,
        lognormal(13.0, 0.10, 400, seed=21),
        calibration=lognormal(2.6, 0.05, 50, seed=22),
    )
    verdict = judged(head, base)
    assert verdict.mode is Mode.NORMALIZED
    assert verdict.outcome is Outcome.PASS
    assert "normalized -2.5%, ratio 0.98" in verdict.reason
    assert verdict.change == pytest.approx(0.0, abs=0.05)
    assert any(note.startswith("normalized by the calibration probe") for note in verdict.notes)


def test_a_real_slowdown_survives_normalisation() -> None:
    base = timed(NAME, BASE, calibration=lognormal(2.0, 0.05, 50, seed=20))
    head = timed(
        NAME,
        lognormal(13.0, 0.10, 400, seed=21),
        calibration=lognormal(2.0, 0.05, 50, seed=23),
    )
    verdict = judged(head, base)
    assert verdict.mode is Mode.NORMALIZED
    assert verdict.outcome is Outcome.REGRESSION


def test_normalisation_multiplies_for_rates() -> None:
    # A machine 30% slower (probe time x1.3) serves 1/1.3 the requests: normalised, no change.
    name = "load/GET /x/throughput"
    base = timed(
        name,
        lognormal(100.0, 0.05, 200, seed=24),
        unit="req/s",
        direction=Direction.HIGHER,
        calibration=lognormal(2.0, 0.02, 50, seed=25),
    )
    head = timed(
        name,
        lognormal(100.0 / 1.3, 0.05, 200, seed=26),
        unit="req/s",
        direction=Direction.HIGHER,
        calibration=lognormal(2.6, 0.02, 50, seed=27),
    )
    verdict = judged(head, base)
    assert verdict.mode is Mode.NORMALIZED
    assert verdict.outcome is Outcome.PASS


def test_calibration_on_one_side_only_is_not_used() -> None:
    base = timed(NAME, BASE)
    head = timed(NAME, lognormal(10.0, 0.1, 400, seed=2), calibration=[1.0, 1.1, 0.9])
    verdict = judged(head, base)
    assert verdict.mode is Mode.BASELINE
    assert "calibration samples only in the current measurement: not normalized" in verdict.notes


def test_a_non_positive_calibration_is_ignored() -> None:
    verdict = judge_pair(
        NAME, BASE, BASE, mode=Mode.NORMALIZED, base_calibration=[0.0], head_calibration=[1.0]
    )
    assert verdict.mode is Mode.BASELINE
    assert "calibration median is not positive: not normalized" in verdict.notes


# --- a baseline from another machine ----------------------------------------------------------

ELSEWHERE = ("cpu: Intel(R) Xeon(R) Processor → AMD EPYC",)


@pytest.mark.parametrize("head_median", [13.0, 7.0])
def test_a_change_against_another_machines_baseline_is_reported_not_judged(
    head_median: float,
) -> None:
    head = timed(NAME, lognormal(head_median, 0.10, 400, seed=30))
    here = judged(head, timed(NAME, BASE))
    assert here.outcome in (Outcome.REGRESSION, Outcome.IMPROVEMENT)
    verdict = judged(head, timed(NAME, BASE), baseline_machine_differences=ELSEWHERE)
    assert verdict.outcome is Outcome.NOISY
    assert not verdict.fails
    assert verdict.reason == f"not comparable across machines: {here.reason}"
    assert verdict.change == here.change
    assert "cpu: Intel(R) Xeon(R) Processor → AMD EPYC" in verdict.notes[-1]
    assert "perfci baseline update" in verdict.notes[-1]
    assert "--against" in verdict.notes[-1]


def test_a_pass_against_another_machines_baseline_stays_a_pass() -> None:
    head = timed(NAME, lognormal(10.0, 0.10, 400, seed=31))
    verdict = judged(head, timed(NAME, BASE), baseline_machine_differences=ELSEWHERE)
    assert verdict.outcome is Outcome.PASS


def test_strict_still_judges_against_another_machines_baseline() -> None:
    head = timed(NAME, lognormal(13.0, 0.10, 400, seed=32))
    verdict = judged(
        head,
        timed(NAME, BASE),
        baseline_machine_differences=ELSEWHERE,
        thresholds=(ThresholdRule("latency/*", 0.10, strict=True),),
    )
    assert verdict.outcome is Outcome.REGRESSION


def test_another_machine_changes_neither_same_run_nor_deterministic_verdicts() -> None:
    head = timed(NAME, lognormal(13.0, 0.10, 400, seed=33))
    [same_run] = judge(
        [head], [timed(NAME, BASE)], rules(baseline_machine_differences=ELSEWHERE), same_run=True
    ).verdicts
    assert same_run.outcome is Outcome.REGRESSION
    statements = "n_plus_one/GET /x/queries"
    [exact] = judge(
        [count(statements, 14)],
        [count(statements, 1)],
        rules(baseline_machine_differences=ELSEWHERE),
    ).verdicts
    assert exact.outcome is Outcome.REGRESSION


# --- same-run mode and the judge_pair entry point ---------------------------------------------


def test_same_run_mode_is_reported_and_ignores_calibration() -> None:
    base = timed(NAME, BASE, calibration=[1.0] * 10)
    head = timed(NAME, lognormal(13.0, 0.1, 400, seed=3), calibration=[2.0] * 10)
    [verdict] = judge([head], [base], rules(), same_run=True).verdicts
    assert verdict.mode is Mode.SAME_RUN
    assert verdict.outcome is Outcome.REGRESSION
    assert not any("calibration" in note for note in verdict.notes)


def test_judge_pair_is_deterministic() -> None:
    head = lognormal(10.5, 0.3, 200, seed=30)
    first = judge_pair(NAME, BASE, head, unit="ms")
    second = judge_pair(NAME, list(BASE), tuple(head), unit="ms")
    assert first == second
    assert first.mode is Mode.SAME_RUN
    assert first.current is None
    assert first.baseline is None


def test_judge_pair_accepts_numpy_arrays() -> None:
    import numpy as np

    base, head = np.array(BASE), np.array(BASE) * 1.3
    verdict = judge_pair(NAME, base, head, unit="ms")  # type: ignore[arg-type]  # arrays on purpose
    assert verdict.outcome is Outcome.REGRESSION
    assert verdict.change == pytest.approx(0.3)


def test_judge_pair_refuses_equal_direction_and_bad_samples() -> None:
    with pytest.raises(ValueError, match="lower or higher"):
        judge_pair(NAME, BASE, BASE, direction=Direction.EQUAL)
    with pytest.raises(ValueError, match="finite samples"):
        judge_pair(NAME, [], BASE)
    with pytest.raises(ValueError, match="finite samples"):
        judge_pair(NAME, [1.0, float("nan")], BASE)


def test_a_zero_baseline_median_falls_back_to_comparing_medians() -> None:
    verdict = judge_pair(NAME, [0.0, 0.0, 0.0], [1.0, 1.0, 1.0], unit="ms")
    assert verdict.outcome is Outcome.REGRESSION
    assert verdict.reason == "median 0 → 1 ms (from zero, threshold 10%)"
    assert any("baseline median is not positive" in note for note in verdict.notes)


def test_a_tighter_alpha_needs_stronger_evidence() -> None:
    base = [10.0 + 0.1 * i for i in range(8)]
    head = [12.0 + 0.1 * i for i in range(8)]
    assert judge_pair(NAME, base, head, alpha=0.05).outcome is Outcome.REGRESSION
    assert judge_pair(NAME, base, head, alpha=0.00001).outcome is Outcome.NOISY


def test_too_few_samples_never_make_a_timing_verdict() -> None:
    """4 windows against 4, wholly shifted, is p=0.014 by construction: not evidence."""
    base, head = [2000.0, 2010.0, 2020.0, 2030.0], [1500.0, 1510.0, 1520.0, 1530.0]
    verdict = judge_pair(NAME, base, head, direction=Direction.HIGHER)
    assert verdict.outcome is Outcome.NOISY
    assert any("needs 8 on each side" in note for note in verdict.notes)
    strict = judge_pair(NAME, base, head, direction=Direction.HIGHER, strict=True)
    assert strict.outcome is Outcome.REGRESSION


# --- timing measurements that cannot get statistics -----------------------------------------


def test_a_timing_without_samples_is_compared_by_value_with_a_note() -> None:
    head = Measurement(NAME, 12.0, "ms", Direction.LOWER, Kind.TIMING)
    base = Measurement(NAME, 10.0, "ms", Direction.LOWER, Kind.TIMING)
    verdict = judged(head, base)
    assert verdict.outcome is Outcome.REGRESSION
    assert verdict.mode is Mode.BASELINE
    assert verdict.p_value is None
    assert verdict.reason == "10 → 12 ms (+20%, threshold 10%)"
    assert (
        "no samples in the baseline and current measurement: values compared without statistics"
        in verdict.notes
    )


def test_a_baseline_without_samples_is_named() -> None:
    head = timed(NAME, BASE)
    base = Measurement(NAME, head.value, "ms", Direction.LOWER, Kind.DETERMINISTIC)
    verdict = judged(head, base)
    assert verdict.outcome is Outcome.PASS
    assert any("no samples in the baseline measurement" in note for note in verdict.notes)


def test_a_timing_baseline_in_seconds_is_converted_with_its_samples() -> None:
    base = timed(NAME, [s / 1000 for s in BASE], unit="s")
    head = timed(NAME, lognormal(13.0, 0.10, 400, seed=3))
    verdict = judged(head, base)
    assert verdict.outcome is Outcome.REGRESSION
    assert "baseline converted from s to ms" in verdict.notes


def test_a_headline_statistic_other_than_the_median_is_shown_in_a_note() -> None:
    name = "latency/GET /x/p95"
    base = timed(name, BASE, value=12.0)
    head = timed(name, lognormal(10.0, 0.1, 400, seed=2), value=12.5)
    verdict = judged(head, base)
    assert "reported values 12 → 12.5 ms; the verdict compares sample medians" in verdict.notes


def test_samples_that_are_not_finite_fall_back_to_the_values() -> None:
    head = timed(NAME, [10.0, float("inf"), 12.0], value=11.0)
    verdict = judged(head, timed(NAME, [10.0, 10.5, 11.0]))
    assert verdict.outcome is Outcome.PASS
    assert (
        "samples that are not finite numbers: values compared without statistics" in verdict.notes
    )


def test_an_equal_timing_is_compared_by_value() -> None:
    base = timed(NAME, [10.0, 10.5, 11.0], direction=Direction.EQUAL)
    head = timed(NAME, [10.0, 10.6, 11.0], direction=Direction.EQUAL)
    verdict = judged(head, base)
    assert verdict.outcome is Outcome.REGRESSION
    assert "a timing that must stay equal: values compared without statistics" in verdict.notes
