"""perfci.verdict.stats on samples with known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as scipy_stats

from perfci.measurement import percentile
from perfci.verdict import stats
from tests.verdict.builders import lognormal


def test_median_ratio() -> None:
    assert stats.median_ratio([1, 2, 3], [2, 4, 6]) == 2.0
    assert stats.median_ratio([10, 10, 10, 10], [5, 5, 5, 5]) == 0.5


def test_median_ratio_refuses_a_non_positive_base() -> None:
    with pytest.raises(ValueError, match="positive"):
        stats.median_ratio([0, 0, 0], [1, 2, 3])


@pytest.mark.parametrize("bad", [[], [1.0, math.nan], [math.inf], [[1.0, 2.0]]])
def test_bad_samples_are_refused(bad: list[float]) -> None:
    with pytest.raises(ValueError, match=r"samples|sequence"):
        stats.median(bad)


@pytest.mark.parametrize(
    ("samples", "cv"),
    [
        ([1.0, 2.0, 3.0], 0.5),
        ([5.0], 0.0),
        ([4.0, 4.0, 4.0], 0.0),
        ([0.0, 0.0], 0.0),
        ([-1.0, 1.0], math.inf),
        ([-2.0, -4.0], math.sqrt(2) / 3),
    ],
)
def test_coefficient_of_variation(samples: list[float], cv: float) -> None:
    assert stats.coefficient_of_variation(samples) == pytest.approx(cv)


def test_mann_whitney_says_which_side_is_larger() -> None:
    base = lognormal(10, 0.1, 200, seed=1)
    head = lognormal(12, 0.1, 200, seed=2)
    assert stats.mann_whitney_p(base, head, "greater") < 1e-10
    assert stats.mann_whitney_p(base, head, "less") > 0.99
    assert stats.mann_whitney_p(base, head, "two-sided") < 1e-10


def test_mann_whitney_matches_scipy() -> None:
    base, head = lognormal(10, 0.3, 40, seed=3), lognormal(11, 0.3, 40, seed=4)
    expected = scipy_stats.mannwhitneyu(head, base, alternative="greater").pvalue
    assert stats.mann_whitney_p(base, head, "greater") == pytest.approx(expected)


def test_identical_constant_samples_give_no_evidence() -> None:
    assert stats.mann_whitney_p([3.0] * 5, [3.0] * 7, "greater") == 1.0


def test_bootstrap_interval_covers_the_true_ratio_and_is_reproducible() -> None:
    base, head = lognormal(10, 0.2, 300, seed=5), lognormal(12, 0.2, 300, seed=6)
    low, high = stats.bootstrap_ratio_ci(base, head)
    assert low < stats.median_ratio(base, head) < high
    assert 1.1 < low < high < 1.35
    assert high - low < 0.12
    assert stats.bootstrap_ratio_ci(base, head) == (low, high)
    assert stats.bootstrap_ratio_ci(base, head, seed=1) != (low, high)


def test_bootstrap_interval_narrows_with_more_samples() -> None:
    small = stats.bootstrap_ratio_ci(lognormal(10, 0.3, 30, 7), lognormal(10, 0.3, 30, 8))
    large = stats.bootstrap_ratio_ci(lognormal(10, 0.3, 600, 7), lognormal(10, 0.3, 600, 8))
    assert large[1] - large[0] < (small[1] - small[0]) / 2


def test_bootstrap_interval_widens_with_confidence() -> None:
    base, head = lognormal(10, 0.3, 60, 9), lognormal(10, 0.3, 60, 10)
    narrow = stats.bootstrap_ratio_ci(base, head, confidence=0.5)
    wide = stats.bootstrap_ratio_ci(base, head, confidence=0.99)
    assert wide[0] < narrow[0] < narrow[1] < wide[1]
    with pytest.raises(ValueError, match="confidence"):
        stats.bootstrap_ratio_ci(base, head, confidence=1.0)


def test_bootstrap_in_chunks_gives_the_same_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    base, head = lognormal(10, 0.3, 50, 11), lognormal(10, 0.3, 50, 12)
    whole = stats.bootstrap_ratio_ci(base, head)
    monkeypatch.setattr(stats, "_MAX_CELLS", 50 * 7)  # 7 resamples per chunk
    assert stats.bootstrap_ratio_ci(base, head) == whole


def test_calibration_normalises_the_ratio_for_times_and_rates() -> None:
    base = lognormal(10, 0.05, 200, 13)
    calibration = lognormal(1, 0.01, 50, 14)
    slower = [s * 1.5 for s in base]
    slower_probe = [c * 1.5 for c in calibration]
    result = stats.compare_samples(
        base, slower, base_calibration=calibration, head_calibration=slower_probe
    )
    assert result.raw_ratio == pytest.approx(1.5)
    assert result.calibration_ratio == pytest.approx(1.5)
    assert result.ratio == pytest.approx(1.0)
    assert result.ci_low <= 1.0 <= result.ci_high
    assert result.p_greater > 0.4
    rates = stats.compare_samples(
        base,
        [s / 1.5 for s in base],
        base_calibration=calibration,
        head_calibration=slower_probe,
        calibration_exponent=1.0,
    )
    assert rates.ratio == pytest.approx(1.0)


def test_calibration_must_be_positive() -> None:
    with pytest.raises(ValueError, match="calibration"):
        stats.compare_samples([1.0], [1.0], base_calibration=[0.0], head_calibration=[1.0])


def test_compare_samples_reports_every_number() -> None:
    base, head = lognormal(10, 0.1, 100, 15), lognormal(13, 0.2, 80, 16)
    result = stats.compare_samples(base, head)
    assert result.n_base == 100
    assert result.n_head == 80
    assert (
        result.ratio == result.raw_ratio == pytest.approx(result.head_median / result.base_median)
    )
    assert result.calibration_ratio is None
    assert result.ci_low < result.ratio < result.ci_high
    assert result.ci_width == pytest.approx(result.ci_high - result.ci_low)
    assert result.confidence == 0.95
    assert result.p_greater < 1e-10 < 0.99 < result.p_less
    assert result.cv_base == pytest.approx(np.std(base, ddof=1) / np.mean(base))
    assert result.cv_head > result.cv_base


def test_minimal_detectable_change_formula() -> None:
    z = scipy_stats.norm.ppf(0.95) + scipy_stats.norm.ppf(0.8)
    expected = z * math.sqrt(math.pi / 3) * 0.10 * math.sqrt(2 / 20)
    assert stats.minimal_detectable_change(0.10, 20) == pytest.approx(expected)
    assert stats.minimal_detectable_change(0.10, 20, cv_other=0.10, n_other=20) == pytest.approx(
        expected
    )


def test_minimal_detectable_change_shrinks_with_samples_and_grows_with_noise() -> None:
    mdc = stats.minimal_detectable_change
    assert mdc(0.10, 400) < mdc(0.10, 100) < mdc(0.10, 8)
    assert mdc(0.02, 8) < mdc(0.10, 8)
    assert mdc(0.10, 8, alpha=0.01) > mdc(0.10, 8, alpha=0.05)
    assert mdc(0.10, 8, power=0.95) > mdc(0.10, 8)
    assert mdc(0.0, 8) == 0.0


def test_the_noise_measured_on_this_machine_makes_a_single_run_gate_meaningless() -> None:
    # NOTES-checks.md: run medians vary with a CV of 10%; with one run a side a 10% gate
    # cannot tell a 10% change from noise, while 400 samples a side can.
    assert stats.minimal_detectable_change(0.10, 1) > 0.10
    assert stats.minimal_detectable_change(0.10, 400) < 0.03


def test_minimal_detectable_change_refuses_empty_groups() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        stats.minimal_detectable_change(0.1, 0)


# --- statistics other than the median ------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(
    data=st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=50),
    statistic=st.sampled_from(["median", "mean", "p0", "p5", "p50", "p95", "p99.9", "p100"]),
)
def test_statistic_of_is_the_measurements_value(data: list[float], statistic: str) -> None:
    """The engine's statistic of the samples is the value ``timing()`` reports."""
    assert stats.statistic_of(data, statistic) == pytest.approx(
        percentile(data, statistic), rel=1e-9, abs=1e-6
    )


def test_the_median_bootstrap_is_the_default_one() -> None:
    base, head = lognormal(10, 0.2, 300, seed=5), lognormal(12, 0.2, 300, seed=6)
    assert stats.bootstrap_ratio_ci(base, head, statistic="median") == stats.bootstrap_ratio_ci(
        base, head
    )


def test_a_percentile_interval_covers_its_ratio_and_not_the_medians() -> None:
    base = lognormal(10, 0.1, 400, seed=17)
    head = [s * 4 if i % 10 == 9 else s for i, s in enumerate(lognormal(10, 0.1, 400, seed=18))]
    low, high = stats.bootstrap_ratio_ci(base, head, statistic="p95")
    ratio = stats.statistic_of(head, "p95") / stats.statistic_of(base, "p95")
    assert 2.5 < low < ratio < high
    _, median_high = stats.bootstrap_ratio_ci(base, head)
    assert median_high < 1.1


def test_bootstrap_p_is_the_share_on_the_other_side_of_one() -> None:
    ratios = np.array([0.9, 1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.7])
    assert stats.bootstrap_p(ratios, "greater") == pytest.approx(3 / 10)  # 0.9, 1.0, +1
    assert stats.bootstrap_p(ratios, "less") == pytest.approx(9 / 10)
    assert stats.bootstrap_p(np.full(99, 2.0), "greater") == pytest.approx(1 / 100)


def test_compare_samples_of_a_percentile_uses_the_bootstrap_not_ranks() -> None:
    base = lognormal(10, 0.1, 400, seed=19)
    head = [s * 5 if i % 10 == 9 else s for i, s in enumerate(lognormal(10, 0.1, 400, seed=20))]
    tail = stats.compare_samples(base, head, statistic="p95")
    assert tail.statistic == "p95"
    assert tail.base_value == pytest.approx(stats.statistic_of(base, "p95"))
    assert tail.ratio == tail.raw_ratio == pytest.approx(tail.head_value / tail.base_value)
    assert tail.p_greater == pytest.approx(1 / (stats.BOOTSTRAP_RESAMPLES + 1))
    assert tail.p_less == 1.0
    assert 0 < tail.ratio_se < 1
    median = stats.compare_samples(base, head)
    assert (median.base_value, median.head_value) == (median.base_median, median.head_median)
    assert median.p_greater == stats.mann_whitney_p(base, head, "greater")


def test_a_non_positive_base_statistic_is_refused() -> None:
    with pytest.raises(ValueError, match="base p95 must be positive"):
        stats.compare_samples([0.0] * 10, [1.0] * 10, statistic="p95")


def test_detectable_change_is_z_times_the_standard_error() -> None:
    z = scipy_stats.norm.ppf(0.95) + scipy_stats.norm.ppf(0.8)
    assert stats.detectable_change(0.04) == pytest.approx(z * 0.04)
