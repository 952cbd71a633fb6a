"""Rounds of one side merge into one measurement per metric."""

from __future__ import annotations

from dataclasses import replace

from perfci.abtest.coordinator import merge_rounds
from perfci.measurement import Direction, Kind, Measurement, timing


def test_samples_and_calibration_pool_across_rounds() -> None:
    # Each round carries its own calibration probe samples (Measurement equality ignores
    # calibration, so it is compared on its own: the test fails if the merge drops it).
    rounds = [
        [replace(timing("latency/GET /x/p50", [1.0, 2.0, 3.0]), calibration=(0.1, 0.2))],
        [replace(timing("latency/GET /x/p50", [4.0, 5.0, 6.0]), calibration=(0.3,))],
        [replace(timing("latency/GET /x/p50", [7.0, 8.0, 9.0]), calibration=(0.4, 0.5))],
    ]
    (merged,) = merge_rounds(rounds)
    assert merged.samples == (1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0)
    assert merged.calibration == (0.1, 0.2, 0.3, 0.4, 0.5)
    assert merged.value == 5.0  # the median of the round values 2, 5, 8
    assert merged.kind is Kind.TIMING


def test_text_values_are_kept() -> None:
    fact = Measurement("pool/engine/class", "QueuePool", "", Direction.EQUAL)
    (merged,) = merge_rounds([[fact], [fact]])
    assert merged.value == "QueuePool"
