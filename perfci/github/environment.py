"""Where to publish, read from the GitHub Actions environment and the event payload.

Which commit and which pull request a run belongs to depends on the event:

* ``pull_request``: the PR's head commit (not ``GITHUB_SHA``, the merge commit)
  and the PR's number.
* ``workflow_run`` (the fork-safe publisher): the triggering run's
  ``head_sha`` and, for a pull request of the same repository, its number.
  For a fork GitHub leaves ``pull_requests`` empty, so the number comes from
  the PR workflow's artifact (``--pr-file``): data of the fork, so its head
  SHA must match the event's and the publisher checks the PR with the API
  before commenting on it.
* anything else (``push``...): ``GITHUB_SHA``, no pull request.

The event payload is written by GitHub, not by the pull request's author.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from perfci.errors import PublishError
from perfci.files import loads, read_text
from perfci.github.api import Secret

_SHA = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")  # SHA-1 or SHA-256 object names
_REPOSITORY = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")


@dataclass(frozen=True)
class ActionsEnvironment:
    """Everything the publisher needs to know about the run it publishes."""

    api_url: str
    server_url: str
    repository: str | None
    token: Secret | None
    sha: str | None
    pull_request: int | None
    # False when the PR number came from outside the event (an artifact, --pr):
    # the publisher then checks with the API that the PR's head is ``sha``.
    pull_request_trusted: bool
    run_url: str | None
    step_summary: Path | None
    event_name: str | None


@dataclass(frozen=True)
class _EventFacts:
    sha: str | None = None
    pull_request: int | None = None
    run_id: str | None = None


def read_environment(
    env: Mapping[str, str],
    *,
    sha: str | None = None,
    pull_request: int | None = None,
    pr_file: Path | None = None,
) -> ActionsEnvironment:
    """The publishing target from ``env`` (``os.environ``) and explicit overrides.

    ``sha`` and ``pull_request`` override the event; ``pr_file`` is the JSON
    written by the PR workflow (``{"number": 12, "head_sha": "..."}``).
    """
    facts = _event_facts(env)
    server_url = env.get("GITHUB_SERVER_URL") or "https://github.com"
    repository = env.get("GITHUB_REPOSITORY") or None
    if repository is not None and not _REPOSITORY.match(repository):
        raise PublishError(f"GITHUB_REPOSITORY is not 'owner/name': {repository!r}")
    head = sha or facts.sha or env.get("GITHUB_SHA") or None
    if head is not None and not _SHA.match(head):
        raise PublishError(f"not a full commit SHA: {head!r}")
    number, trusted = facts.pull_request, True
    if pr_file is not None:
        number = _from_pr_file(pr_file, head, facts.pull_request)
        trusted = facts.pull_request is not None  # then it equals the event's, checked
    if pull_request is not None:
        if pull_request <= 0:
            raise PublishError(f"not a pull request number: {pull_request}")
        number, trusted = pull_request, pull_request == facts.pull_request
    run_id = facts.run_id or env.get("GITHUB_RUN_ID") or None
    run_url = (
        f"{server_url.rstrip('/')}/{repository}/actions/runs/{run_id}"
        if repository and run_id and run_id.isdigit()
        else None
    )
    token = env.get("GITHUB_TOKEN") or None
    summary = env.get("GITHUB_STEP_SUMMARY") or None
    return ActionsEnvironment(
        api_url=(env.get("GITHUB_API_URL") or "https://api.github.com").rstrip("/"),
        server_url=server_url,
        repository=repository,
        token=Secret(token) if token else None,
        sha=head,
        pull_request=number,
        pull_request_trusted=trusted,
        run_url=run_url,
        step_summary=Path(summary) if summary else None,
        event_name=env.get("GITHUB_EVENT_NAME") or None,
    )


def _event_facts(env: Mapping[str, str]) -> _EventFacts:
    path = env.get("GITHUB_EVENT_PATH")
    if not path:
        return _EventFacts()
    try:
        event = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise PublishError(
            f"cannot read the event payload GITHUB_EVENT_PATH={path}: {error}"
        ) from None
    if not isinstance(event, dict):
        return _EventFacts()
    pull = event.get("pull_request")
    if isinstance(pull, dict):
        return _EventFacts(
            sha=_str(_get(pull, "head", "sha")), pull_request=_int(pull.get("number"))
        )
    run = event.get("workflow_run")
    if isinstance(run, dict):
        head = _str(run.get("head_sha"))
        number = None
        for candidate in run.get("pull_requests") or ():
            if isinstance(candidate, dict) and _get(candidate, "head", "sha") == head:
                number = _int(candidate.get("number"))
                break
        run_id = run.get("id")
        return _EventFacts(
            sha=head, pull_request=number, run_id=str(run_id) if _int(run_id) else None
        )
    return _EventFacts()


def _from_pr_file(path: Path, head: str | None, event_number: int | None) -> int:
    """The PR number from the PR workflow's artifact, checked against the trusted event.

    The artifact is untrusted (a fork's run wrote it): read with perfci's guarded
    reader, so a device, a FIFO or JSON nested 100,000 deep is one line.
    """
    text = read_text(path, error=PublishError)
    try:
        data = loads(text)
    except ValueError as error:
        raise PublishError(f"{path}: not a readable pull request file: {error}") from None
    number = _int(data.get("number")) if isinstance(data, dict) else None
    if number is None:
        raise PublishError(f'{path}: expected {{"number": <pull request number>, ...}}')
    claimed = data.get("head_sha")
    if claimed is not None and claimed != head:
        raise PublishError(
            f"{path}: names head commit {str(claimed)[:40]!r}, but the run is of {head}"
        )
    if event_number is not None and number != event_number:
        raise PublishError(
            f"{path}: names pull request #{number}, but the run belongs to #{event_number}"
        )
    return number


def _get(data: dict[str, Any], *keys: str) -> Any:
    value: Any = data
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        return None
    return value
