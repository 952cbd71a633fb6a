"""Rounds of one side merge into one measurement per metric."""

from __future__ import annotations

from dataclasses import replace

from perfci.abtest.coordinator import merge_rounds
from perfci.measurement import Direction, Kind, Measurement, timing


def test_samples_and_calibration_pool_across_rounds() -> None:
    def measured(samples: list[float], probe: float) -> Measurement:
        return replace(timing("latency/GET /x/p50", samples), calibration=(probe, probe + 0.5))

    rounds = [
        [measured([1.0, 2.0, 3.0], 0.1)],
        [measured([4.0, 5.0, 6.0], 0.2)],
        [measured([7.0, 8.0, 9.0], 0.3)],
    ]
    (merged,) = merge_rounds(rounds)
    assert merged.samples == (1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0)
    assert merged.calibration == (0.1, 0.6, 0.2, 0.7, 0.3, 0.8)
    assert merged.value == 5.0  # the median of the round values 2, 5, 8
    assert merged.kind is Kind.TIMING


def test_the_statistic_survives_the_merge() -> None:
    rounds = [[timing("latency/GET /x/p95", [1.0, 2.0, 9.0], statistic="p95")]] * 2
    (merged,) = merge_rounds(rounds)
    assert merged.statistic == "p95"


def test_text_values_are_kept() -> None:
    fact = Measurement("pool/engine/class", "QueuePool", "", Direction.EQUAL)
    (merged,) = merge_rounds([[fact], [fact]])
    assert merged.value == "QueuePool"


class FakeWorker:
    """Stands in for a worker process: answers one timing measurement, logs the order."""

    def __init__(self, label: str, log: list[str], value: float) -> None:
        self.label = label
        self.log = log
        self.value = value

    def collect(self, checks: list[str]) -> list[Measurement]:
        self.log.append(f"{self.label}:{','.join(checks)}")
        if checks == ["det"]:
            return [Measurement("det/x/queries", 1, "statements", Direction.LOWER)]
        return [timing("t/x/p50", [self.value] * 8)]


def test_ab_rounds_alternate_across_calls() -> None:
    from perfci.abtest.coordinator import ABMeasurer

    log: list[str] = []
    measurer = ABMeasurer(
        FakeWorker("base", log, 1.0),  # type: ignore[arg-type]
        FakeWorker("head", log, 2.0),  # type: ignore[arg-type]
        deterministic=["det"],
        rounds=1,
        compared="main",
    )
    first = measurer.measure(["det", "t"])
    assert log == ["base:det", "head:det", "base:t", "head:t"]
    assert [m.name for m in first.head] == ["det/x/queries", "t/x/p50"]
    assert [m.value for m in first.base or ()] == [1, 1.0]
    log.clear()
    measurer.measure(["t"])  # a confirmation: the side that went second goes first
    assert log == ["head:t", "base:t"]
    assert measurer.partial[0].value == 2.0
