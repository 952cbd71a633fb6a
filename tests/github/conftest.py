"""Fixtures for the GitHub publisher: the fake API on loopback, Actions environments, results."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from perfci.measurement import Direction, Measurement
from perfci.reporters import render_json
from perfci.result import RunResult
from perfci.verdict.model import Judgement, Mode, Outcome, Verdict
from tests.github.fake_github import TOKEN, FakeGitHub, RunningFake

REPO = "acme/shop"
HEAD_SHA = "a" * 40
MERGE_SHA = "b" * 40
PR_NUMBER = 7
RUN_ID = "4242"
FAILING_RESULTS = Path(__file__).parents[1] / "reporters" / "golden" / "results.json"

EnvFactory = Callable[..., dict[str, str]]


@pytest.fixture
def fake_github() -> Iterator[FakeGitHub]:
    running = RunningFake()
    try:
        yield running.fake
    finally:
        running.stop()


def pull_request_event(number: int = PR_NUMBER, head: str = HEAD_SHA) -> dict[str, Any]:
    return {"number": number, "pull_request": {"number": number, "head": {"sha": head}}}


@pytest.fixture
def actions_env(fake_github: FakeGitHub, tmp_path: Path) -> EnvFactory:
    """``actions_env(event=...)``: the variables a GitHub Actions step sees, aimed at the fake.

    Every variable the publisher reads is set (empty when absent) so that a test
    run inside a real Actions job does not pick up that job's values.
    """

    def make(
        *, event: dict[str, Any] | None = None, event_name: str = "pull_request", **extra: str
    ) -> dict[str, str]:
        event_path = ""
        if event is not None:
            path = tmp_path / "event.json"
            path.write_text(json.dumps(event), encoding="utf-8")
            event_path = str(path)
        env = {
            "GITHUB_ACTIONS": "true",
            "GITHUB_API_URL": fake_github.url,
            "GITHUB_SERVER_URL": "https://github.example",
            "GITHUB_REPOSITORY": REPO,
            "GITHUB_SHA": MERGE_SHA,
            "GITHUB_RUN_ID": RUN_ID,
            "GITHUB_TOKEN": TOKEN,
            "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
            "GITHUB_EVENT_PATH": event_path,
            "GITHUB_EVENT_NAME": event_name,
        }
        env.update(extra)
        return env

    return make


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


@pytest.fixture
def passing_results(tmp_path: Path) -> Path:
    path = tmp_path / "passing.json"
    path.write_text(render_json(passing_result()), encoding="utf-8")
    return path


@pytest.fixture
def failing_results() -> Path:
    """The reporters' golden results: one verdict of every outcome, exit code 1."""
    return FAILING_RESULTS
