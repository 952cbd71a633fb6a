"""The real server under gunicorn (SQLite and PostgreSQL) with the real CLI on the toy project:
upload, list, baseline, and `perfci run` gating against the server's baseline."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from perfci.errors import ExitCode
from perfci.process import start_process_group, stop_process_group
from perfci.pytest_plugin import PerfciProject
from tests.server.helpers import Projects, make_projects
from tests.toy.project import CONFIG as TOY_CONFIG
from tests.toy.project import make_toy

pytestmark = pytest.mark.slow

CONFIG = (
    TOY_CONFIG
    + """
server:
  url: ${PERFCI_SERVER_URL:-}
  project: alpha
  token: ${PERFCI_TOKEN:-}
baselines:
  from: server
  branch: main
  required: false
"""
)


@dataclass(frozen=True)
class Live:
    url: str
    projects: Projects

    def env(self, project: str = "alpha", url: str | None = None) -> dict[str, str]:
        return {
            "PERFCI_SERVER_URL": url or self.url,
            "PERFCI_TOKEN": self.projects.tokens[project],
            # In CI the suite itself runs under GitHub Actions: not this run's branch and PR.
            "GITHUB_ACTIONS": "",
        }

    def get(self, path: str, project: str = "alpha") -> requests.Response:
        return requests.get(
            f"{self.url}/api/v1/projects/{project}/{path}",
            headers=self.projects.auth(project),
            timeout=30,
        )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def live(server_db: str, tmp_path: Path) -> Iterator[Live]:
    """`perfci server` (gunicorn, 2 workers) on the store, as the docs start it."""
    projects = make_projects(server_db)
    port = free_port()
    log = (tmp_path / "server.log").open("wb")
    command = [sys.executable, "-m", "perfci", "server", "--db", server_db]
    process = start_process_group(
        [*command, "--bind", f"127.0.0.1:{port}", "--workers", "2"],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{url}/api/v1/health", timeout=5).ok:
                    break
            except (requests.ConnectionError, requests.Timeout):  # workers still booting
                pass
            assert process.poll() is None, (tmp_path / "server.log").read_text()
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
        yield Live(url, projects)
    finally:
        stop_process_group(process)
        log.close()


@pytest.fixture
def toy(perfci_project: PerfciProject) -> PerfciProject:
    """The toy project as a git repository on branch main (commit and branch for uploads)."""
    project = make_toy(perfci_project, CONFIG)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "toy"]):
        subprocess.run([*git, *args], cwd=project.path, check=True, capture_output=True)
    return project


def test_upload_list_baseline_and_gate_against_the_server(live: Live, toy: PerfciProject) -> None:
    env = live.env()
    token = env["PERFCI_TOKEN"]
    outputs: list[str] = []

    # No baseline on the server yet: the first run is judged against the (optional) file.
    first = toy.run("run", "--baseline-from", "file", "--upload", env=env)
    outputs.append(first.output)
    assert first.exit_code == ExitCode.OK, first.output
    assert f"uploaded to {live.url}/projects/alpha/runs/" in first.stderr

    # The gate now takes its baseline from the server (baselines.from: server).
    second = toy.run("run", "--upload", "--json", "results.json", env=env)
    outputs.append(second.output)
    assert second.exit_code == ExitCode.OK, second.output
    results = json.loads((toy.path / "results.json").read_text(encoding="utf-8"))
    first_id = live.get("runs").json()["runs"][-1]["id"]  # the second is uploaded too
    assert results["baseline_path"] == f"{live.url}/projects/alpha/runs/{first_id}"
    assert f"baseline: run {first_id} of alpha@main (commit " in second.stderr

    # An injected regression fails against the server's baseline, and is uploaded as failed.
    regressed = toy.run("run", "--upload", env={**env, "TOY_EXTRA_QUERIES": "5"})
    outputs.append(regressed.output)
    assert regressed.exit_code == ExitCode.REGRESSION, regressed.output
    assert "REGRESSION" in regressed.stdout

    runs = live.get("runs").json()["runs"]
    assert [r["status"] for r in runs] == ["failed", "passed", "passed"]
    assert {r["branch"] for r in runs} == {"main"}
    assert all(r["commit"] and len(r["commit"]) == 40 for r in runs)
    baseline = live.get("baseline?branch=main").json()
    assert baseline["run"]["id"] == runs[1]["id"]  # the newest passing run, not the failure

    # The failure did not become the baseline: the next healthy run passes.
    again = toy.run("run", env=env)
    outputs.append(again.output)
    assert again.exit_code == ExitCode.OK, again.output

    # `perfci upload` of a results file, with explicit facts.
    uploaded = toy.run("upload", "results.json", "--branch", "feature", "--pr", "12", env=env)
    outputs.append(uploaded.output)
    assert uploaded.exit_code == 0, uploaded.output
    feature = live.get("runs?branch=feature").json()["runs"]
    assert len(feature) == 1 and feature[0]["pr"] == 12

    assert not any(token in text for text in outputs)


def test_the_gate_takes_the_newest_run_that_measured_its_checks(
    live: Live, toy: PerfciProject
) -> None:
    """The new-user trial (issue #17): a partial upload newer than a full one must not be
    the baseline, or every metric of the unmeasured checks is "new" and the gate passes."""
    env = live.env()
    toy.write_config(CONFIG.replace("  toy_queries: {}\n", "  toy_queries: {}\n  toy_http: {}\n"))

    # Only a partial run on main: no run measured toy_queries, so no baseline (exit 2).
    partial = toy.run("run", "--baseline-from", "file", "--only", "toy_http", "--upload", env=env)
    assert partial.exit_code == ExitCode.OK, partial.output
    none = toy.run("run", "--only", "toy_queries", env=env)
    assert none.exit_code == ExitCode.USAGE, none.output
    assert (
        "perfci: cannot fetch the baseline of 'main': perfci server "
        f"{live.url}: 404: project 'alpha': none of the newest 200 passing runs of suite "
        "'toy' for branch 'main' measured toy_queries"
    ) in none.stderr
    assert "Traceback" not in none.output

    # A full run, then a partial one and another suite's run, both newer.
    full = toy.run("run", "--baseline-from", "file", "--upload", env=env)
    assert full.exit_code == ExitCode.OK, full.output
    full_id = live.get("runs").json()["runs"][0]["id"]
    newer = toy.run(
        "run",
        *("--baseline-from", "file", "--only", "toy_http", "--upload", "--json", "partial.json"),
        env=env,
    )
    assert newer.exit_code == ExitCode.OK, newer.output
    results = json.loads((toy.path / "partial.json").read_text(encoding="utf-8"))
    results["suite"] = "other"
    results["checks"] = ["toy_queries", "toy_http"]
    (toy.path / "other.json").write_text(json.dumps(results), encoding="utf-8")
    assert toy.run("upload", "other.json", env=env).exit_code == 0
    runs = live.get("runs").json()["runs"]
    assert [r["suite"] for r in runs[:3]] == ["other", "toy", "toy"] and runs[2]["id"] == full_id

    # The gate of toy_queries uses the full run and FAILS on the regression.
    regressed = toy.run(
        "run",
        "--only",
        "toy_queries",
        "--json",
        "results.json",
        env={**env, "TOY_EXTRA_QUERIES": "5"},
    )
    assert regressed.exit_code == ExitCode.REGRESSION, regressed.output
    assert "REGRESSION" in regressed.stdout
    assert f"baseline: run {full_id} of alpha@main (commit " in regressed.stderr
    judged = json.loads((toy.path / "results.json").read_text(encoding="utf-8"))
    assert judged["baseline_path"] == f"{live.url}/projects/alpha/runs/{full_id}"
    assert not [v for v in judged["verdicts"] if v["outcome"] == "new"]

    # A fact that must not change, read back from the server (toy_http's status code 200:
    # an integer in the results, a float in the store), is unchanged, not a regression.
    facts = toy.run("run", "--only", "toy_http", env=env)
    assert facts.exit_code == ExitCode.OK, facts.output


def test_another_projects_token_is_refused_and_never_shown(live: Live, toy: PerfciProject) -> None:
    env = live.env("beta")  # beta's token, alpha's project
    fetched = toy.run("run", env=env)
    assert fetched.exit_code == ExitCode.USAGE, fetched.output
    assert "cannot fetch the baseline of 'main'" in fetched.stderr
    assert "403" in fetched.stderr
    uploaded = toy.run("run", "--baseline-from", "file", "--upload", env=env)
    assert uploaded.exit_code == ExitCode.OK, uploaded.output
    warnings = [line for line in uploaded.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1 and "403" in warnings[0], uploaded.stderr
    for text in (fetched.output, uploaded.output):
        assert env["PERFCI_TOKEN"] not in text
    assert live.get("runs").json()["runs"] == []


def test_an_unreachable_server_is_one_warning_for_uploads_and_exit_2_for_baselines(
    live: Live, toy: PerfciProject
) -> None:
    env = live.env(url=f"http://127.0.0.1:{free_port()}")
    assert toy.run("baseline", "update").exit_code == 0  # a file to gate against
    passed = toy.run("run", "--baseline-from", "file", "--upload", env=env)
    assert passed.exit_code == ExitCode.OK, passed.output
    warnings = [line for line in passed.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1 and "unreachable" in warnings[0], passed.stderr
    failed = toy.run(
        "run", "--baseline-from", "file", "--upload", env={**env, "TOY_EXTRA_QUERIES": "5"}
    )
    assert failed.exit_code == ExitCode.REGRESSION, failed.output  # the verdict stands
    fetched = toy.run("run", env=env)
    assert fetched.exit_code == ExitCode.USAGE, fetched.output
    assert "unreachable" in fetched.stderr
    assert "Traceback" not in fetched.output + passed.output
