"""Where to publish: the commit and pull request read from the Actions environment and event."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from perfci.errors import PublishError
from perfci.github.environment import read_environment
from tests.github.builders import HEAD_SHA, MERGE_SHA, PR_NUMBER, pull_request_event
from tests.github.fake_github import TOKEN


def _env(tmp_path: Path, event: dict[str, Any] | None = None, **extra: str) -> dict[str, str]:
    env = {
        "GITHUB_REPOSITORY": "acme/shop",
        "GITHUB_SHA": MERGE_SHA,
        "GITHUB_RUN_ID": "12",
        "GITHUB_TOKEN": TOKEN,
    }
    if event is not None:
        path = tmp_path / "event.json"
        path.write_text(json.dumps(event), encoding="utf-8")
        env["GITHUB_EVENT_PATH"] = str(path)
    env.update(extra)
    return env


def test_pull_request_event_gives_the_head_commit_and_number(tmp_path: Path) -> None:
    found = read_environment(_env(tmp_path, pull_request_event()))
    assert (found.sha, found.pull_request, found.pull_request_trusted) == (
        HEAD_SHA,
        PR_NUMBER,
        True,
    )
    assert found.api_url == "https://api.github.com"
    assert found.run_url == "https://github.com/acme/shop/actions/runs/12"
    assert TOKEN not in repr(found)


def test_enterprise_urls_come_from_the_environment(tmp_path: Path) -> None:
    found = read_environment(
        _env(
            tmp_path,
            GITHUB_API_URL="https://ghe.example/api/v3/",
            GITHUB_SERVER_URL="https://ghe.example",
        )
    )
    assert found.api_url == "https://ghe.example/api/v3"
    assert found.run_url == "https://ghe.example/acme/shop/actions/runs/12"
    assert (found.sha, found.pull_request) == (MERGE_SHA, None)


def test_workflow_run_of_a_same_repository_pull_request_is_trusted(tmp_path: Path) -> None:
    event = {
        "workflow_run": {
            "id": 77,
            "head_sha": HEAD_SHA,
            "pull_requests": [
                {"number": 3, "head": {"sha": "f" * 40}},
                {"number": PR_NUMBER, "head": {"sha": HEAD_SHA}},
            ],
        }
    }
    found = read_environment(_env(tmp_path, event))
    assert (found.sha, found.pull_request, found.pull_request_trusted) == (
        HEAD_SHA,
        PR_NUMBER,
        True,
    )
    assert found.run_url == "https://github.com/acme/shop/actions/runs/77"


def test_a_pr_number_from_outside_the_event_is_untrusted(tmp_path: Path) -> None:
    event = {"workflow_run": {"id": 77, "head_sha": HEAD_SHA, "pull_requests": []}}
    pr_file = tmp_path / "pr.json"
    pr_file.write_text(json.dumps({"number": 5, "head_sha": HEAD_SHA}), encoding="utf-8")
    found = read_environment(_env(tmp_path, event), pr_file=pr_file)
    assert (found.pull_request, found.pull_request_trusted) == (5, False)
    assert read_environment(_env(tmp_path, event), pull_request=9).pull_request_trusted is False


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[1]", "expected"),
        ('{"number": "7; rm -rf /"}', "expected"),
        ('{"number": 7, "head_sha": "0000"}', "names head commit"),
        ("not json", "not a readable pull request file"),
        ("[" * 100_000, "not a readable pull request file: nested deeper than 64 levels"),
        ('{"number": 1' + "0" * 400 + "}", "not a readable pull request file: number"),
    ],
)
def test_bad_pr_files_are_refused(tmp_path: Path, content: str, message: str) -> None:
    pr_file = tmp_path / "pr.json"
    pr_file.write_text(content, encoding="utf-8")
    with pytest.raises(PublishError, match=message):
        read_environment(_env(tmp_path, pull_request_event()), pr_file=pr_file)


def test_a_fifo_pr_file_is_refused_without_blocking(tmp_path: Path) -> None:
    pr_file = tmp_path / "pr.json"
    os.mkfifo(pr_file)  # no writer: opening it would block forever
    with pytest.raises(PublishError, match="cannot read: not a regular file"):
        read_environment(_env(tmp_path, pull_request_event()), pr_file=pr_file)


def test_a_pr_file_contradicting_the_event_is_refused(tmp_path: Path) -> None:
    pr_file = tmp_path / "pr.json"
    pr_file.write_text(json.dumps({"number": 99}), encoding="utf-8")
    with pytest.raises(PublishError, match="belongs to #7"):
        read_environment(_env(tmp_path, pull_request_event()), pr_file=pr_file)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"GITHUB_REPOSITORY": "acme/shop/../x y"}, "not 'owner/name'"),
        ({"GITHUB_SHA": "main"}, "not a full commit SHA"),
        ({"GITHUB_EVENT_PATH": "/nonexistent/event.json"}, "cannot read the event payload"),
    ],
)
def test_bad_environment(tmp_path: Path, extra: dict[str, str], message: str) -> None:
    with pytest.raises(PublishError, match=message):
        read_environment({**_env(tmp_path), **extra})
