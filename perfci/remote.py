"""The client side of ``perfci server``: upload a run, fetch a stored baseline.

The token goes in an ``Authorization`` header to the configured server only:
redirects are never followed (a 3xx is an error), and no message, exception
or log line carries it (``requests`` never puts headers in its errors, and
every error here is rebuilt from the status and the server's ``error``). A
``user:password@`` in the server's URL is kept apart from ``Server.url``, so no
message or link shows it either.
An upload that fails is a warning for the caller; a baseline that cannot be
fetched is a ``ConfigError`` (exit 2): a gate without its baseline is no gate.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import requests

from perfci.baseline import Baseline, comparable_from
from perfci.dashboard.urls import run_url
from perfci.errors import ConfigError, PerfciError
from perfci.files import dumps, loads
from perfci.github.environment import read_environment
from perfci.result import RunResult, unmeasured

TIMEOUT_S = 30.0
TOKEN_ENV = "PERFCI_TOKEN"
_SHA = re.compile(r"^[0-9a-f]{7,64}$")
_SSL_HINT = "a self-signed certificate? set REQUESTS_CA_BUNDLE to its CA file"


class ServerError(PerfciError):
    """The server could not be reached, or refused the request (exit 2)."""


@dataclass(frozen=True)
class Server:
    """Where a project lives on a ``perfci server`` and the token to use (never printed).

    ``url`` is the address as shown (messages, links to the dashboard): a
    ``user:password@`` given in it is moved to ``userinfo`` and used only in
    requests. ``token_from`` names where the token was read, for messages.
    """

    url: str
    project: str
    token: str | None = None
    token_from: str = field(default="server.token", compare=False)
    userinfo: str = field(default="", init=False, compare=False)

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        userinfo, at, host = parts.netloc.rpartition("@")
        shown = urlunsplit(parts._replace(netloc=host)) if at else self.url
        object.__setattr__(self, "url", shown)
        object.__setattr__(self, "userinfo", userinfo)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"server.url must be an http(s) URL, not {shown!r}")
        if not self.project:
            raise ConfigError("server.project is empty")

    def __repr__(self) -> str:  # the token stays out of reprs (tracebacks, logs)
        return f"Server(url={self.url!r}, project={self.project!r})"

    def endpoint(self, path: str) -> str:
        base = self.url
        if self.userinfo:  # back where it was given, for the request only
            parts = urlsplit(base)
            base = urlunsplit(parts._replace(netloc=f"{self.userinfo}@{parts.netloc}"))
        return f"{base.rstrip('/')}/api/v1/projects/{quote(self.project, safe='')}/{path}"

    def request(
        self, method: str, path: str, *, params: Mapping[str, str] | None = None, body: str = ""
    ) -> dict[str, Any]:
        """One request; the reply's JSON object, or ``ServerError`` saying why not."""
        where = f"perfci server {self.url}"
        headers = {"Accept": "application/json"}
        if self.token:
            if any(c.isspace() or not c.isprintable() for c in self.token):
                raise ServerError(
                    f"{where}: the token in {self.token_from} holds whitespace "
                    "or a control character"
                )
            headers["Authorization"] = f"Bearer {self.token}"
        if body:
            headers["Content-Type"] = "application/json"
        try:
            reply = requests.request(
                method,
                self.endpoint(path),
                params=params,
                data=body.encode("utf-8") if body else None,
                headers=headers,
                timeout=TIMEOUT_S,
                allow_redirects=False,
            )
        except requests.RequestException as error:
            hint = f"; {_SSL_HINT}" if isinstance(error, requests.exceptions.SSLError) else ""
            raise ServerError(f"{where}: unreachable ({type(error).__name__}{hint})") from None
        if 300 <= reply.status_code < 400:
            raise ServerError(f"{where}: answered a redirect ({reply.status_code}), not followed")
        try:
            data = loads(reply.text) if reply.content else {}
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise ServerError(f"{where}: answered {reply.status_code} without a JSON object")
        if reply.status_code >= 400:
            reason = str(data.get("error") or "no reason given")[:300]
            raise ServerError(f"{where}: {reply.status_code}: {reason}")
        return data


def server_from(url: str | None, project: str | None, token: str | None) -> Server | None:
    """A ``Server`` when both ``url`` and ``project`` are known; the token falls back to
    ``$PERFCI_TOKEN``. Whitespace around the token (a pasted secret's newline) is dropped."""
    if not url or not project:
        return None
    given = (token or "").strip()
    if given:
        return Server(url, project, given, token_from="server.token")
    return Server(url, project, os.environ.get(TOKEN_ENV, "").strip() or None, token_from=TOKEN_ENV)


@dataclass(frozen=True)
class UploadFacts:
    """What the server is told beside the results."""

    commit: str | None = None
    branch: str | None = None
    pr: int | None = None
    ci_url: str | None = None
    committed_at: str | None = None


def upload_facts(
    result: RunResult,
    root: Path,
    env: Mapping[str, str],
    *,
    commit: str | None = None,
    branch: str | None = None,
    pr: int | None = None,
    ci_url: str | None = None,
) -> UploadFacts:
    """The explicit values, else GitHub Actions' (``GITHUB_*``), else the results' and git's."""
    actions: Any = None
    if env.get("GITHUB_ACTIONS") == "true":
        try:
            actions = read_environment(env)
        except PerfciError:
            actions = None
    if actions is not None:
        commit = commit or actions.sha
        pr = pr or actions.pull_request
        ci_url = ci_url or actions.run_url
        branch = branch or env.get("GITHUB_HEAD_REF") or env.get("GITHUB_REF_NAME") or None
    commit = commit or result.commit
    branch = branch or result.branch
    return UploadFacts(commit, branch, pr, ci_url, _commit_time(root, commit))


def _commit_time(root: Path, commit: str | None) -> str | None:
    """The committer date of ``commit`` in the git tree at ``root`` (None outside git)."""
    if not commit or not _SHA.match(commit):
        return None
    try:
        done = subprocess.run(
            ["git", "show", "-s", "--format=%cI", commit, "--"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    text = done.stdout.strip()
    return text if done.returncode == 0 and text else None


def upload(server: Server, result: RunResult, facts: UploadFacts) -> str:
    """Upload ``result``; return the run's page on the server's dashboard. ``ServerError``
    when refused."""
    body: dict[str, Any] = {"results": result.to_dict()}
    for key in ("commit", "branch", "pr", "ci_url", "committed_at"):
        value = getattr(facts, key)
        if value is not None:
            body[key] = value
    reply = server.request("POST", "runs", body=dumps(body, indent=None))
    run_id = reply.get("id")
    if isinstance(run_id, int) and not isinstance(run_id, bool):
        return run_url(server.url, server.project, run_id)  # the run's dashboard page
    return f"{server.url.rstrip('/')}{reply.get('url', '')}"


@dataclass(frozen=True)
class ServerBaseline:
    """A baseline fetched from a perfci server, and which stored run it is."""

    baseline: Baseline
    run_id: int
    page: str  # the run's page on the server's dashboard (the results' ``baseline_path``)
    describe: str  # one line: "run 12 of api@main (commit 1a2b3c4d5e, 2026-11-30 12:00 UTC)"


@dataclass(frozen=True)
class RemoteBaseline:
    """``perfci run --baseline-from server``: the newest passing run of ``branch`` of the
    gate's suite that measured every check the gate judges."""

    server: Server
    branch: str

    @property
    def describe(self) -> str:
        return f"{self.server.url} {self.server.project}@{self.branch}"

    def load(self, suite: str, checks: Sequence[str]) -> ServerBaseline:
        """The stored run as a baseline for a gate of ``suite`` judging ``checks``;
        ``ConfigError`` (exit 2) with the reason when there is none."""
        params = {"branch": self.branch, "suite": suite, "checks": ",".join(checks)}
        try:
            reply = self.server.request("GET", "baseline", params=params)
        except ServerError as error:
            raise ConfigError(f"cannot fetch the baseline of {self.branch!r}: {error}") from None
        results = reply.get("results")
        run = reply.get("run")
        if not isinstance(results, dict) or not isinstance(run, dict):
            raise ConfigError(f"perfci server {self.server.url}: the baseline reply has no results")
        run_id = run.get("id")
        if isinstance(run_id, bool) or not isinstance(run_id, int):
            raise ConfigError(f"perfci server {self.server.url}: the baseline reply has no run id")
        where = f"{self.server.url} run {run_id}"
        baseline = comparable_from(results, where)
        # A server older than the suite/checks filter answers the newest passing run,
        # whatever it measured: judged against it, every metric would be "new" and pass.
        missing = unmeasured(checks, _texts(results.get("checks")), baseline.skipped_checks)
        if baseline.suite != suite or missing:
            wrong = (
                f"is of suite {baseline.suite!r}, not {suite!r}"
                if baseline.suite != suite
                else f"did not measure {', '.join(missing)}"
            )
            raise ConfigError(
                f"cannot use the baseline of {self.branch!r}: perfci server {self.server.url} "
                f"answered run {run_id}, which {wrong} (a server older than this perfci?)"
            )
        commit = f"commit {str(run['commit'])[:10]}" if run.get("commit") else "no commit"
        page = run_url(self.server.url, self.server.project, run_id)
        return ServerBaseline(
            baseline,
            run_id,
            page,
            f"run {run_id} of {self.server.project}@{self.branch} "
            f"({commit}, {_when(str(run.get('started_at') or ''))})",
        )


def _texts(value: Any) -> tuple[str, ...]:
    return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()


def _when(started_at: str) -> str:
    """A run's start as "2026-11-30 12:00 UTC" (as given when it is not ISO 8601)."""
    try:
        moment = dt.datetime.fromisoformat(started_at)
    except ValueError:
        return started_at or "no start time"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
