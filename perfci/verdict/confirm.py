"""Confirming a suspected timing regression with a second measurement (pure)."""

from __future__ import annotations

from dataclasses import replace

from perfci.measurement import Kind
from perfci.verdict.model import Judgement, Outcome, Verdict


def timing_regressions(judgement: Judgement) -> set[str]:
    """Names of the timing metrics judged regressions: the ones worth re-measuring."""
    return {
        v.name
        for v in judgement.verdicts
        if v.outcome is Outcome.REGRESSION
        and v.current is not None
        and v.current.kind is Kind.TIMING
    }


def confirm(
    first: Judgement, second: Judgement, suspects: set[str]
) -> tuple[Judgement, dict[str, str]]:
    """Keep a suspect's regression only if the second measurement agrees.

    A regression the second measurement does not repeat takes the second
    verdict, with the first one's reason kept as a note: a passing job on a
    shared machine is the usual cause. Returns the judgement and a note per suspect.
    """
    again = {v.name: v for v in second.verdicts}
    notes: dict[str, str] = {}
    verdicts: list[Verdict] = []
    for verdict in first.verdicts:
        if verdict.name not in suspects:
            verdicts.append(verdict)
            continue
        retry = again.get(verdict.name)
        if retry is not None and retry.outcome is Outcome.REGRESSION:
            note = f"confirmed by a second measurement ({retry.reason})"
            verdicts.append(_with_note(verdict, note))
        else:
            outcome = retry.outcome.words if retry else "no result"
            note = f"not confirmed: the second measurement was {outcome}"
            first_note = f"first measurement: {verdict.reason}; {note}"
            verdicts.append(_with_note(retry or verdict, first_note))
        notes[verdict.name] = note
    return Judgement(tuple(verdicts), first.unmatched_rules), notes


def _with_note(verdict: Verdict, note: str) -> Verdict:
    return replace(verdict, notes=(*verdict.notes, note))
