"""The noise meter's rows: spread between repeats and the precision a verdict would have."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import replace

from perfci.measurement import Measurement, timing
from perfci.noise import noise_rows, render_noise
from perfci.verdict.model import Rules, ThresholdRule

RULES = Rules(today=dt.date(2026, 11, 29), thresholds=(ThresholdRule("*/slow/*", 0.5),))


def repeats(
    sigma: float, n: int = 200, runs: int = 3, name: str = "latency/GET /x/p50"
) -> list[list[Measurement]]:
    """Latency-like samples around 10 ms: log-normal, so never negative, right-skewed."""
    rng = random.Random(7)
    return [
        [timing(name, [10 * rng.lognormvariate(0, sigma) for _ in range(n)])] for _ in range(runs)
    ]


def test_steady_samples_can_be_gated_at_ten_percent() -> None:
    (row,) = noise_rows(repeats(0.02), RULES)
    assert row.meaningful
    assert row.detectable < 0.01
    assert row.cv < 0.01
    assert len(row.values) == 3


def test_wild_samples_are_too_noisy_for_ten_percent() -> None:
    (row,) = noise_rows(repeats(0.9, n=10), RULES)
    assert not row.meaningful
    assert "TOO NOISY" in render_noise([row], 3)


def test_a_wider_threshold_makes_the_same_noise_acceptable() -> None:
    (tight,) = noise_rows(repeats(0.4, n=30), RULES)
    (wide,) = noise_rows(repeats(0.4, n=30, name="latency/slow/p50"), RULES)
    assert tight.detectable == wide.detectable  # the same samples
    assert (tight.threshold, wide.threshold) == (0.1, 0.5)
    assert not tight.meaningful
    assert wide.meaningful


def test_a_percentile_has_the_precision_of_its_own_bootstrap() -> None:
    """A p99 rests on a few requests: its verdict is less precise than the median's."""
    median = noise_rows(repeats(0.3, n=100), RULES)
    p99 = [
        [replace(m, name="latency/GET /x/p99", statistic="p99") for m in run]
        for run in repeats(0.3, n=100)
    ]
    (middle,), (tail,) = median, noise_rows(p99, RULES)
    assert tail.detectable > 2 * middle.detectable


def test_metrics_missing_from_a_repeat_or_without_samples_are_left_out() -> None:
    runs = repeats(0.02)
    runs[1] = []
    assert noise_rows(runs, RULES) == []
    assert "nothing to measure" in render_noise([], 3)
