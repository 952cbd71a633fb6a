"""Rounds of one side merge into one measurement per metric."""

from __future__ import annotations

from perfci.abtest.coordinator import _confirm, merge_rounds
from perfci.measurement import Direction, Kind, Measurement, timing
from perfci.verdict.model import Judgement, Mode, Outcome, Verdict


def test_samples_and_calibration_pool_across_rounds() -> None:
    rounds = [
        [timing("latency/GET /x/p50", [1.0, 2.0, 3.0])],
        [timing("latency/GET /x/p50", [4.0, 5.0, 6.0])],
        [timing("latency/GET /x/p50", [7.0, 8.0, 9.0])],
    ]
    (merged,) = merge_rounds(rounds)
    assert merged.samples == (1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0)
    assert merged.value == 5.0  # the median of the round values 2, 5, 8
    assert merged.kind is Kind.TIMING


def test_text_values_are_kept() -> None:
    fact = Measurement("pool/engine/class", "QueuePool", "", Direction.EQUAL)
    (merged,) = merge_rounds([[fact], [fact]])
    assert merged.value == "QueuePool"


def _verdict(name: str, outcome: Outcome, reason: str) -> Verdict:
    current = timing(name, [1.0, 2.0])
    return Verdict(name, outcome, Mode.SAME_RUN, reason, current=current)


def test_a_regression_the_second_measurement_agrees_with_fails() -> None:
    first = Judgement((_verdict("latency/a/p50", Outcome.REGRESSION, "ratio 1.5"),))
    second = Judgement((_verdict("latency/a/p50", Outcome.REGRESSION, "ratio 1.4"),))
    judged, notes = _confirm(first, second, {"latency/a/p50"})
    assert judged.verdicts[0].outcome is Outcome.REGRESSION
    assert "confirmed" in notes["latency/a/p50"]


def test_a_regression_not_confirmed_takes_the_second_verdict() -> None:
    first = Judgement(
        (
            _verdict("latency/a/p50", Outcome.REGRESSION, "ratio 1.5"),
            _verdict("latency/b/p50", Outcome.PASS, "ratio 1.0"),
        )
    )
    second = Judgement((_verdict("latency/a/p50", Outcome.PASS, "ratio 1.02"),))
    judged, notes = _confirm(first, second, {"latency/a/p50"})
    assert [v.outcome for v in judged.verdicts] == [Outcome.PASS, Outcome.PASS]
    assert "not confirmed" in notes["latency/a/p50"]
    assert any("ratio 1.5" in note for note in judged.verdicts[0].notes)
