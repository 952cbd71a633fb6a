"""What the GitHub publisher's tests build: the repository's names, events, a passing run."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from perfci.measurement import Direction, Measurement
from perfci.result import RunResult
from perfci.verdict.model import Judgement, Mode, Outcome, Verdict

REPO = "acme/shop"
HEAD_SHA = "a" * 40
MERGE_SHA = "b" * 40
PR_NUMBER = 7
RUN_ID = "4242"
FAILING_RESULTS = Path(__file__).parents[1] / "reporters" / "golden" / "results.json"

EnvFactory = Callable[..., dict[str, str]]


def pull_request_event(number: int = PR_NUMBER, head: str = HEAD_SHA) -> dict[str, Any]:
    return {"number": number, "pull_request": {"number": number, "head": {"sha": head}}}


def passing_result() -> RunResult:
    name = "n_plus_one/GET /items/queries"
    measurement = Measurement(name, 1, "queries", Direction.LOWER)
    verdict = Verdict(
        name=name,
        outcome=Outcome.PASS,
        mode=Mode.EXACT,
        reason="queries unchanged",
        current=measurement,
        baseline=measurement,
        change=0.0,
        threshold=0.10,
    )
    return RunResult(
        suite="shop",
        measurements=(measurement,),
        judgement=Judgement((verdict,)),
        exit_code=0,
        started_at="2026-11-29T02:00:00+00:00",
        duration_s=1.5,
        commit=HEAD_SHA,
        branch="feature",
    )
