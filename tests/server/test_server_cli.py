"""`perfci server init/project/token`, the client's refusal to follow redirects, and its
check that a fetched baseline can judge the gate."""

from __future__ import annotations

import json
import socket
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
from perfci.remote import RemoteBaseline, Server, ServerError, server_from
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
    added = perfci_project.run_inprocess(
        "server", "project", "token", "add", "api", "--read-only", *db
    )
    assert added.exit_code == 0 and "read-only token" in added.stderr, added.output
    with HistoryStore(db[1]) as store:
        grant = store.token_grant(digest(added.stdout.strip()))
        assert grant is not None and grant.read_only
    listed = perfci_project.run_inprocess("server", "project", "token", "list", "api", *db)
    assert listed.stdout.splitlines()[-1].endswith("valid  read-only"), listed.stdout
    assert listed.stdout.splitlines()[0].endswith("write")
    public = perfci_project.run_inprocess("server", "project", "create", "web", "--public", *db)
    assert public.exit_code == 0
    with HistoryStore(db[1]) as store:
        assert store.project("web").public is True


@pytest.mark.parametrize(
    ("bind", "message"),
    [
        ("127.0.0.1:99999", "not from 1 to 65535"),
        ("127.0.0.1:0", "not from 1 to 65535"),
        ("nonsense", "is not HOST:PORT"),
        ("127.0.0.1:", "is not HOST:PORT"),
        ("::1:8400", "IPv6 address in brackets"),
        ("[]:8400", "IPv6 address in brackets"),
        ("unix:", "no socket path"),
    ],
)
def test_a_bad_bind_is_one_line_exit_2_before_gunicorn(
    perfci_project: PerfciProject, tmp_path: Path, bind: str, message: str
) -> None:
    db = f"sqlite:///{tmp_path / 's.db'}"
    done = perfci_project.run("server", "--db", db, "--bind", bind, timeout=60)
    assert done.exit_code == ExitCode.USAGE, done.output
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.output and not (tmp_path / "s.db").exists()


def test_an_address_in_use_is_one_line_exit_3(
    perfci_project: PerfciProject, tmp_path: Path
) -> None:
    db = f"sqlite:///{tmp_path / 's.db'}"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        bind = f"127.0.0.1:{taken.getsockname()[1]}"
        done = perfci_project.run("server", "--db", db, "--bind", bind, timeout=60)
    assert done.exit_code == ExitCode.TARGET, done.output
    assert done.stderr.strip().splitlines() == [
        f"perfci: --bind {bind}: cannot bind (Address already in use)"
    ]
    not_a_socket = tmp_path / "plain"
    not_a_socket.write_text("")
    done = perfci_project.run("server", "--db", db, "--bind", f"unix:{not_a_socket}", timeout=60)
    assert done.exit_code == ExitCode.TARGET and "is not a socket" in done.stderr, done.output


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

    no_server = {"PERFCI_SERVER_URL": "", "PERFCI_PROJECT": ""}

    def line_of(text: str) -> int:
        lines = (perfci_project.path / "perfci.yaml").read_text().splitlines()
        return lines.index(text) + 1

    make_toy(perfci_project, CONFIG + "baselines:\n  from: server\n")
    ran = perfci_project.run_inprocess("run", env=no_server)
    assert ran.exit_code == ExitCode.USAGE, ran.output
    assert "need server.url and server.project" in ran.stderr
    assert "$PERFCI_SERVER_URL and $PERFCI_PROJECT" in ran.stderr
    # the line that asks for the server, not the file's first key
    assert f"perfci.yaml:{line_of('  from: server')}:" in ran.stderr, ran.stderr
    server = "server:\n  url: ${PERFCI_SERVER_URL:-}\n  project: api\n"
    make_toy(perfci_project, CONFIG + server + "baselines:\n  from: server\n")
    empty = perfci_project.run_inprocess("run", env=no_server)
    assert empty.exit_code == ExitCode.USAGE, empty.output
    assert f"perfci.yaml:{line_of('  url: ${PERFCI_SERVER_URL:-}')}:" in empty.stderr
    make_toy(perfci_project, CONFIG)
    flag = perfci_project.run_inprocess("run", "--baseline-from", "server", env=no_server)
    assert flag.exit_code == ExitCode.USAGE and "perfci.yaml: baselines from" in flag.stderr
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


def test_a_password_in_the_server_url_is_never_printed(
    perfci_project: PerfciProject, tmp_path: Path
) -> None:
    from tests.history.factory import make_run

    server = Server("http://ci:hunter2pw@127.0.0.1:9/perfci/", "api")
    assert server.url == "http://127.0.0.1:9/perfci/" and "hunter2pw" not in repr(server)
    assert server.endpoint("runs").startswith("http://ci:hunter2pw@127.0.0.1:9/perfci/api/v1/")
    with pytest.raises(ServerError) as raised:
        server.request("GET", "runs")
    assert "hunter2pw" not in str(raised.value) and "127.0.0.1:9" in str(raised.value)
    perfci_project.write("results.json", json.dumps(make_run(0).to_dict()))
    url = "http://ci:hunter2pw@127.0.0.1:9/"
    warned = perfci_project.run_inprocess(
        "upload", "results.json", "--server-url", url, "--project", "p"
    )
    assert warned.exit_code == 0 and "warning" in warned.stderr, warned.output
    assert "hunter2pw" not in warned.output
    refused = perfci_project.run_inprocess(
        "upload", "results.json", "--server-url", "ftp://ci:hunter2pw@h/", "--project", "p"
    )
    assert refused.exit_code == ExitCode.USAGE and "hunter2pw" not in refused.output


def test_a_pasted_token_loses_its_newline_and_a_broken_one_is_named(
    elsewhere: tuple[str, type[_Recorder]], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, recorder = elsewhere
    monkeypatch.setenv("PERFCI_TOKEN", " pci_pasted_123\n")
    pasted = server_from(url, "api", None)
    assert pasted is not None
    pasted.request("GET", "runs")
    assert recorder.seen[-1]["Authorization"] == "Bearer pci_pasted_123"
    configured = server_from(url, "api", "pci_from_yaml\r\n")
    assert configured is not None and configured.token == "pci_from_yaml"
    for token, where in (("pci_a b", "server.token"), ("pci_a\x00b", "server.token")):
        broken = server_from(url, "api", token)
        assert broken is not None
        with pytest.raises(ServerError) as raised:
            broken.request("GET", "runs")
        message = str(raised.value)
        assert f"the token in {where} holds whitespace" in message and "unreachable" not in message
        assert token not in message
    monkeypatch.setenv("PERFCI_TOKEN", "pci_x\ty")
    from_env = server_from(url, "api", None)
    assert from_env is not None
    with pytest.raises(ServerError, match="the token in PERFCI_TOKEN holds whitespace"):
        from_env.request("GET", "runs")
    assert len(recorder.seen) == 1  # a broken token is never sent


def test_a_broken_token_is_a_warning_for_upload_and_exit_2_for_a_baseline(
    perfci_project: PerfciProject, elsewhere: tuple[str, type[_Recorder]]
) -> None:
    from tests.history.factory import make_run
    from tests.toy.project import CONFIG, make_toy

    url, recorder = elsewhere
    env = {"PERFCI_SERVER_URL": url, "PERFCI_PROJECT": "api", "PERFCI_TOKEN": "pci_a b"}
    perfci_project.write("results.json", json.dumps(make_run(0).to_dict()))
    warned = perfci_project.run_inprocess("upload", "results.json", env=env)
    assert warned.exit_code == 0 and "PERFCI_TOKEN holds whitespace" in warned.stderr
    make_toy(perfci_project, CONFIG)
    fetched = perfci_project.run_inprocess("run", "--baseline-from", "server", env=env)
    assert fetched.exit_code == ExitCode.USAGE, fetched.output
    assert "PERFCI_TOKEN holds whitespace" in fetched.stderr
    assert "unreachable" not in fetched.output and recorder.seen == []


def test_a_tls_failure_hints_at_the_ca_bundle(elsewhere: tuple[str, type[_Recorder]]) -> None:
    url, _ = elsewhere  # plain HTTP: a TLS handshake with it fails
    with pytest.raises(ServerError, match="set REQUESTS_CA_BUNDLE") as raised:
        Server(url.replace("http://", "https://"), "api").request("GET", "runs")
    assert "SSLError" in str(raised.value)
