"""``perfci run --github`` end to end: the toy project measured, judged, published to the fake."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from perfci.errors import ExitCode
from perfci.pytest_plugin import PerfciProject
from perfci.reporters import MARKDOWN_MARKER
from tests.github.builders import HEAD_SHA, PR_NUMBER, REPO, EnvFactory, pull_request_event
from tests.github.fake_github import TOKEN, FakeGitHub
from tests.toy.project import make_toy

STATUS = f"POST /repos/{REPO}/statuses/{HEAD_SHA}"
LIST = f"GET /repos/{REPO}/issues/{PR_NUMBER}/comments"


@pytest.fixture
def toy(perfci_project: PerfciProject) -> PerfciProject:
    make_toy(perfci_project)
    created = perfci_project.run("baseline", "update")
    assert created.exit_code == 0, created.output
    return perfci_project


def test_a_passing_then_a_failing_run_publish_one_status_each_and_one_comment(
    toy: PerfciProject, fake_github: FakeGitHub, actions_env: EnvFactory
) -> None:
    env = actions_env(event=pull_request_event())
    summary = Path(env["GITHUB_STEP_SUMMARY"])

    passed = toy.run("run", "--github", "--json", "out/results.json", env=env)
    assert passed.exit_code == ExitCode.OK, passed.output
    assert fake_github.lines() == [STATUS, LIST, f"POST /repos/{REPO}/issues/{PR_NUMBER}/comments"]
    assert fake_github.requests[0].body == {
        "state": "success",
        "description": "PASSED: 1 passed",
        "context": "perfci",
        "target_url": "https://github.example/acme/shop/actions/runs/4242",
    }
    (comment,) = fake_github.comments[PR_NUMBER]
    first_body = comment["body"]
    assert first_body.startswith(f"{MARKDOWN_MARKER}\n## ✅ perfci: PASSED")
    assert summary.read_text(encoding="utf-8") == first_body
    assert "::error" not in passed.stdout

    fake_github.requests.clear()
    failed = toy.run("run", "--github", env={**env, "TOY_EXTRA_QUERIES": "2"})
    assert failed.exit_code == ExitCode.REGRESSION, failed.output
    assert fake_github.lines() == [
        STATUS,
        LIST,
        f"PATCH /repos/{REPO}/issues/comments/{comment['id']}",
    ]
    assert fake_github.requests[0].body["state"] == "failure"
    assert fake_github.requests[0].body["description"] == "FAILED: 1 regression"
    (updated,) = fake_github.comments[PR_NUMBER]  # the same comment, never a second one
    assert updated["id"] == comment["id"]
    assert updated["body"].startswith(f"{MARKDOWN_MARKER}\n## ❌ perfci: FAILED")
    assert "toy_queries/GET /items/queries" in updated["body"]
    assert summary.read_text(encoding="utf-8") == first_body + updated["body"]
    (annotation,) = [line for line in failed.stdout.splitlines() if line.startswith("::")]
    assert annotation.startswith(
        "::error title=perfci REGRESSION%3A toy_queries/GET /items/queries"
        "::toy_queries/GET /items/queries: "
    )
    for run in (passed, failed):
        assert TOKEN not in run.output
    results = json.loads((toy.path / "out" / "results.json").read_text(encoding="utf-8"))
    assert results["exit_code"] == 0


def test_a_publish_failure_is_exit_4_but_never_hides_a_failing_gate(
    toy: PerfciProject, fake_github: FakeGitHub, actions_env: EnvFactory
) -> None:
    env = actions_env(event=pull_request_event())
    fake_github.fail("POST", "/statuses/", 403, times=2, message="Resource not accessible")

    passed = toy.run("run", "--github", env=env)
    assert passed.exit_code == ExitCode.PUBLISH, passed.output
    failed = toy.run("run", "--github", env={**env, "TOY_EXTRA_QUERIES": "2"})
    assert failed.exit_code == ExitCode.REGRESSION, failed.output

    for run in (passed, failed):
        (line,) = [x for x in run.stderr.splitlines() if "publishing to GitHub failed" in x]
        assert "permissions: statuses: write" in line
        assert TOKEN not in run.output
