"""The dashboard pages: what they list and link, and uploaded markup shown as text."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from perfci.history.store import Project
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
            "ci_url": 'https://ci.example/"><script>alert(4)</script>',
        },
        headers=projects.auth("open"),
    )
    assert uploaded.status_code == 201, uploaded.json
    run_id = uploaded.json["id"]

    index = client.get("/")
    assert index.status_code == 200 and 'href="/projects/open/"' in index.text
    assert "alpha" not in index.text  # private projects are not listed

    listing = client.get("/projects/open/")
    assert listing.status_code == 200
    page = listing.text
    no_live_markup(page)
    assert "b&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert f'href="/projects/open/runs/{run_id}"' in page
    assert 'href="https://ci.example/&quot;&gt;&lt;script&gt;alert(4)&lt;/script&gt;"' in page
    assert "FAILED" in page
    assert "script-src" not in listing.headers["Content-Security-Policy"]

    run = client.get(f"/projects/open/runs/{run_id}")
    assert run.status_code == 200
    no_live_markup(run.text)
    assert "SELECT &#x27;&lt;script&gt;alert(1)&lt;/script&gt;" in run.text
    csp = run.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "'unsafe-inline'" not in csp
    # the only scripts on the page are the report's own (allowed by hash)
    scripts = re.findall(r"<script>", run.text)
    assert len(scripts) == 3


def test_pages_follow_the_api_access_rules(client: Client, projects: Projects) -> None:
    client.post(
        "/api/v1/projects/alpha/runs",
        json={"results": make_run(0).to_dict(), "branch": "main"},
        headers=projects.auth("alpha"),
    )
    assert client.get("/projects/alpha/").status_code == 401
    assert client.get("/projects/alpha/", headers=projects.auth("beta")).status_code == 403
    own = client.get("/projects/alpha/", headers=projects.auth("alpha"))
    assert own.status_code == 200 and "/projects/alpha/runs/" in own.text
    assert client.get("/projects/alpha/runs/1").status_code == 401
    assert client.get("/projects/nothing/").status_code == 404


def test_a_run_page_draws_its_branch_history_and_the_list_filters(
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
    client.post(
        "/api/v1/projects/open/runs",
        json={"results": make_run(9).to_dict(), "branch": "other"},
        headers=auth,
    )
    page = client.get(f"/projects/open/runs/{ids[-1]}").text
    assert "4 runs of suite" in page  # this one and the three before it on main
    failed = client.get("/projects/open/?status=failed").text
    assert f"/projects/open/runs/{ids[-1]}" in failed
    assert f'/projects/open/runs/{ids[0]}"' not in failed
    other = client.get("/projects/open/?branch=other").text
    assert other.count("/projects/open/runs/") == 1
    assert client.get("/projects/open/?status=green").status_code == 400


def test_project_dataclass_is_what_pages_read() -> None:
    assert {f.name for f in dataclasses.fields(Project)} >= {"name", "public", "default_branch"}
