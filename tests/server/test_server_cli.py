"""`perfci server init/project/token`, the client's refusal to follow redirects, and its
check that a fetched baseline can judge the gate."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from perfci.errors import ConfigError, ExitCode
from perfci.files import dumps
from perfci.history import HistoryStore
from perfci.pytest_plugin import PerfciProject
from perfci.remote import RemoteBaseline, Server, ServerError
from perfci.result import RunResult
from perfci.server.tokens import digest
from tests.history.factory import make_run


def test_project_create_prints_the_token_once_and_stores_its_digest(
    perfci_project: PerfciProject, tmp_path: Path
) -> None:
    db = ["--db", f"sqlite:///{tmp_path / 's.db'}"]
    assert perfci_project.run_inprocess("server", "init", *db).exit_code == 0
    created = perfci_project.run_inprocess("server", "project", "create", "api", *db)
    assert created.exit_code == 0, created.output
    token = created.stdout.strip()
    assert token.startswith("pci_") and "\n" not in token
    assert "shown once" in created.stderr
    listed = perfci_project.run_inprocess("server", "project", "token", "list", "api", *db)
    assert listed.exit_code == 0 and token not in listed.output
    assert listed.stdout.split()[0] == "1" and "valid" in listed.stdout
    with HistoryStore(db[1]) as store:
        assert store.token_project(digest(token)) == store.project("api").id
        assert store.project("api").public is False
    again = perfci_project.run_inprocess("server", "project", "create", "api", *db)
    assert again.exit_code == ExitCode.USAGE and "exists" in again.stderr
    bad = perfci_project.run_inprocess("server", "project", "create", "a b", *db)
    assert bad.exit_code == ExitCode.USAGE
    revoked = perfci_project.run_inprocess("server", "project", "token", "revoke", "api", "1", *db)
    assert revoked.exit_code == 0, revoked.output
    assert (
        "revoked"
        in perfci_project.run_inprocess("server", "project", "token", "list", "api", *db).stdout
    )
    twice = perfci_project.run_inprocess("server", "project", "token", "revoke", "api", "1", *db)
    assert twice.exit_code == ExitCode.USAGE
    with HistoryStore(db[1]) as store:
        assert store.token_project(digest(token)) is None
    public = perfci_project.run_inprocess("server", "project", "create", "web", "--public", *db)
    assert public.exit_code == 0
    with HistoryStore(db[1]) as store:
        assert store.project("web").public is True


class _Recorder(BaseHTTPRequestHandler):
    seen: list[dict[str, str]] = []
    location = ""

    def do_GET(self) -> None:
        type(self).seen.append(dict(self.headers))
        if self.location:
            self.send_response(302)
            self.send_header("Location", self.location)
            self.end_headers()
        else:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


def _serve(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def elsewhere() -> Iterator[tuple[str, type[_Recorder]]]:
    recorder = type("Elsewhere", (_Recorder,), {"seen": [], "location": ""})
    for url in _serve(recorder):
        yield url, recorder


@pytest.fixture
def redirector(elsewhere: tuple[str, type[_Recorder]]) -> Iterator[str]:
    target, _ = elsewhere
    recorder = type("Redirector", (_Recorder,), {"seen": [], "location": f"{target}/steal"})
    yield from _serve(recorder)


def test_a_redirect_is_not_followed_and_the_token_goes_nowhere_else(
    redirector: str, elsewhere: tuple[str, type[_Recorder]]
) -> None:
    token = "pci_secret_value_123"
    server = Server(redirector, "api", token)
    with pytest.raises(ServerError, match="redirect") as raised:
        server.request("GET", "baseline")
    assert token not in str(raised.value)
    assert elsewhere[1].seen == []  # the other host got nothing, token or not
    assert token not in repr(server)


def test_an_unreachable_server_names_neither_token_nor_traceback() -> None:
    server = Server("http://127.0.0.1:9", "api", "pci_secret_value_456")
    with pytest.raises(ServerError, match="unreachable") as raised:
        server.request("GET", "runs")
    assert "pci_secret" not in str(raised.value)


def test_baselines_from_server_without_a_server_is_exit_2(perfci_project: PerfciProject) -> None:
    from tests.toy.project import CONFIG, make_toy

    make_toy(perfci_project, CONFIG + "baselines:\n  from: server\n")
    ran = perfci_project.run_inprocess("run", env={"PERFCI_SERVER_URL": "", "PERFCI_PROJECT": ""})
    assert ran.exit_code == ExitCode.USAGE, ran.output
    assert "need server.url and server.project" in ran.stderr
    both = perfci_project.run_inprocess("run", "--baseline-from", "server", "--against", "HEAD")
    assert both.exit_code == ExitCode.USAGE and "exclude each other" in both.stderr


def test_upload_of_an_unjudged_run_is_a_warning_and_a_corrupt_file_exit_2(
    perfci_project: PerfciProject,
) -> None:
    server = ["--server-url", "http://127.0.0.1:9", "--project", "p"]
    perfci_project.write("unjudged.json", '{"perfci_results": 1, "error": "boom"}')
    skipped = perfci_project.run_inprocess("upload", "unjudged.json", *server)
    assert skipped.exit_code == 0 and skipped.stderr.count("warning") == 1, skipped.output
    perfci_project.write("broken.json", '{"perfci_results": 1, "measurements": 3}')
    broken = perfci_project.run_inprocess("upload", "broken.json", *server)
    assert broken.exit_code == ExitCode.USAGE and "broken.json" in broken.stderr, broken.output


def test_upload_facts_come_from_github_actions_then_the_results(tmp_path: Path) -> None:
    import json

    from perfci.remote import upload_facts
    from tests.history.factory import make_run

    result = make_run(0)
    sha = "a" * 40
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_SHA": sha,
        "GITHUB_REF_NAME": "main",
        "GITHUB_REPOSITORY": "o/r",
        "GITHUB_RUN_ID": "5",
    }
    pushed = upload_facts(result, tmp_path, env)
    assert (pushed.commit, pushed.branch, pushed.pr) == (sha, "main", None)
    assert pushed.ci_url == "https://github.com/o/r/actions/runs/5"
    event = tmp_path / "event.json"
    event.write_text(
        json.dumps({"pull_request": {"number": 12, "head": {"sha": "b" * 40}}}), encoding="utf-8"
    )
    pull = upload_facts(
        result,
        tmp_path,
        {
            **env,
            "GITHUB_EVENT_PATH": str(event),
            "GITHUB_HEAD_REF": "feature",
            "GITHUB_REF_NAME": "12/merge",
        },
    )
    assert (pull.commit, pull.branch, pull.pr) == ("b" * 40, "feature", 12)
    explicit = upload_facts(result, tmp_path, env, branch="x", pr=3, commit="c" * 40)
    assert (explicit.commit, explicit.branch, explicit.pr) == ("c" * 40, "x", 3)
    local = upload_facts(result, tmp_path, {})
    assert (local.commit, local.branch, local.pr, local.ci_url) == (
        result.commit,
        result.branch,
        None,
        None,
    )


class _OldServer(BaseHTTPRequestHandler):
    """A server before the suite/checks filter: the newest passing run, whatever it measured."""

    paths: list[str] = []
    result: dict[str, object] = {}

    def do_GET(self) -> None:
        type(self).paths.append(self.path)
        run = {"id": 7, "commit": "0123456789abcdef", "started_at": "2026-11-30T12:00:00+00:00"}
        body = dumps({"run": run, "results": self.result}, indent=None).encode("utf-8")
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.parametrize(
    ("answered", "refused"),
    [
        (replace(make_run(0), checks=("pool", "payload")), "which did not measure latency"),
        (make_run(0, suite="other"), "which is of suite 'other', not 'default'"),
        (make_run(0), None),
    ],
)
def test_a_baseline_run_that_cannot_judge_the_gate_is_refused(
    answered: RunResult, refused: str | None
) -> None:
    class Old(_OldServer):
        paths: list[str] = []
        result = answered.to_dict()

    handler = Old
    for url in _serve(handler):
        remote = RemoteBaseline(Server(url, "api"), "main")
        if refused is not None:
            with pytest.raises(ConfigError, match=refused) as raised:
                remote.load("default", ("pool", "latency"))
            assert "run 7" in str(raised.value) and "older" in str(raised.value)
        else:
            fetched = remote.load("default", ("pool", "latency"))
            assert fetched.run_id == 7 and fetched.page == f"{url}/projects/api/runs/7"
            assert fetched.describe == "run 7 of api@main (commit 0123456789, 2026-11-30 12:00 UTC)"
            assert fetched.baseline.measurements == answered.measurements
        assert handler.paths == [
            "/api/v1/projects/api/baseline?branch=main&suite=default&checks=pool%2Clatency"
        ]
