"""Fixtures for the GitHub publisher: the fake API on loopback, Actions environments, results."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from perfci.reporters import render_json
from tests.github.builders import (
    FAILING_RESULTS,
    MERGE_SHA,
    REPO,
    RUN_ID,
    EnvFactory,
    passing_result,
)
from tests.github.fake_github import TOKEN, FakeGitHub, RunningFake


@pytest.fixture
def fake_github() -> Iterator[FakeGitHub]:
    running = RunningFake()
    try:
        yield running.fake
    finally:
        running.stop()


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


@pytest.fixture
def passing_results(tmp_path: Path) -> Path:
    path = tmp_path / "passing.json"
    path.write_text(render_json(passing_result()), encoding="utf-8")
    return path


@pytest.fixture
def failing_results() -> Path:
    """The reporters' golden results: one verdict of every outcome, exit code 1."""
    return FAILING_RESULTS
