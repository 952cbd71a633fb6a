"""Publish one run to GitHub: annotations, job summary, commit status, sticky PR comment.

Every part is attempted even when an earlier one failed; the failures are
then raised together as one ``PublishError`` (exit 4). The gate's verdict is
the caller's business: publishing never changes it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from perfci.errors import PublishError
from perfci.github.api import GitHubAPI
from perfci.github.environment import ActionsEnvironment
from perfci.github.workflow_commands import annotation_lines
from perfci.reporters import MARKDOWN_MARKER, render_markdown
from perfci.reporters import format as fmt
from perfci.result import RunResult

CONTEXT = "perfci"
MAX_DESCRIPTION = 140  # GitHub's limit for a commit status description

Echo = Callable[[str], None]


@dataclass(frozen=True)
class Parts:
    """Which parts to publish (``--no-status``, ``--no-comment``... switch them off)."""

    status: bool = True
    comment: bool = True
    summary: bool = True
    annotations: bool = True

    @property
    def needs_api(self) -> bool:
        return self.status or self.comment


def status_state(result: RunResult) -> str:
    """success, failure (the gate failed) or error (it could not judge): ``fmt.status``,
    which never trusts an artifact's ``exit_code`` over its own failing verdicts."""
    return {"PASSED": "success", "FAILED": "failure"}.get(fmt.status(result), "error")


def status_description(result: RunResult) -> str:
    """``FAILED: 1 regression, 1 too noisy to judge, 12 passed``, at most 140 characters."""
    return _clip(f"{fmt.status(result)}: {fmt.tally(result)}", MAX_DESCRIPTION)


def with_details_link(markdown: str, details_url: str | None) -> str:
    """``markdown`` with a last line linking the run's page on a perfci server.

    The address comes from perfci.yaml's ``server.url``, the project and the
    run id; it is percent-encoded so that no character of it can end the link.
    """
    if not details_url:
        return markdown
    safe = quote(details_url, safe=":/?#@!$&'*+,;=%")
    return f"{markdown.rstrip()}\n\n[This run on the perfci server]({safe})\n"


def status_payload(state: str, description: str, target_url: str | None) -> dict[str, str]:
    payload = {"state": state, "description": _clip(description, MAX_DESCRIPTION)}
    payload["context"] = CONTEXT
    if target_url:
        payload["target_url"] = target_url
    return payload


def publish(
    result: RunResult,
    environment: ActionsEnvironment,
    *,
    parts: Parts = Parts(),
    api: GitHubAPI | None = None,
    out: Echo,
    err: Echo,
    details_url: str | None = None,
) -> None:
    """Publish ``result``: ``out`` gets workflow commands, ``err`` notes; or ``PublishError``.

    ``details_url``, the run's page on a perfci server, is where the commit
    status links (else the workflow run) and is linked from the comment.
    """
    if parts.annotations:
        for line in annotation_lines(result):
            out(line)
    markdown = with_details_link(render_markdown(result), details_url)
    failures: list[str] = []
    if parts.summary:
        _attempt(failures, "job summary", lambda: append_summary(environment, markdown, err))
    if parts.needs_api:
        with _Client(environment, api) as client:
            repo, sha = _where(environment)
            if parts.status:
                payload = status_payload(
                    status_state(result),
                    status_description(result),
                    details_url or environment.run_url,
                )
                _attempt(failures, "status", lambda: set_status(client, repo, sha, payload))
            if parts.comment:
                _attempt(
                    failures,
                    "comment",
                    lambda: comment_on_pull_request(client, environment, markdown, err),
                )
    if failures:
        raise PublishError("publishing to GitHub failed: " + "; ".join(failures))


def publish_error(
    message: str, environment: ActionsEnvironment, *, api: GitHubAPI | None = None, err: Echo
) -> None:
    """An ``error`` status for a run that produced no results (perfci crashed or was cancelled)."""
    failures: list[str] = []
    _attempt(
        failures,
        "job summary",
        lambda: append_summary(
            environment, f"{MARKDOWN_MARKER}\n## 💥 perfci: ERROR\n\n{message}\n", err
        ),
    )
    with _Client(environment, api) as client:
        repo, sha = _where(environment)
        payload = status_payload("error", f"ERROR: {message}", environment.run_url)
        _attempt(failures, "status", lambda: set_status(client, repo, sha, payload))
    if failures:
        raise PublishError("publishing to GitHub failed: " + "; ".join(failures))


def append_summary(environment: ActionsEnvironment, markdown: str, err: Echo) -> None:
    """Append the report to the job summary file (``GITHUB_STEP_SUMMARY``)."""
    if environment.step_summary is None:
        err("perfci: GITHUB_STEP_SUMMARY is not set; no job summary written")
        return
    try:
        with environment.step_summary.open("a", encoding="utf-8") as summary:
            summary.write(markdown if markdown.endswith("\n") else markdown + "\n")
    except OSError as error:
        raise PublishError(f"cannot append to {environment.step_summary}: {error}") from None


def set_status(client: GitHubAPI, repo: str, sha: str, payload: dict[str, str]) -> None:
    client.request("POST", f"/repos/{repo}/statuses/{sha}", json=payload, what="status")


def comment_on_pull_request(
    client: GitHubAPI, environment: ActionsEnvironment, markdown: str, err: Echo
) -> None:
    """Create the sticky comment, or update the one that starts with the marker."""
    number = environment.pull_request
    if number is None:
        err("perfci: not a pull request run; no comment posted")
        return
    repo, sha = _where(environment)
    if not environment.pull_request_trusted:
        pull = client.json(
            client.request("GET", f"/repos/{repo}/pulls/{number}", what="pull request")
        )
        head = pull.get("head", {}).get("sha") if isinstance(pull, dict) else None
        if head != sha:
            err(
                f"perfci: pull request #{number} is now at {str(head)[:12]}, not {sha[:12]}"
                " (a newer push, or a wrong number); no comment posted for this older run"
            )
            return
    existing = find_sticky_comment(client, repo, number)
    if existing is None:
        client.request(
            "POST",
            f"/repos/{repo}/issues/{number}/comments",
            json={"body": markdown},
            what="comment",
        )
    else:
        client.request(
            "PATCH",
            f"/repos/{repo}/issues/comments/{existing}",
            json={"body": markdown},
            what="comment",
        )


def find_sticky_comment(client: GitHubAPI, repo: str, number: int) -> int | None:
    """The id of the first comment whose body starts with the marker, across every page."""
    for comment in client.paginate(f"/repos/{repo}/issues/{number}/comments", what="comment"):
        body: Any = comment.get("body")
        ident: Any = comment.get("id")
        if isinstance(body, str) and body.startswith(MARKDOWN_MARKER) and isinstance(ident, int):
            return ident
    return None


class _Client:
    """The given client, or one built from the environment (and closed afterwards)."""

    def __init__(self, environment: ActionsEnvironment, api: GitHubAPI | None) -> None:
        self._own = api is None
        if api is not None:
            self._api = api
            return
        if environment.token is None:
            raise PublishError(
                "GITHUB_TOKEN is not set: pass it to the step (env: GITHUB_TOKEN:"
                " ${{ github.token }}), or publish only --no-status --no-comment"
            )
        self._api = GitHubAPI(environment.api_url, environment.token)

    def __enter__(self) -> GitHubAPI:
        return self._api

    def __exit__(self, *exc: object) -> None:
        if self._own:
            self._api.close()


def _where(environment: ActionsEnvironment) -> tuple[str, str]:
    if environment.repository is None:
        raise PublishError("GITHUB_REPOSITORY is not set: which repository to publish to?")
    if environment.sha is None:
        raise PublishError("no commit to publish to: set GITHUB_SHA or pass --sha")
    return environment.repository, environment.sha


def _attempt(failures: list[str], part: str, action: Callable[[], None]) -> None:
    try:
        action()
    except PublishError as error:
        failures.append(f"{part}: {error}")


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
