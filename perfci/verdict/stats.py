"""The statistics behind timing verdicts: effect size, confidence, significance, noise.

Pure functions over sample sequences, built on numpy and scipy. Randomness
(the bootstrap) always comes from a generator with a fixed seed, so the same
samples always give the same verdict.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from scipy import stats as scipy_stats

from perfci.measurement import MEDIAN, quantile

BOOTSTRAP_SEED = 20240607
BOOTSTRAP_RESAMPLES = 2000
CONFIDENCE = 0.95
# Bound on the resampling matrix (rows times samples) built at once, to cap memory.
_MAX_CELLS = 2_000_000

Samples = Sequence[float] | NDArray[np.float64]


def _array(samples: Samples, what: str) -> NDArray[np.float64]:
    data = np.asarray(samples, dtype=np.float64)
    if data.ndim != 1 or data.size == 0:
        raise ValueError(f"{what}: expected a non-empty sequence of numbers")
    if not np.all(np.isfinite(data)):
        raise ValueError(f"{what}: samples must be finite numbers")
    return data


def median(samples: Samples) -> float:
    return float(np.median(_array(samples, "median")))


def median_ratio(base: Samples, head: Samples) -> float:
    """median(head) / median(base): 1.3 means head is 30% larger. Base median must be positive."""
    base_median = median(base)
    if base_median <= 0:
        raise ValueError("median_ratio: the base median must be positive")
    return median(head) / base_median


def coefficient_of_variation(samples: Samples) -> float:
    """Sample standard deviation over mean; 0 for fewer than two samples, inf for a zero mean."""
    data = _array(samples, "coefficient_of_variation")
    if data.size < 2:
        return 0.0
    spread = float(np.std(data, ddof=1))
    mean = float(np.mean(data))
    if mean == 0:
        return 0.0 if spread == 0 else math.inf
    return spread / abs(mean)


def mann_whitney_p(
    base: Samples, head: Samples, alternative: Literal["greater", "less", "two-sided"]
) -> float:
    """p-value of the Mann-Whitney U test that head is ``alternative`` than base.

    ``"greater"``: small p means head's values tend to be larger. Identical samples give 1.
    """
    base_data = _array(base, "mann_whitney_p base")
    head_data = _array(head, "mann_whitney_p head")
    if np.all(base_data == base_data[0]) and np.all(head_data == base_data[0]):
        return 1.0  # every value tied: no evidence of any difference
    result = scipy_stats.mannwhitneyu(head_data, base_data, alternative=alternative)
    return float(result.pvalue)


def statistic_of(samples: Samples, statistic: str = MEDIAN) -> float:
    """``median``, ``mean`` or ``pNN`` (linear interpolation) of ``samples``."""
    return float(_reduce(_array(samples, statistic), statistic))


def _reduce(data: NDArray[np.float64], statistic: str, axis: int | None = None) -> Any:
    """The statistic of ``data`` (along ``axis``): numpy's median, mean or percentile."""
    q = quantile(statistic)  # ValueError on an unknown statistic
    if q is None:
        return np.mean(data, axis=axis)
    if statistic == MEDIAN:
        return np.median(data, axis=axis)
    return np.percentile(data, q, axis=axis)


def _bootstrap(
    data: NDArray[np.float64], resamples: int, rng: np.random.Generator, statistic: str
) -> NDArray[np.float64]:
    """The statistic of each of ``resamples`` resamples (with replacement) of ``data``."""
    out = np.empty(resamples, dtype=np.float64)
    rows = max(1, _MAX_CELLS // data.size)
    for start in range(0, resamples, rows):
        stop = min(start + rows, resamples)
        picks = rng.integers(0, data.size, size=(stop - start, data.size))
        out[start:stop] = _reduce(data[picks], statistic, axis=1)
    return out


def bootstrap_ratios(
    base: Samples,
    head: Samples,
    *,
    statistic: str = MEDIAN,
    base_calibration: Samples | None = None,
    head_calibration: Samples | None = None,
    calibration_exponent: float = -1.0,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> NDArray[np.float64]:
    """``resamples`` bootstrap ratios statistic(head) / statistic(base), seeded.

    With calibration samples each ratio is multiplied by the ratio of the
    calibration medians raised to ``calibration_exponent`` (-1 for times: a
    machine twice as slow doubles both; +1 for rates), each of the four sample
    sets resampled on its own. The probe is a location reference: always its median.
    """
    rng = np.random.default_rng(seed)
    base_values = _bootstrap(_array(base, "bootstrap base"), resamples, rng, statistic)
    head_values = _bootstrap(_array(head, "bootstrap head"), resamples, rng, statistic)
    if np.any(base_values <= 0):
        raise ValueError("bootstrap_ratio_ci: base samples must be positive")
    ratios: NDArray[np.float64] = head_values / base_values
    if base_calibration is not None and head_calibration is not None:
        cal_base = _bootstrap(_array(base_calibration, "calibration"), resamples, rng, MEDIAN)
        cal_head = _bootstrap(_array(head_calibration, "calibration"), resamples, rng, MEDIAN)
        if np.any(cal_base <= 0) or np.any(cal_head <= 0):
            raise ValueError("bootstrap_ratio_ci: calibration samples must be positive")
        ratios = ratios * (cal_head / cal_base) ** calibration_exponent
    return ratios


def _interval(ratios: NDArray[np.float64], confidence: float) -> tuple[float, float]:
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(ratios, [tail, 100 - tail])
    return float(low), float(high)


def bootstrap_ratio_ci(
    base: Samples,
    head: Samples,
    *,
    statistic: str = MEDIAN,
    base_calibration: Samples | None = None,
    head_calibration: Samples | None = None,
    calibration_exponent: float = -1.0,
    confidence: float = CONFIDENCE,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of the (optionally normalised) ratio of
    ``statistic`` (the median unless told), from ``bootstrap_ratios``."""
    _check_confidence(confidence)
    ratios = bootstrap_ratios(
        base,
        head,
        statistic=statistic,
        base_calibration=base_calibration,
        head_calibration=head_calibration,
        calibration_exponent=calibration_exponent,
        resamples=resamples,
        seed=seed,
    )
    return _interval(ratios, confidence)


def _check_confidence(confidence: float) -> None:
    if not 0 < confidence < 1:
        raise ValueError("bootstrap_ratio_ci: confidence must be between 0 and 1")


def bootstrap_p(ratios: NDArray[np.float64], alternative: Literal["greater", "less"]) -> float:
    """One-sided significance from bootstrap ratios: the share on the other side of 1.

    ``"greater"`` (head larger) counts the ratios at or below 1, ``"less"`` those at or
    above: a tie is evidence of no change. Identical samples give 1; the smallest
    p of ``n`` ratios is 1/(n+1).
    """
    against = ratios <= 1.0 if alternative == "greater" else ratios >= 1.0
    # (k + 1) / (n + 1): a finite bootstrap never proves p = 0.
    return float((np.count_nonzero(against) + 1) / (ratios.size + 1))


def minimal_detectable_change(
    cv: float,
    n: int,
    *,
    cv_other: float | None = None,
    n_other: int | None = None,
    alpha: float = 0.05,
    power: float = 0.8,
) -> float:
    """Smallest relative change a one-sided test at ``alpha`` detects with ``power``.

    Two groups of ``n`` (and ``n_other``) values with coefficients of variation
    ``cv`` (and ``cv_other``): ``(z[1-alpha] + z[power]) * sqrt(pi/3) *
    sqrt(cv²/n + cv_other²/n_other)``. The sqrt(pi/3) factor accounts for the
    Mann-Whitney test's asymptotic efficiency of 3/pi against the t-test. The
    noise meter passes K run-level values per side; the engine the raw samples.
    """
    if n < 1 or (n_other is not None and n_other < 1):
        raise ValueError("minimal_detectable_change: group sizes must be at least 1")
    other_cv = cv if cv_other is None else cv_other
    other_n = n if n_other is None else n_other
    standard_error = math.sqrt(cv**2 / n + other_cv**2 / other_n)
    return detectable_change(math.sqrt(math.pi / 3) * standard_error, alpha=alpha, power=power)


def detectable_change(standard_error: float, *, alpha: float = 0.05, power: float = 0.8) -> float:
    """Smallest relative change a one-sided test at ``alpha`` detects with ``power``, for
    an estimate of the ratio with this standard error: ``(z[1-alpha] + z[power]) * se``.

    For a statistic without a rank test (a percentile) the standard error is the
    bootstrap ratios' standard deviation (``SampleComparison.ratio_se``).
    """
    z = float(scipy_stats.norm.ppf(1 - alpha) + scipy_stats.norm.ppf(power))
    return z * standard_error


@dataclass(frozen=True)
class SampleComparison:
    """Head against base, in numbers: what a timing verdict is decided on."""

    ratio: float  # statistic(head)/statistic(base), normalised when calibration was given
    raw_ratio: float  # before normalisation
    calibration_ratio: float | None  # median(head calibration)/median(base calibration)
    ci_low: float
    ci_high: float
    confidence: float
    # One-sided: head tends to be larger / smaller. The median's is the Mann-Whitney
    # test; any other statistic's is the bootstrap's (``bootstrap_p``).
    p_greater: float
    p_less: float
    cv_base: float
    cv_head: float
    n_base: int
    n_head: int
    base_median: float
    head_median: float
    statistic: str  # what ``ratio`` compares: median, mean or pNN
    base_value: float  # statistic(base)
    head_value: float  # statistic(head)
    ratio_se: float  # the bootstrap ratios' standard deviation

    @property
    def ci_width(self) -> float:
        return self.ci_high - self.ci_low


def compare_samples(
    base: Samples,
    head: Samples,
    *,
    statistic: str = MEDIAN,
    base_calibration: Samples | None = None,
    head_calibration: Samples | None = None,
    calibration_exponent: float = -1.0,
    confidence: float = CONFIDENCE,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> SampleComparison:
    """Ratio of ``statistic``, its bootstrap interval, one-sided significance both ways, noise.

    The median (the default) is tested with Mann-Whitney rank tests: with
    calibration (both sides or neither) each side's samples are scaled by its
    calibration median first. Any other statistic (a tail percentile, the mean)
    is not a location a rank test sees: its significance is the bootstrap's
    (``bootstrap_p`` of the same resampled ratios that give the interval). With
    calibration the ratio is normalised by the calibration medians' ratio as in
    ``bootstrap_ratios``. statistic(base) and the calibration medians must be positive.
    """
    _check_confidence(confidence)
    base_data = _array(base, "base samples")
    head_data = _array(head, "head samples")
    base_value, head_value = statistic_of(base_data, statistic), statistic_of(head_data, statistic)
    if base_value <= 0:
        raise ValueError(f"compare_samples: the base {statistic} must be positive")
    raw_ratio = head_value / base_value
    calibrated = False
    calibration_ratio: float | None = None
    ratio = raw_ratio
    test_base, test_head = base_data, head_data
    if base_calibration is not None and head_calibration is not None:
        calibrated = True
        cal_base, cal_head = median(base_calibration), median(head_calibration)
        if cal_base <= 0 or cal_head <= 0:
            raise ValueError("compare_samples: calibration medians must be positive")
        calibration_ratio = cal_head / cal_base
        ratio = raw_ratio * calibration_ratio**calibration_exponent
        test_base = base_data * cal_base**calibration_exponent
        test_head = head_data * cal_head**calibration_exponent
    ratios = bootstrap_ratios(
        base_data,
        head_data,
        statistic=statistic,
        base_calibration=base_calibration if calibrated else None,
        head_calibration=head_calibration if calibrated else None,
        calibration_exponent=calibration_exponent,
        resamples=resamples,
        seed=seed,
    )
    low, high = _interval(ratios, confidence)
    if statistic == MEDIAN:
        p_greater = mann_whitney_p(test_base, test_head, "greater")
        p_less = mann_whitney_p(test_base, test_head, "less")
    else:
        p_greater, p_less = bootstrap_p(ratios, "greater"), bootstrap_p(ratios, "less")
    return SampleComparison(
        ratio=ratio,
        raw_ratio=raw_ratio,
        calibration_ratio=calibration_ratio,
        ci_low=low,
        ci_high=high,
        confidence=confidence,
        p_greater=p_greater,
        p_less=p_less,
        cv_base=coefficient_of_variation(base_data),
        cv_head=coefficient_of_variation(head_data),
        n_base=int(base_data.size),
        n_head=int(head_data.size),
        base_median=float(np.median(base_data)),
        head_median=float(np.median(head_data)),
        statistic=statistic,
        base_value=base_value,
        head_value=head_value,
        ratio_se=float(np.std(ratios)),
    )
