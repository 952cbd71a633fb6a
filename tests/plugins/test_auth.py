"""Logins, form bodies and chained requests end to end, on the auth app.

Each check must measure the logged-in page (queries, rows, bytes of the real
page), in-process and over HTTP, on every engine where the check reads the
database; a page that answers the login redirect fails the gate.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from perfci.errors import ExitCode
from perfci.pytest_plugin import PerfciProject
from tests.apps.auth_app import (
    SESSION_ENDPOINTS,
    TOKEN_AUTH,
    TOKEN_ENDPOINTS,
    auth_config,
    make_auth_project,
)


def measured(project: PerfciProject) -> dict[str, dict[str, Any]]:
    results = json.loads((project.path / "results.json").read_text())
    return {m["name"]: m for m in results["measurements"]}


def notes(measurement: dict[str, Any]) -> str:
    return "\n".join(e["text"] for e in measurement.get("evidence", []))


@pytest.fixture
def project(perfci_project: PerfciProject) -> PerfciProject:
    return perfci_project


def test_a_session_login_with_csrf_is_measured_logged_in(
    project: PerfciProject, database_url: str
) -> None:
    make_auth_project(
        project,
        auth_config(
            database_url,
            checks="  n_plus_one: {}\n  payload: {}\n  indexes: {}\n  cache: {}\n",
        ),
    )
    result = project.run_inprocess("run", "--json", "results.json")
    assert result.exit_code == ExitCode.OK, result.output
    values = measured(project)
    # The page itself: its SELECT of alice's 5 posts, not the 302 to the login form.
    queries = values["n_plus_one/GET /index/queries"]
    assert queries["value"] == 1
    assert "FROM auth_posts WHERE auth_posts.user_id" in notes(queries)
    assert values["n_plus_one/GET /index/rows"]["value"] == 5
    assert values["n_plus_one/GET /index/failed_requests"]["value"] == 0
    payload = values["payload/GET /index/bytes"]
    assert payload["value"] == len(
        "<ul>" + "".join(f"<li>alice post {i}</li>" for i in range(5)) + "</ul>"
    )
    assert "status 200, text/html" in notes(payload)
    assert values["indexes/GET /index/failed_requests"]["value"] == 0
    # The page is cached per user: the second request of the sequence hits.
    assert (
        values["cache/GET /index/misses"]["value"],
        values["cache/GET /index/hits"]["value"],
    ) == (1, 1)


def test_without_a_login_the_redirect_fails_the_gate(project: PerfciProject) -> None:
    """The bug this fixes: the login redirect was measured (0 queries) and the run passed."""
    make_auth_project(project, auth_config(auth=""))
    result = project.run_inprocess("run", "--json", "results.json")
    assert result.exit_code == ExitCode.REGRESSION, result.output
    assert "GET /index → 302: a redirect to the login page /auth/login" in result.output
    assert measured(project)["payload/GET /index/failed_requests"]["value"] == 2


def test_a_failing_login_is_one_line_exit_3(project: PerfciProject) -> None:
    make_auth_project(project, auth_config())
    result = project.run_inprocess("run", env={"AUTH_PASSWORD": "wrong"})
    assert result.exit_code == ExitCode.TARGET, result.output
    (line,) = [x for x in result.stderr.splitlines() if not x.startswith("perfci [")]
    assert line == (
        "perfci: target.auth: the login failed: POST /auth/login answered HTTP 302, "
        "a redirect to the login page /auth/login (wrong credentials or CSRF token?)"
    )
    assert "Traceback" not in result.output


def test_a_token_login_and_a_create_then_get_chain(
    project: PerfciProject, database_url: str
) -> None:
    make_auth_project(
        project, auth_config(database_url, auth=TOKEN_AUTH, endpoints=TOKEN_ENDPOINTS)
    )
    result = project.run_inprocess("run", "--json", "results.json")
    assert result.exit_code == ExitCode.OK, result.output
    values = measured(project)
    chained = values["n_plus_one/GET /api/posts/{post_id}/queries"]
    # The token's user and the post: the setup POST (its INSERT) is not counted.
    assert chained["value"] == 2, notes(chained)
    assert "INSERT" not in notes(chained)
    assert values["n_plus_one/GET /api/posts/{post_id}/failed_requests"]["value"] == 0
    # The token's user, 5 seeded posts and the one the chain created before any check.
    assert values["n_plus_one/GET /api/me/posts/rows"]["value"] == 1 + 6
    body = '{"body":"created by perfci","id":6}\n'
    assert values["payload/GET /api/posts/{post_id}/bytes"]["value"] == len(body)
    assert values["payload/POST /api/posts/failed_requests"]["value"] == 0


def test_http_checks_log_in_each_client(project: PerfciProject) -> None:
    """latency's HTTP client and each Locust user log in over HTTP themselves.

    The load spec carries no credentials (only target.auth): a user that did
    not log in would get the login redirect, a failed request.
    """
    checks = (
        "  latency: {mode: http, samples: 20, http_samples: 20, warmup: 2}\n"
        "  load: {stages: [2], duration: 2, spawn_rate: 2}\n"
    )
    make_auth_project(project, auth_config(checks=checks))
    result = project.run_inprocess("run", "--json", "results.json")
    assert result.exit_code == ExitCode.OK, result.output
    values = measured(project)
    assert "latency/GET /index/http_p50" in values
    (ratio,) = [m for name, m in values.items() if name.endswith("failure_ratio")]
    assert ratio["value"] == 0


def test_http_checks_refuse_the_login_redirect(project: PerfciProject) -> None:
    checks = (
        "  latency: {mode: http, samples: 20, http_samples: 20, warmup: 2}\n"
        "  load: {stages: [2], duration: 2, spawn_rate: 2}\n"
    )
    make_auth_project(project, auth_config(auth="", checks=checks))
    result = project.run_inprocess("run", "--only", "load", "--json", "results.json")
    assert result.exit_code == ExitCode.REGRESSION, result.output
    (ratio,) = [m for name, m in measured(project).items() if name.endswith("failure_ratio")]
    assert ratio["value"] == 1
    result = project.run_inprocess("run", "--only", "latency")
    assert result.exit_code == ExitCode.TARGET, result.output
    assert "GET /index answered HTTP 302, a redirect to the login page" in result.stderr


def test_a_token_api_over_http(project: PerfciProject) -> None:
    checks = "  latency: {mode: http, samples: 20, http_samples: 20, warmup: 2}\n"
    make_auth_project(
        project, auth_config(auth=TOKEN_AUTH, endpoints=TOKEN_ENDPOINTS, checks=checks)
    )
    result = project.run_inprocess("run", "--json", "results.json")
    assert result.exit_code == ExitCode.OK, result.output
    assert "latency/GET /api/posts/{post_id}/http_p50" in measured(project)


@pytest.mark.parametrize(
    ("need", "message"),
    [
        (
            "POST /api/nothing -> $.id",
            "GET /api/posts/{post_id}: needs.post_id: POST /api/nothing answered HTTP 404",
        ),
        (
            "POST /api/posts -> $.nope",
            "GET /api/posts/{post_id}: needs.post_id: $.nope matched no string or number "
            "in the answer of POST /api/posts",
        ),
    ],
)
def test_a_failing_need_names_the_endpoint(project: PerfciProject, need: str, message: str) -> None:
    endpoints = f"""
  endpoints:
    - request: GET /api/posts/{{post_id}}
      needs: {{post_id: "{need}"}}
"""
    make_auth_project(project, auth_config(auth=TOKEN_AUTH, endpoints=endpoints))
    result = project.run_inprocess("run")
    assert result.exit_code == ExitCode.TARGET, result.output
    assert f"perfci: {message}" in result.stderr


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


def test_against_logs_in_on_both_sides(project: PerfciProject) -> None:
    root = make_auth_project(
        project, auth_config(endpoints=SESSION_ENDPOINTS, checks="  n_plus_one: {}\n")
    ).path
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "t@example.com")
    git(root, "config", "user.name", "t")
    git(root, "add", ".")
    git(root, "commit", "-qm", "base")
    git(root, "checkout", "-qb", "feature")
    app = root / "authapp.py"
    app.write_text(app.read_text().replace('int(app.config.get("AUTH_EXTRA_QUERIES", 0))', "2"))
    git(root, "commit", "-qam", "two more queries behind the login")
    result = project.run_inprocess("run", "--against", "merge-base", "--json", "results.json")
    assert result.exit_code == ExitCode.REGRESSION, result.output
    verdicts = json.loads((root / "results.json").read_text())["verdicts"]
    by_name = {v["current"]["name"]: v for v in verdicts}
    queries = by_name["n_plus_one/GET /index/queries"]
    assert queries["outcome"] == "regression"
    assert (queries["baseline"]["value"], queries["current"]["value"]) == (1, 3)


def test_the_instructions_worker_sends_the_login(project: PerfciProject) -> None:
    """The callgrind worker is another process: it gets each request as built, login included."""
    checks = "  instructions: {warmup: 2, requests: 1}\n"
    make_auth_project(project, auth_config(checks=checks))
    result = project.run_inprocess("run", "--json", "results.json")
    if "instructions" in json.loads((project.path / "results.json").read_text())["skipped_checks"]:
        pytest.skip("valgrind or a C compiler is missing")
    assert result.exit_code == ExitCode.OK, result.output
    assert measured(project)["instructions/GET /index/Ir"]["value"] > 0
    make_auth_project(project, auth_config(auth="", checks=checks))
    result = project.run_inprocess("run")
    assert result.exit_code == ExitCode.TARGET, result.output
    assert "GET /index answered HTTP 302, a redirect to the login page" in result.stderr


@pytest.mark.postgres
def test_a_token_in_a_plan_is_redacted_before_anything_keeps_it(
    project: PerfciProject, postgres_url: str
) -> None:
    """PostgreSQL's EXPLAIN shows bound values: the token lookup's plan carries the token."""
    make_auth_project(
        project,
        auth_config(
            postgres_url,
            auth=TOKEN_AUTH,
            endpoints=TOKEN_ENDPOINTS,
            checks="  indexes: {min_rows: 0}\n",
        ),
    )
    result = project.run_inprocess("run", "--json", "results.json", "--html", "report.html")
    assert result.exit_code in (ExitCode.OK, ExitCode.REGRESSION), result.output
    written = (project.path / "results.json").read_text()
    assert "[redacted]" in written  # the lookup's filter was there, without its value
    for text in (written, (project.path / "report.html").read_text(), result.output):
        assert re.search(r"token\)?(::text)? = '[0-9a-f]{32}'", text) is None
