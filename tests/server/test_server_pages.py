"""The dashboard as the server serves it: its store's runs, the API's access rules, and
uploaded markup shown as text (the pages themselves: tests/dashboard)."""

from __future__ import annotations

import dataclasses
from typing import Any

from flask import Flask

from perfci import count_queries
from perfci.history.store import HistoryStore, Project, Upload
from perfci.server.tokens import digest, new_token
from tests.history.factory import make_run
from tests.server.helpers import Client, Projects

XSS = "<script>alert(1)</script><img src=x onerror=alert(2)>"
SHORT = "<img src=x onerror=alert(3)>"  # fits a unit (40 characters)


def hostile_results() -> dict[str, Any]:
    """A run with markup in every text field an upload carries."""
    data = dataclasses.replace(make_run(0, regressed=True), exit_code=1).to_dict()
    data["suite"] = f"s{XSS}"
    data["environment"] = {XSS: XSS}
    data["checks"] = [XSS]
    data["unmatched_rules"] = [XSS]
    for item in data["measurements"]:
        item["name"] = f"{item['name']}{XSS}"
        item["unit"] = SHORT
        item["evidence"] = [{"label": XSS, "text": f"SELECT '{XSS}'"}]
    for verdict in data["verdicts"]:
        verdict["name"] = f"{verdict['name']}{XSS}"
        verdict["reason"] = XSS
        verdict["notes"] = [XSS]
        for side in ("current", "baseline"):
            if verdict.get(side):
                verdict[side]["name"] = verdict["name"]
                verdict[side]["unit"] = SHORT
                verdict[side]["evidence"] = [{"label": XSS, "text": f"SELECT '{XSS}'"}]
    return data


def no_live_markup(page: str) -> None:
    assert "<script>alert" not in page
    assert "<img src=x" not in page
    assert "onerror=alert" not in page or "&lt;img src=x onerror=alert" in page


def test_uploaded_markup_is_text_on_every_page(client: Client, projects: Projects) -> None:
    uploaded = client.post(
        "/api/v1/projects/open/runs",
        json={
            "results": hostile_results(),
            "branch": f"b{XSS}",
            "pr": 7,
            "ci_url": 'https://ci.example/"><script>alert(4)</script>',
        },
        headers=projects.auth("open"),
    )
    assert uploaded.status_code == 201, uploaded.json
    run_id = uploaded.json["id"]
    metric = hostile_results()["measurements"][0]["name"]

    index = client.get("/")
    assert index.status_code == 200 and "/projects/open/" in index.text
    assert "alpha" not in index.text  # private projects are not listed

    pages = {
        "runs": client.get("/projects/open/"),
        "run": client.get(f"/projects/open/runs/{run_id}"),
        "trend": client.get("/projects/open/trend", query_string={"metric": metric}),
        "pull": client.get("/projects/open/pulls/7"),
    }
    for name, page in pages.items():
        assert page.status_code == 200, name
        no_live_markup(page.text)
        assert "'unsafe-inline'" not in page.headers["Content-Security-Policy"], name
    assert "b&lt;script&gt;alert(1)&lt;/script&gt;" in pages["runs"].text
    assert f"/projects/open/runs/{run_id}" in pages["runs"].text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages["run"].text


def test_pages_follow_the_api_access_rules(client: Client, projects: Projects) -> None:
    client.post(
        "/api/v1/projects/alpha/runs",
        json={"results": make_run(0).to_dict(), "branch": "main"},
        headers=projects.auth("alpha"),
    )
    # A private project is not there for a reader without its token (nor another's).
    assert client.get("/projects/alpha/").status_code == 404
    assert client.get("/projects/alpha/", headers=projects.auth("beta")).status_code == 404
    own = client.get("/projects/alpha/", headers=projects.auth("alpha"))
    assert own.status_code == 200 and "/projects/alpha/runs/" in own.text
    assert client.get("/projects/alpha/runs/1").status_code == 404
    assert client.get("/projects/nothing/").status_code == 404


def test_the_trend_links_every_run_and_marks_the_failing_one(
    client: Client, projects: Projects
) -> None:
    auth = projects.auth("open")
    ids = []
    for index in range(4):
        result = dataclasses.replace(
            make_run(index, regressed=index == 3), exit_code=1 if index == 3 else 0
        )
        ids.append(
            client.post(
                "/api/v1/projects/open/runs",
                json={"results": result.to_dict(), "branch": "main"},
                headers=auth,
            ).json["id"]
        )
    verdicts = make_run(3, regressed=True).to_dict()["verdicts"]
    regressed = next(v["name"] for v in verdicts if v["outcome"] == "regression")
    page = client.get("/projects/open/trend", query_string={"metric": regressed})
    assert page.status_code == 200
    for run_id in ids:
        assert f"/projects/open/runs/{run_id}" in page.text  # every point links to its run
    # The store's verdicts reach the page: the regressed run's row carries its badge.
    assert page.text.count('class="badge o-regression"') == 1
    failed = client.get("/projects/open/?status=failed").text
    assert f"/projects/open/runs/{ids[-1]}" in failed
    assert f'/projects/open/runs/{ids[0]}"' not in failed


def test_project_dataclass_is_what_pages_read() -> None:
    assert {f.name for f in dataclasses.fields(Project)} >= {"name", "public", "default_branch"}


def test_the_projects_page_reads_a_fixed_number_of_queries_whatever_the_projects(
    app: Flask, client: Client, projects: Projects
) -> None:
    """No N+1 on the projects page: each project's newest run, and the token's project,
    come from queries whose number does not grow with the projects (perfci's own
    ``count_queries``, on the server's store engine)."""
    store: HistoryStore = app.extensions["perfci_store"]
    for name in ("alpha", "open"):
        client.post(
            f"/api/v1/projects/{name}/runs",
            json={"results": make_run(0).to_dict(), "branch": "main"},
            headers=projects.auth(name),
        )

    def listed(auth: dict[str, str]) -> tuple[int, str]:
        with count_queries(store.engine) as counted:
            page = client.get("/", headers=auth)
        assert page.status_code == 200
        return counted.count, page.text

    few, page = listed(projects.auth("alpha"))
    assert "/projects/alpha/" in page and "/projects/open/" in page
    assert "/projects/beta/" not in page  # another project's private page
    with HistoryStore(store.url) as other:
        for index in range(6):
            token = new_token()
            other.create_project(f"p{index}", digest(token), public=index % 2 == 0)
            run = dataclasses.replace(make_run(index), branch="main")
            other.record(run, upload=Upload(other.project(f"p{index}").id, None, None, None))
    many, page = listed(projects.auth("alpha"))
    assert [f"/projects/p{i}/" in page for i in range(6)] == [True, False] * 3  # public ones
    assert page.count("/projects/p0/runs/") == 1  # with its newest run
    assert many == few


def test_a_prs_base_is_the_run_its_gate_would_fetch(client: Client, projects: Projects) -> None:
    """The PR view's base, like ``--baseline-from server``: the newest passing run on the
    default branch of the head's suite that measured every check the head measured, not a
    newer partial run (``--only``, ``--quick``)."""
    auth = projects.auth("open")

    def upload(result: Any, **fields: Any) -> int:
        reply = client.post(
            "/api/v1/projects/open/runs",
            json={"results": result.to_dict(), **fields},
            headers=auth,
        )
        assert reply.status_code == 201, reply.json
        return int(reply.json["id"])

    full = upload(make_run(0), branch="main")
    upload(dataclasses.replace(make_run(1), checks=("payload",)), branch="main")
    upload(make_run(2), branch="feature", pr=7)
    page = client.get("/projects/open/pulls/7").text
    base = page[page.index("<h3>Base</h3>") :]
    assert f'href="/projects/open/runs/{full}">run #{full}</a>' in base
