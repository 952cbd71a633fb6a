"""Timings are judged by their own statistic: a p95 by the p95 of its samples, not the median.

The latency check's p50, p95 and p99 carry the same raw request samples; a
tail regression (some requests much slower, the median unchanged) must fail
the p95/p99 rows and pass the p50 row.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from perfci.measurement import Direction, Measurement, timing
from perfci.verdict import Outcome, Verdict, judge, judge_pair, stats
from tests.verdict.builders import lognormal, rules

NAME = "latency/GET /api/coocook/chefs"


def with_tail(samples: list[float], every: int = 10, factor: float = 5.0) -> list[float]:
    """Every ``every``-th request ``factor`` times slower: the tail moves, the median barely."""
    return [s * factor if i % every == every - 1 else s for i, s in enumerate(samples)]


FAST = lognormal(10.0, 0.10, 400, seed=1)
TAIL = with_tail(lognormal(10.0, 0.10, 400, seed=2))


def judged(statistic: str, base: list[float], head: list[float], **kw: object) -> Verdict:
    name = f"{NAME}/{statistic}"
    current = timing(name, head, statistic=statistic)
    baseline = timing(name, base, statistic=statistic)
    [verdict] = judge([current], [baseline], rules(**kw)).verdicts
    return verdict


# --- the tail regression ---------------------------------------------------------------------


def test_the_samples_have_the_same_median_and_a_tail_three_times_slower() -> None:
    assert stats.statistic_of(TAIL, "median") / stats.statistic_of(FAST, "median") < 1.03
    assert stats.statistic_of(TAIL, "p95") / stats.statistic_of(FAST, "p95") > 3


@pytest.mark.parametrize("statistic", ["p95", "p99"])
def test_a_tail_regression_fails_the_tail_percentiles(statistic: str) -> None:
    verdict = judged(statistic, FAST, TAIL)
    assert verdict.outcome is Outcome.REGRESSION, verdict.reason
    ratio = stats.statistic_of(TAIL, statistic) / stats.statistic_of(FAST, statistic)
    assert verdict.change == pytest.approx(ratio - 1)
    assert verdict.reason.startswith(f"{statistic} ")
    assert "bootstrap p=" in verdict.reason
    assert verdict.p_value is not None and verdict.p_value < 0.001


@pytest.mark.parametrize("statistic", ["p50", "median"])
def test_a_tail_regression_passes_the_median(statistic: str) -> None:
    verdict = judged(statistic, FAST, TAIL)
    assert verdict.outcome is Outcome.PASS, verdict.reason
    assert abs(verdict.change or 1) < 0.03


def test_a_tail_improvement_is_an_improvement_of_the_tail_only() -> None:
    assert judged("p95", TAIL, FAST).outcome is Outcome.IMPROVEMENT
    assert judged("p99", TAIL, FAST).outcome is Outcome.IMPROVEMENT
    assert judged("p50", TAIL, FAST).outcome is Outcome.PASS


def test_the_reason_names_the_statistic_and_its_values() -> None:
    verdict = judged("p95", FAST, TAIL)
    base, head = stats.statistic_of(FAST, "p95"), stats.statistic_of(TAIL, "p95")
    assert verdict.reason.startswith(f"p95 {base:.3g} → {head:.3g} ms (+")
    assert "median" not in verdict.reason
    assert not any("the verdict compares" in note for note in verdict.notes)


def test_the_mean_is_judged_as_the_mean() -> None:
    # One request in ten, 5x slower: the mean moves +40%, the median does not.
    verdict = judged("mean", FAST, TAIL)
    assert verdict.outcome is Outcome.REGRESSION
    assert verdict.change == pytest.approx(np.mean(TAIL) / np.mean(FAST) - 1)
    assert verdict.reason.startswith("mean ")


def test_a_shift_of_every_request_fails_every_statistic() -> None:
    slower = [s * 1.5 for s in lognormal(10.0, 0.10, 400, seed=3)]
    for statistic in ("p50", "p95", "p99", "mean"):
        assert judged(statistic, FAST, slower).outcome is Outcome.REGRESSION, statistic


# --- noise: never a pass past the threshold --------------------------------------------------


def test_few_samples_of_a_tail_are_too_noisy_to_judge() -> None:
    base, head = FAST[:10], with_tail(lognormal(10.0, 0.10, 10, seed=4), every=5)
    assert stats.statistic_of(head, "p95") / stats.statistic_of(base, "p95") > 3
    verdict = judged("p95", base, head)
    assert verdict.outcome is Outcome.NOISY
    assert verdict.reason.startswith("too noisy to judge: p95 ")
    assert any(note.startswith("smallest change detectable") for note in verdict.notes)


def test_one_slow_request_is_not_a_p99_regression() -> None:
    head = lognormal(10.0, 0.10, 60, seed=5)
    head[7] *= 10
    verdict = judged("p99", FAST[:60], head)
    assert (verdict.change or 0) > 0.10  # the point p99 jumped
    assert verdict.outcome is Outcome.NOISY


def test_below_eight_samples_a_consistent_tail_is_still_noisy() -> None:
    base, head = [10.0, 10.2, 9.9, 10.1, 10.0, 9.8, 10.3], [30.0, 31.0, 29.5, 30.2, 30.5, 29.9, 31]
    verdict = judged("p95", base, head)
    assert verdict.outcome is Outcome.NOISY
    assert any("a timing verdict needs 8 on each side" in note for note in verdict.notes)


samples = st.lists(
    st.floats(min_value=0.1, max_value=1000.0, allow_nan=False), min_size=1, max_size=40
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    base=samples,
    head=samples,
    statistic=st.sampled_from(["p90", "p95", "p99", "mean"]),
    threshold=st.sampled_from([0.05, 0.10, 0.25]),
)
def test_a_ratio_past_the_threshold_never_passes(
    base: list[float], head: list[float], statistic: str, threshold: float
) -> None:
    verdict = judge_pair(NAME, base, head, statistic=statistic, threshold=threshold)
    ratio = stats.statistic_of(head, statistic) / stats.statistic_of(base, statistic)
    if abs(ratio - 1) > threshold + 1e-6:
        assert verdict.outcome is not Outcome.PASS
    if min(len(base), len(head)) < 8:
        assert verdict.outcome in (Outcome.PASS, Outcome.NOISY)
    assert judge_pair(NAME, base, head, statistic=statistic, threshold=threshold) == verdict


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=samples, statistic=st.sampled_from(["p95", "p99", "mean"]))
def test_identical_samples_never_fail(data: list[float], statistic: str) -> None:
    verdict = judge_pair(NAME, data, list(data), statistic=statistic)
    assert verdict.outcome in (Outcome.PASS, Outcome.NOISY)
    assert verdict.change == pytest.approx(0.0)
    # Base and head resampled alike: a ratio is as likely below 1 as above.
    assert verdict.p_value is not None and verdict.p_value > 0.4


def test_constant_samples_give_no_evidence() -> None:
    verdict = judge_pair(NAME, [5.0] * 20, [5.0] * 20, statistic="p99")
    assert verdict.outcome is Outcome.PASS
    assert verdict.p_value == 1.0


# --- determinism, calibration, old baselines -------------------------------------------------


def test_the_same_inputs_give_the_same_verdict() -> None:
    first = judge_pair(NAME, FAST, TAIL, statistic="p95", unit="ms")
    again = judge_pair(NAME, tuple(FAST), list(TAIL), statistic="p95", unit="ms")
    assert first == again


def test_p50_is_judged_exactly_as_the_median_and_named_p50() -> None:
    median = judge_pair(NAME, FAST, TAIL, unit="ms")
    p50 = judge_pair(NAME, FAST, TAIL, statistic="p50", unit="ms")
    assert (p50.outcome, p50.change, p50.p_value) == (median.outcome, median.change, median.p_value)
    assert p50.reason == median.reason.replace("median", "p50", 1)
    assert judge_pair(NAME, FAST, TAIL, statistic="median", unit="ms") == median


def test_a_slower_machine_is_not_a_tail_regression() -> None:
    probe = lognormal(1.0, 0.02, 400, seed=6)
    name = f"{NAME}/p95"
    base = replace(timing(name, FAST, statistic="p95"), calibration=tuple(probe))
    head = replace(
        timing(name, [s * 1.5 for s in FAST], statistic="p95"),
        calibration=tuple(p * 1.5 for p in probe),
    )
    [verdict] = judge([head], [base], rules()).verdicts
    assert verdict.outcome is Outcome.PASS, verdict.reason
    assert verdict.reason.startswith("p95 ") and "normalized +0%" in verdict.reason


def test_the_current_measurements_statistic_decides_against_an_old_baseline() -> None:
    # A baseline written before ``statistic`` existed reads as a median; its samples are raw.
    name = f"{NAME}/p95"
    old = Measurement.from_dict(
        {k: v for k, v in timing(name, FAST, statistic="p95").to_dict().items() if k != "statistic"}
    )
    assert old.statistic == "median"
    [verdict] = judge([timing(name, TAIL, statistic="p95")], [old], rules()).verdicts
    assert verdict.outcome is Outcome.REGRESSION


def test_a_reported_value_that_is_not_the_samples_statistic_is_noted() -> None:
    # e.g. --against: the value is the median of the rounds' p95, the samples are pooled.
    name = f"{NAME}/p95"
    head = replace(timing(name, TAIL, statistic="p95"), value=40.0)
    [verdict] = judge([head], [timing(name, FAST, statistic="p95")], rules()).verdicts
    assert any(note.endswith("the verdict compares the samples' p95") for note in verdict.notes)


def test_a_higher_is_better_tail_is_judged_the_other_way() -> None:
    rates = [1000 / s for s in FAST]
    worse = [1000 / s for s in TAIL]
    verdict = judge_pair(NAME, rates, worse, statistic="p5", direction=Direction.HIGHER)
    assert verdict.outcome is Outcome.REGRESSION
    assert judge_pair(NAME, rates, worse, direction=Direction.HIGHER).outcome is Outcome.PASS


def test_a_non_positive_baseline_statistic_is_compared_without_statistics() -> None:
    verdict = judge_pair(NAME, [0.0] * 20, [1.0] * 20, statistic="p95", unit="ms")
    assert verdict.outcome is Outcome.REGRESSION
    assert verdict.reason == "p95 0 → 1 ms (from zero, threshold 10%)"
    assert "the baseline p95 is not positive: p95 values compared without statistics" in (
        verdict.notes
    )
