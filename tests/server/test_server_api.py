"""The /api/v1 routes in-process (Flask's test client) on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from perfci.history import store as store_module
from perfci.result import RunResult
from perfci.server import api as api_module
from perfci.server.upload import MAX_BYTES, MAX_MEASUREMENTS
from tests.history.factory import make_run
from tests.server.helpers import Client, Projects

SHA = "0123456789abcdef0123456789abcdef01234567"


def body(result: RunResult, **facts: Any) -> dict[str, Any]:
    return {"results": result.to_dict(), **facts}


def upload(
    client: Client, projects: Projects, project: str, result: RunResult, **facts: Any
) -> Any:
    reply = client.post(
        f"/api/v1/projects/{project}/runs",
        json=body(result, **facts),
        headers=projects.auth(project),
    )
    return reply


def passing(index: int, **changes: Any) -> RunResult:
    return dataclasses.replace(make_run(index), exit_code=0, **changes)


def failing(index: int, **changes: Any) -> RunResult:
    return dataclasses.replace(make_run(index, regressed=True), exit_code=1, **changes)


def test_upload_list_get_and_filter(client: Client, projects: Projects) -> None:
    first = upload(
        client,
        projects,
        "alpha",
        passing(0),
        branch="main",
        commit=SHA,
        pr=7,
        ci_url="https://ci.example/runs/1",
    )
    assert first.status_code == 201, first.json
    assert first.headers["Location"] == first.json["url"]
    upload(client, projects, "alpha", failing(1), branch="feature")
    upload(client, projects, "beta", passing(2), branch="main")

    listed = client.get("/api/v1/projects/alpha/runs", headers=projects.auth("alpha")).json
    assert [r["status"] for r in listed["runs"]] == ["failed", "passed"]  # newest first
    assert listed["next"] is None
    run = listed["runs"][1]
    assert (run["commit"], run["branch"], run["pr"], run["ci_url"]) == (
        SHA,
        "main",
        7,
        "https://ci.example/runs/1",
    )
    only = client.get(
        "/api/v1/projects/alpha/runs?status=failed&branch=feature", headers=projects.auth("alpha")
    ).json["runs"]
    assert len(only) == 1 and only[0]["branch"] == "feature"
    assert only[0]["counts"]["regression"] >= 1
    assert (
        client.get(
            "/api/v1/projects/alpha/runs?branch=nothing", headers=projects.auth("alpha")
        ).json["runs"]
        == []
    )

    detail = client.get(run["url"], headers=projects.auth("alpha")).json
    assert detail["run"]["id"] == run["id"]
    assert RunResult.from_dict(detail["results"]).measurements == passing(0).measurements
    verdicts = detail["results"]["verdicts"]
    assert verdicts and {"name", "outcome", "reason"} <= set(verdicts[0])


def test_keyset_pagination_and_time_filter(client: Client, projects: Projects) -> None:
    for index in range(5):
        assert upload(client, projects, "open", passing(index), branch="main").status_code == 201
    seen: list[int] = []
    url = "/api/v1/projects/open/runs?limit=2"
    while True:
        page = client.get(url).json
        seen.extend(r["id"] for r in page["runs"])
        if page["next"] is None:
            break
        url = f"/api/v1/projects/open/runs?limit=2&before={page['next']}"
    assert len(seen) == 5 and seen == sorted(seen, reverse=True)
    # make_run(i) started on 2026-11-20 + i days
    since = client.get("/api/v1/projects/open/runs?since=2026-11-22T00:00:00Z").json["runs"]
    assert len(since) == 3
    until = client.get("/api/v1/projects/open/runs?until=2026-11-22T00:00:00").json["runs"]
    assert len(until) == 2
    assert client.get("/api/v1/projects/open/runs?limit=0").status_code == 400
    assert client.get("/api/v1/projects/open/runs?status=green").status_code == 400
    assert client.get("/api/v1/projects/open/runs?since=yesterday").status_code == 400


def test_baseline_of_a_branch_is_its_newest_passing_run(client: Client, projects: Projects) -> None:
    auth = projects.auth("alpha")
    assert client.get("/api/v1/projects/alpha/baseline", headers=auth).status_code == 404
    old = upload(client, projects, "alpha", passing(0), branch="main").json["id"]
    new = upload(client, projects, "alpha", passing(1), branch="main").json["id"]
    upload(client, projects, "alpha", failing(2), branch="main")  # failed: never a baseline
    upload(client, projects, "alpha", passing(4), branch="main", pr=9)  # a PR's: never either
    upload(client, projects, "alpha", passing(3), branch="other")
    found = client.get("/api/v1/projects/alpha/baseline?branch=main", headers=auth).json
    assert found["run"]["id"] == new != old
    default = client.get("/api/v1/projects/alpha/baseline", headers=auth).json
    assert default["run"]["id"] == new
    missing = client.get("/api/v1/projects/alpha/baseline?branch=nope", headers=auth)
    assert missing.status_code == 404 and "no passing run" in missing.json["error"]


def test_baseline_of_a_commit_is_the_newest_default_branch_run_at_or_before_it(
    client: Client, projects: Projects
) -> None:
    auth = projects.auth("alpha")
    commits = [f"{i:040x}" for i in range(1, 5)]
    ids = [
        upload(
            client,
            projects,
            "alpha",
            passing(i),
            branch="main",
            commit=commits[i],
            committed_at=f"2026-11-2{i}T12:00:00Z",
        ).json["id"]
        for i in range(3)
    ]
    # A PR run of a commit made after commits[1] but before commits[2]: not on main.
    upload(
        client,
        projects,
        "alpha",
        passing(3),
        branch="pr",
        commit=commits[3],
        committed_at="2026-11-21T18:00:00Z",
    )
    at = client.get(f"/api/v1/projects/alpha/baseline?commit={commits[1]}", headers=auth).json
    assert at["run"]["id"] == ids[1]
    before = client.get(f"/api/v1/projects/alpha/baseline?commit={commits[3]}", headers=auth).json
    assert before["run"]["id"] == ids[1]
    unknown = client.get("/api/v1/projects/alpha/baseline?commit=" + "f" * 40, headers=auth)
    assert unknown.status_code == 404
    both = client.get(
        f"/api/v1/projects/alpha/baseline?commit={commits[1]}&branch=main", headers=auth
    )
    assert both.status_code == 400


def test_trend_and_compare(client: Client, projects: Projects) -> None:
    auth = projects.auth("alpha")
    ids = [
        upload(client, projects, "alpha", passing(i), branch="main").json["id"] for i in range(3)
    ]
    bad = upload(client, projects, "alpha", failing(3), branch="main").json["id"]
    metric = next(m.name for m in make_run(0).measurements if m.name.endswith("/queries"))
    points = client.get(f"/api/v1/projects/alpha/trend?metric={metric}", headers=auth).json
    assert [p["run"] for p in points["points"]] == [*ids, bad]  # oldest first
    assert points["points"][-1]["status"] == "failed"
    assert points["points"][-1]["value"] > points["points"][0]["value"]
    assert client.get("/api/v1/projects/alpha/trend", headers=auth).status_code == 400

    compared = client.get(
        f"/api/v1/projects/alpha/compare?base={ids[0]}&head={bad}", headers=auth
    ).json
    assert compared["failed"] is True
    assert compared["counts"]["regression"] >= 1
    same = client.get(
        f"/api/v1/projects/alpha/compare?base={ids[0]}&head={ids[0]}", headers=auth
    ).json
    assert same["failed"] is False
    assert (
        client.get(f"/api/v1/projects/alpha/compare?base={ids[0]}", headers=auth).status_code == 400
    )


def test_tokens_guard_writes_and_private_reads(client: Client, projects: Projects) -> None:
    run = body(passing(0), branch="main")
    url = "/api/v1/projects/alpha/runs"
    assert client.post(url, json=run).status_code == 401
    assert (
        client.post(url, json=run, headers={"Authorization": "Bearer pci_wrong"}).status_code == 403
    )
    # One project's token can neither write nor read another's runs.
    assert client.post(url, json=run, headers=projects.auth("beta")).status_code == 403
    run_id = client.post(url, json=run, headers=projects.auth("alpha")).json["id"]
    for path in ("runs", f"runs/{run_id}", "baseline", "trend?metric=x", "compare?base=1&head=1"):
        assert client.get(f"/api/v1/projects/alpha/{path}").status_code == 401, path
        denied = client.get(f"/api/v1/projects/alpha/{path}", headers=projects.auth("beta"))
        assert denied.status_code == 403, path
        assert denied.is_json and "error" in denied.json
    # A run of alpha is not found under beta, even with beta's token.
    assert (
        client.get(
            f"/api/v1/projects/beta/runs/{run_id}", headers=projects.auth("beta")
        ).status_code
        == 404
    )
    # A public project is readable without a token, writable only with its own.
    assert client.get("/api/v1/projects/open/runs").status_code == 200
    assert client.post("/api/v1/projects/open/runs", json=run).status_code == 401
    assert (
        client.post(
            "/api/v1/projects/open/runs", json=run, headers=projects.auth("alpha")
        ).status_code
        == 403
    )
    assert client.get("/api/v1/projects/nothing/runs").status_code == 404


def test_a_revoked_token_is_refused(client: Client, projects: Projects, server_db: str) -> None:
    from perfci.history import HistoryStore

    with HistoryStore(server_db) as store:
        (token,) = store.tokens("alpha")
        assert store.revoke_token("alpha", token.id)
        assert not store.revoke_token("alpha", token.id)
    reply = client.get("/api/v1/projects/alpha/runs", headers=projects.auth("alpha"))
    assert reply.status_code == 403


def test_invalid_uploads_are_4xx_with_a_json_error(client: Client, projects: Projects) -> None:
    url = "/api/v1/projects/alpha/runs"
    auth = projects.auth("alpha")
    good = passing(0).to_dict()

    def post(data: Any, status: int) -> str:
        text = data if isinstance(data, str | bytes) else json.dumps(data)
        reply = client.post(url, data=text, headers={**auth, "Content-Type": "application/json"})
        assert reply.status_code == status, (reply.status_code, reply.data[:300])
        assert reply.is_json and isinstance(reply.json["error"], str)
        return str(reply.json["error"])

    post("{not json", 422)
    post(b"\xff\xfe", 422)
    post("[1, 2]", 422)
    post({"results": {"suite": "x"}}, 422)
    post({"results": good, "extra": 1}, 422)
    post({"results": {**good, "perfci_results": 99}}, 422)
    post(
        {
            "results": {
                **good,
                "measurements": [{"name": "x", "value": "NaN", "unit": "ms", "direction": "lower"}],
            }
        },
        422,
    )
    post({"results": {**good, "error": "check crashed"}}, 422)
    post({"results": good, "commit": "not-a-sha"}, 422)
    post({"results": good, "pr": -1}, 422)
    post({"results": good, "pr": True}, 422)
    post({"results": good, "ci_url": "javascript:alert(1)"}, 422)
    post({"results": good, "branch": "b" * 300}, 422)
    post({"results": good, "committed_at": "soon"}, 422)
    post({"results": {**good, "suite": "s" * 500}}, 422)
    long_name = {**good["measurements"][0], "name": "x" * 2000}
    post({"results": {**good, "measurements": [long_name]}}, 422)
    for statistic in ("p" + "9" * 40, "max", 95):  # a statistic fits its column or is refused
        bad = {**good["measurements"][0], "statistic": statistic}
        assert "statistic" in post({"results": {**good, "measurements": [bad]}}, 422)
    long_unit = {**good["measurements"][0], "unit": "u" * 41}
    post({"results": {**good, "measurements": [long_unit]}}, 422)
    evidence = {**good["measurements"][0], "evidence": [{"label": "sql", "text": "x" * 70_000}]}
    post({"results": {**good, "measurements": [evidence]}}, 422)
    many = [{**good["measurements"][0], "name": f"m/{i}"} for i in range(MAX_MEASUREMENTS + 1)]
    assert "limit" in post({"results": {**good, "measurements": many}}, 413)
    assert "size limit" in post("[" + " " * MAX_BYTES + "]", 413)
    # nothing was stored
    assert client.get(url, headers=auth).json["runs"] == []


def test_unknown_routes_and_methods_answer_json(client: Client) -> None:
    assert client.get("/api/v1/nothing").json == {"error": "Not Found"}
    reply = client.delete("/api/v1/projects/open/runs")
    assert reply.status_code == 405 and reply.is_json
    assert client.get("/api/v1/health").json == {"status": "ok"}


def test_a_gates_baseline_is_of_its_suite_and_measured_every_check_it_judges(
    client: Client, projects: Projects
) -> None:
    auth = projects.auth("alpha")
    url = "/api/v1/projects/alpha/baseline"
    full, partial, other = (
        upload(client, projects, "alpha", run, branch="main", commit=f"{i + 1:040x}").json["id"]
        for i, run in enumerate(
            [
                passing(0),
                passing(1, checks=("payload",)),  # `perfci run --only payload`, newer
                passing(2, suite="other"),  # another suite, newest
            ]
        )
    )
    # Old clients send neither: the newest passing run, whatever it measured.
    assert client.get(url, headers=auth).json["run"]["id"] == other
    judged = client.get(f"{url}?suite=default&checks=payload,latency", headers=auth).json
    assert judged["run"]["id"] == full
    assert client.get(f"{url}?suite=default&checks=payload", headers=auth).json["run"]["id"] == (
        partial
    )
    assert client.get(f"{url}?suite=default", headers=auth).json["run"]["id"] == partial
    assert client.get(f"{url}?checks=latency", headers=auth).json["run"]["id"] == other

    missing = client.get(f"{url}?suite=default&checks=payload,tail", headers=auth)
    assert missing.status_code == 404
    assert missing.json["error"] == (
        "project 'alpha': none of the newest 200 passing runs of suite 'default' "
        "for branch 'main' measured payload, tail"
    )
    none = client.get(f"{url}?suite=nope", headers=auth)
    assert none.status_code == 404
    assert (
        none.json["error"] == "project 'alpha' has no passing run of suite 'nope' for branch 'main'"
    )


def test_a_run_that_skipped_a_check_did_not_measure_it(client: Client, projects: Projects) -> None:
    auth = projects.auth("alpha")
    upload(client, projects, "alpha", passing(0, skipped_checks=("latency",)), branch="main")
    found = client.get("/api/v1/projects/alpha/baseline?checks=latency", headers=auth)
    assert found.status_code == 404 and "measured latency" in found.json["error"]


def test_a_baseline_for_a_commit_is_sought_among_runs_that_measured_the_checks(
    client: Client, projects: Projects
) -> None:
    auth = projects.auth("alpha")
    commits = [f"{i:040x}" for i in range(1, 4)]
    ids = [
        upload(
            client,
            projects,
            "alpha",
            run,
            branch="main",
            commit=commits[i],
            committed_at=f"2026-11-2{i}T12:00:00Z",
        ).json["id"]
        for i, run in enumerate([passing(0), passing(1, checks=("pool",)), passing(2)])
    ]
    at = f"/api/v1/projects/alpha/baseline?commit={commits[1]}"
    assert client.get(at, headers=auth).json["run"]["id"] == ids[1]  # its own run
    # Its own run measured pool only: the newest earlier one that measured latency.
    assert client.get(f"{at}&checks=latency", headers=auth).json["run"]["id"] == ids[0]
    first = client.get(
        f"/api/v1/projects/alpha/baseline?commit={commits[0]}&checks=tail", headers=auth
    )
    assert first.status_code == 404
    assert f"for commit {commits[0]} measured tail" in first.json["error"]


def test_the_baseline_is_sought_among_a_bounded_number_of_runs(
    client: Client, projects: Projects, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_module, "BASELINE_SCAN", 2)
    monkeypatch.setattr(api_module, "BASELINE_SCAN", 2)
    auth = projects.auth("alpha")
    url = "/api/v1/projects/alpha/baseline?checks=latency"
    full = upload(client, projects, "alpha", passing(0), branch="main").json["id"]
    upload(client, projects, "alpha", passing(1, checks=("pool",)), branch="main")
    assert client.get(url, headers=auth).json["run"]["id"] == full  # the 2nd newest
    upload(client, projects, "alpha", passing(2, checks=("pool",)), branch="main")
    beyond = client.get(url, headers=auth)
    assert beyond.status_code == 404
    assert "none of the newest 2 passing runs" in beyond.json["error"]


def test_ids_and_numbers_beyond_the_columns_are_4xx_not_a_store_error(
    client: Client, projects: Projects
) -> None:
    """Ids past an Integer column (2**31 on PostgreSQL, 2**63 on SQLite) never reach a query."""
    assert upload(client, projects, "open", passing(0)).status_code == 201
    for number in (2**31, 2**63, 2**64, 10**30):
        for path in (
            f"/api/v1/projects/open/runs/{number}",
            f"/projects/open/runs/{number}",
            f"/projects/open/pulls/{number}",
        ):
            reply = client.get(path)
            assert reply.status_code == 404, (path, reply.status_code, reply.data[:200])
            assert reply.is_json
        for path in (
            f"/api/v1/projects/open/runs?before={number}",
            f"/api/v1/projects/open/compare?base=1&head={number}",
            f"/projects/open/?before={number}",
        ):
            reply = client.get(path)
            assert reply.status_code == 400, (path, reply.status_code, reply.data[:200])
            assert ("head" if "head=" in path else "before") in reply.json["error"]
    # the largest id an Integer holds is a query like any other: no such run
    assert client.get(f"/api/v1/projects/open/runs/{2**31 - 1}").status_code == 404
    assert client.get(f"/api/v1/projects/open/runs?before={2**31 - 1}").json["runs"]
    assert client.get("/api/v1/projects/open/runs?before=%C2%B2").status_code == 400  # '²'
    for edge in ("since=0001-01-01T00:00:00%2B01:00", "until=9999-12-31T23:59:59-01:00"):
        reply = client.get(f"/api/v1/projects/open/runs?{edge}")  # outside years 1-9999 in UTC
        assert reply.status_code == 400 and edge[:5] in reply.json["error"], reply.data[:200]


def test_a_nul_in_a_path_or_query_parameter_is_a_400(client: Client, projects: Projects) -> None:
    for path in (
        "/api/v1/projects/open/runs?branch=ma%00in",
        "/api/v1/projects/open/trend?metric=a%00b",
        "/api/v1/projects/open/baseline?commit=abc%00def",
        "/api/v1/projects/op%00en/runs",
        "/projects/open/?branch=ma%00in",
        "/projects/open/trend?metric=a%00b",
    ):
        reply = client.get(path)
        assert reply.status_code == 400, (path, reply.status_code, reply.data[:200])
        assert "NUL" in reply.json["error"] and "\x00" not in reply.json["error"]


def test_a_nul_in_any_uploaded_string_is_refused_naming_where(
    client: Client, projects: Projects
) -> None:
    good = passing(0).to_dict()
    measurement = good["measurements"][0]
    evidence = {**measurement, "evidence": [{"label": "sql", "text": "SELECT\x00"}]}
    for data, where in (
        ({"results": good, "branch": "ma\x00in"}, "branch"),
        ({"results": good, "ci_url": "https://ci/\x00"}, "ci_url"),
        ({"results": {**good, "suite": "s\x00"}}, "results.suite"),
        ({"results": {**good, "measurements": [{**measurement, "name": "a\x00b"}]}}, "].name"),
        ({"results": {**good, "measurements": [evidence]}}, "evidence[0].text"),
        ({"results": {**good, "environment": {"k\x00": "v"}}}, "results.environment"),
    ):
        reply = upload_body(client, projects, data)
        assert reply.status_code == 422, (where, reply.status_code, reply.data[:300])
        assert where in reply.json["error"] and "NUL" in reply.json["error"]
    assert client.get("/api/v1/projects/open/runs").json["runs"] == []


def upload_body(client: Client, projects: Projects, data: dict[str, Any]) -> Any:
    return client.post(
        "/api/v1/projects/open/runs",
        data=json.dumps(data),
        headers={**projects.auth("open"), "Content-Type": "application/json"},
    )


def test_every_response_says_nosniff(client: Client, projects: Projects) -> None:
    for path in ("/api/v1/health", "/api/v1/projects/open/runs", "/api/v1/nothing", "/"):
        assert client.get(path).headers["X-Content-Type-Options"] == "nosniff", path


def test_a_read_only_token_reads_a_private_project_and_never_writes(
    client: Client, server_db: str
) -> None:
    from perfci.history import HistoryStore
    from perfci.server.tokens import digest, new_token

    reader = new_token()
    with HistoryStore(server_db) as store:
        store.add_token("alpha", digest(reader), read_only=True)
    auth = {"Authorization": f"Bearer {reader}"}
    assert client.get("/api/v1/projects/alpha/runs", headers=auth).status_code == 200
    assert client.get("/projects/alpha/", headers=auth).status_code == 200  # its pages too
    refused = client.post("/api/v1/projects/alpha/runs", json=body(passing(0)), headers=auth)
    assert refused.status_code == 403 and "read-only" in refused.json["error"]
    other = client.get("/api/v1/projects/beta/runs", headers=auth)  # another project: no
    assert other.status_code == 403
    assert client.get("/api/v1/projects/alpha/runs", headers=auth).json["runs"] == []
