"""A suspected timing regression is kept only if a second measurement agrees."""

from __future__ import annotations

from perfci.measurement import timing
from perfci.verdict.confirm import confirm, timing_regressions
from perfci.verdict.model import Judgement, Mode, Outcome, Verdict


def _verdict(name: str, outcome: Outcome, reason: str) -> Verdict:
    current = timing(name, [1.0, 2.0])
    return Verdict(name, outcome, Mode.SAME_RUN, reason, current=current)


def test_a_regression_the_second_measurement_agrees_with_fails() -> None:
    first = Judgement((_verdict("latency/a/p50", Outcome.REGRESSION, "ratio 1.5"),))
    second = Judgement((_verdict("latency/a/p50", Outcome.REGRESSION, "ratio 1.4"),))
    judged, notes = confirm(first, second, {"latency/a/p50"})
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
    judged, notes = confirm(first, second, {"latency/a/p50"})
    assert [v.outcome for v in judged.verdicts] == [Outcome.PASS, Outcome.PASS]
    assert "not confirmed" in notes["latency/a/p50"]
    assert any("ratio 1.5" in note for note in judged.verdicts[0].notes)


def test_only_timing_regressions_are_suspects() -> None:
    from perfci.measurement import Direction, Measurement

    deterministic = Verdict(
        "n_plus_one/a/queries",
        Outcome.REGRESSION,
        Mode.EXACT,
        "1 → 2",
        current=Measurement("n_plus_one/a/queries", 2, "statements", Direction.LOWER),
    )
    judgement = Judgement(
        (
            deterministic,
            _verdict("latency/a/p50", Outcome.REGRESSION, "x"),
            _verdict("latency/b/p50", Outcome.PASS, "y"),
        )
    )
    assert timing_regressions(judgement) == {"latency/a/p50"}
