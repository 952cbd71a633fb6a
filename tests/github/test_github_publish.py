"""``perfci github publish`` as a workflow step runs it, against the fake GitHub API on loopback.

The first test runs the real command in a subprocess; the rest call the same
entry point (``perfci.cli.main``) in-process, which is several times faster.
"""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from perfci.cli import main
from perfci.errors import ExitCode
from perfci.github.publish import with_details_link
from perfci.github.results import load_result
from perfci.github.workflow_commands import annotation_lines
from perfci.pytest_plugin import PerfciProject, PerfciRun
from perfci.reporters import MARKDOWN_MARKER, render_markdown
from tests.github.builders import (
    HEAD_SHA,
    MERGE_SHA,
    PR_NUMBER,
    REPO,
    EnvFactory,
    pull_request_event,
)
from tests.github.fake_github import TOKEN, FakeGitHub

STATUS = f"POST /repos/{REPO}/statuses/{HEAD_SHA}"
LIST = f"GET /repos/{REPO}/issues/{PR_NUMBER}/comments"
CREATE = f"POST /repos/{REPO}/issues/{PR_NUMBER}/comments"
RUN_URL = "https://github.example/acme/shop/actions/runs/4242"
FAILED_DESCRIPTION = (
    "FAILED: 2 regressions, 1 budget violation, 1 missing, 1 too noisy to judge,"
    " 1 acknowledged, 1 new, 1 improvement, 5 passed"
)


class InProcess:
    """Runs ``perfci`` through ``perfci.cli.main`` in this process, with ``env`` set."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
        self.monkeypatch = monkeypatch
        self.capsys = capsys

    def run(self, *args: str, env: dict[str, str], timeout: float = 0) -> PerfciRun:
        for key, value in env.items():
            self.monkeypatch.setenv(key, value)
        self.capsys.readouterr()
        on_sigterm = signal.getsignal(signal.SIGTERM)  # main() installs its own handler
        try:
            with pytest.raises(SystemExit) as exited:
                main(list(args))
        finally:
            signal.signal(signal.SIGTERM, on_sigterm)
        captured = self.capsys.readouterr()
        code = exited.value.code
        return PerfciRun(code if isinstance(code, int) else 1, captured.out, captured.err)


@pytest.fixture
def in_process(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> InProcess:
    return InProcess(monkeypatch, capsys)


def publish(project: PerfciProject | InProcess, env: dict[str, str], *args: str) -> PerfciRun:
    run = project.run("github", "publish", *args, env=env, timeout=60)
    assert TOKEN not in run.output
    return run


def test_failing_then_passing_run_sets_statuses_and_updates_one_comment(
    perfci_project: PerfciProject,
    fake_github: FakeGitHub,
    actions_env: EnvFactory,
    failing_results: Path,
    passing_results: Path,
) -> None:
    env = actions_env(event=pull_request_event())
    summary = Path(env["GITHUB_STEP_SUMMARY"])

    first = publish(perfci_project, env, "--results", str(failing_results))
    assert first.exit_code == ExitCode.OK, first.output
    assert fake_github.lines() == [STATUS, LIST, CREATE]
    assert fake_github.requests[0].body == {
        "state": "failure",
        "description": FAILED_DESCRIPTION,
        "context": "perfci",
        "target_url": RUN_URL,
    }
    assert MERGE_SHA not in fake_github.statuses  # the PR's head, not the merge commit
    failing_markdown = render_markdown(load_result(failing_results))
    assert fake_github.requests[2].body == {"body": failing_markdown}
    assert summary.read_text(encoding="utf-8") == failing_markdown
    expected_annotations = list(annotation_lines(load_result(failing_results)))
    assert first.stdout.splitlines() == expected_annotations
    assert first.stdout.startswith("::error title=perfci REGRESSION%3A ")

    (comment,) = fake_github.comments[PR_NUMBER]
    fake_github.requests.clear()
    second = publish(perfci_project, env, "--results", str(passing_results))
    assert second.exit_code == ExitCode.OK, second.output
    assert fake_github.lines() == [
        STATUS,
        LIST,
        f"PATCH /repos/{REPO}/issues/comments/{comment['id']}",
    ]
    assert fake_github.requests[0].body == {
        "state": "success",
        "description": "PASSED: 1 passed",
        "context": "perfci",
        "target_url": RUN_URL,
    }
    passing_markdown = render_markdown(load_result(passing_results))
    assert fake_github.comments[PR_NUMBER] == [
        {"id": comment["id"], "body": passing_markdown, "user": {"login": "bot"}}
    ]
    assert summary.read_text(encoding="utf-8") == failing_markdown + passing_markdown
    assert second.stdout == ""  # nothing to annotate


def test_the_sticky_comment_is_found_on_a_later_page(
    in_process: InProcess,
    fake_github: FakeGitHub,
    actions_env: EnvFactory,
    passing_results: Path,
) -> None:
    fake_github.page_size = 2
    fake_github.add_comment(PR_NUMBER, f"> quoting it does not count:\n> {MARKDOWN_MARKER}")
    fake_github.add_comment(PR_NUMBER, "LGTM")
    fake_github.add_comment(PR_NUMBER, "nit: naming")
    ours = fake_github.add_comment(PR_NUMBER, f"{MARKDOWN_MARKER}\nold report", login="bot")
    run = publish(
        in_process, actions_env(event=pull_request_event()), "--results", str(passing_results)
    )
    assert run.exit_code == ExitCode.OK, run.output
    assert fake_github.lines() == [
        STATUS,
        LIST,
        LIST,
        f"PATCH /repos/{REPO}/issues/comments/{ours}",
    ]
    assert len(fake_github.comments[PR_NUMBER]) == 4


def test_a_500_is_retried_and_the_publish_succeeds(
    in_process: InProcess,
    fake_github: FakeGitHub,
    actions_env: EnvFactory,
    passing_results: Path,
) -> None:
    fake_github.fail("POST", "/statuses/", 500)
    run = publish(
        in_process, actions_env(event=pull_request_event()), "--results", str(passing_results)
    )
    assert run.exit_code == ExitCode.OK, run.output
    assert fake_github.lines() == [STATUS, STATUS, LIST, CREATE]
    assert fake_github.statuses[HEAD_SHA][0]["state"] == "success"


def test_a_403_is_exit_4_with_one_line_and_the_other_parts_still_publish(
    in_process: InProcess,
    fake_github: FakeGitHub,
    actions_env: EnvFactory,
    failing_results: Path,
) -> None:
    fake_github.fail("POST", "/statuses/", 403, message="Resource not accessible by integration")
    env = actions_env(event=pull_request_event())
    run = publish(in_process, env, "--results", str(failing_results))
    assert run.exit_code == ExitCode.PUBLISH
    (line,) = run.stderr.splitlines()
    assert line.startswith(f"perfci: publishing to GitHub failed: status: {STATUS}: 403 Forbidden")
    assert "permissions: statuses: write" in line
    assert fake_github.lines() == [STATUS, LIST, CREATE]  # the comment still went out
    assert Path(env["GITHUB_STEP_SUMMARY"]).read_text(encoding="utf-8").startswith(MARKDOWN_MARKER)


def test_read_only_parts_need_no_token(
    in_process: InProcess,
    fake_github: FakeGitHub,
    actions_env: EnvFactory,
    failing_results: Path,
) -> None:
    env = actions_env(event=pull_request_event(), GITHUB_TOKEN="")
    run = publish(in_process, env, "--results", str(failing_results), "--no-status", "--no-comment")
    assert run.exit_code == ExitCode.OK, run.output
    assert fake_github.requests == []
    assert run.stdout.count("::error ") == 4
    assert Path(env["GITHUB_STEP_SUMMARY"]).is_file()

    missing = publish(in_process, env, "--results", str(failing_results))
    assert missing.exit_code == ExitCode.PUBLISH
    assert "GITHUB_TOKEN is not set" in missing.stderr


def test_fork_pull_request_through_workflow_run_and_the_pr_artifact(
    in_process: InProcess,
    fake_github: FakeGitHub,
    actions_env: EnvFactory,
    passing_results: Path,
    tmp_path: Path,
) -> None:
    # GitHub leaves pull_requests empty for a fork's run: the number comes from the artifact.
    event = {"workflow_run": {"id": 99, "head_sha": HEAD_SHA, "pull_requests": []}}
    env = actions_env(event=event, event_name="workflow_run", GITHUB_SHA="c" * 40)
    pr_file = tmp_path / "pr.json"
    pr_file.write_text(json.dumps({"number": PR_NUMBER, "head_sha": HEAD_SHA}), encoding="utf-8")
    fake_github.pulls[PR_NUMBER] = HEAD_SHA
    args = ("--results", str(passing_results), "--pr-file", str(pr_file))

    run = publish(in_process, env, *args)
    assert run.exit_code == ExitCode.OK, run.output
    assert fake_github.lines() == [STATUS, f"GET /repos/{REPO}/pulls/{PR_NUMBER}", LIST, CREATE]
    # The status links to the PR workflow's run, not to the publisher's.
    assert fake_github.statuses[HEAD_SHA][0]["target_url"].endswith("/actions/runs/99")

    # A newer push moved the PR on: this older run sets its status but leaves the comment.
    fake_github.pulls[PR_NUMBER] = "d" * 40
    fake_github.requests.clear()
    stale = publish(in_process, env, *args)
    assert stale.exit_code == ExitCode.OK, stale.output
    assert fake_github.lines() == [STATUS, f"GET /repos/{REPO}/pulls/{PR_NUMBER}"]
    assert "no comment posted" in stale.stderr


def test_an_artifact_naming_another_commit_is_refused(
    in_process: InProcess,
    fake_github: FakeGitHub,
    actions_env: EnvFactory,
    passing_results: Path,
    tmp_path: Path,
) -> None:
    event = {"workflow_run": {"id": 99, "head_sha": HEAD_SHA, "pull_requests": []}}
    env = actions_env(event=event, event_name="workflow_run")
    pr_file = tmp_path / "pr.json"
    pr_file.write_text(json.dumps({"number": 1, "head_sha": "e" * 40}), encoding="utf-8")
    run = publish(in_process, env, "--results", str(passing_results), "--pr-file", str(pr_file))
    assert run.exit_code == ExitCode.PUBLISH
    assert "names head commit" in run.stderr
    assert fake_github.requests == []


def test_a_push_sets_a_status_on_github_sha_and_posts_no_comment(
    in_process: InProcess,
    fake_github: FakeGitHub,
    actions_env: EnvFactory,
    passing_results: Path,
) -> None:
    env = actions_env(event={"ref": "refs/heads/main"}, event_name="push")
    run = publish(in_process, env, "--results", str(passing_results))
    assert run.exit_code == ExitCode.OK, run.output
    assert fake_github.lines() == [f"POST /repos/{REPO}/statuses/{MERGE_SHA}"]
    assert "not a pull request run" in run.stderr


def test_error_status_when_there_are_no_results(
    in_process: InProcess, fake_github: FakeGitHub, actions_env: EnvFactory
) -> None:
    env = actions_env(event=pull_request_event())
    run = publish(in_process, env, "--error", "perfci produced no results")
    assert run.exit_code == ExitCode.OK, run.output
    assert fake_github.requests[0].line == STATUS
    assert fake_github.requests[0].body == {
        "state": "error",
        "description": "ERROR: perfci produced no results",
        "context": "perfci",
        "target_url": RUN_URL,
    }


def test_long_descriptions_are_clipped_to_140_characters(
    in_process: InProcess,
    fake_github: FakeGitHub,
    actions_env: EnvFactory,
) -> None:
    env = actions_env(event=pull_request_event())
    run = publish(in_process, env, "--error", "x" * 300, "--no-summary")
    assert run.exit_code == ExitCode.OK, run.output
    description = fake_github.requests[0].body["description"]
    assert len(description) == 140
    assert description.endswith("…")


def test_usage_errors(in_process: InProcess, actions_env: EnvFactory) -> None:
    env = actions_env()
    neither = publish(in_process, env)
    assert neither.exit_code == ExitCode.USAGE
    assert "--results" in neither.stderr
    missing = publish(in_process, env, "--results", "nope.json")
    assert missing.exit_code == ExitCode.USAGE
    assert "no such results file" in missing.stderr


@pytest.mark.parametrize(
    ("change", "state"),
    [
        ({"exit_code": 0}, "failure"),  # a fork's artifact says it passed; its verdicts don't
        ({"exit_code": 0, "verdicts": [], "unmatched_rules": ["x"]}, "error"),
        ({"exit_code": 7}, "error"),
    ],
)
def test_the_status_never_trusts_the_artifacts_exit_code_over_its_verdicts(
    in_process: InProcess,
    fake_github: FakeGitHub,
    actions_env: EnvFactory,
    failing_results: Path,
    tmp_path: Path,
    change: dict[str, object],
    state: str,
) -> None:
    data = json.loads(failing_results.read_text(encoding="utf-8"))
    data.update(change)
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(data), encoding="utf-8")
    run = publish(in_process, actions_env(event=pull_request_event()), "--results", str(forged))
    assert run.exit_code == ExitCode.OK, run.output
    assert fake_github.requests[0].body["state"] == state


def test_a_server_page_is_the_status_link_and_is_linked_from_the_comment(
    perfci_project: PerfciProject,
    fake_github: FakeGitHub,
    actions_env: EnvFactory,
    failing_results: Path,
) -> None:
    env = actions_env(event=pull_request_event())
    page = "https://perfci.example/projects/shop/runs/42"
    run = publish(perfci_project, env, "--results", str(failing_results), "--details-url", page)
    assert run.exit_code == ExitCode.OK, run.output
    assert fake_github.requests[0].body["target_url"] == page
    body = fake_github.requests[2].body["body"]
    assert body.endswith(f"\n\n[This run on the perfci server]({page})\n")


def test_a_details_link_cannot_break_out_of_its_markdown() -> None:
    hostile = "https://perfci.example/p) ![x](https://evil.example/x.png"
    linked = with_details_link("report\n", hostile)
    assert linked == (
        "report\n\n[This run on the perfci server]"
        "(https://perfci.example/p%29%20!%5Bx%5D%28https://evil.example/x.png)\n"
    )
    assert with_details_link("report\n", None) == "report\n"
