"""The dashboard's pages through Flask's test client: what each shows, links, filters, 404s.

The runs are real dog-food results (see ``memory``): main passes, fails with a
fat payload (run 3), passes; PR 7 passes (run 5), then gets an N+1 and missing
indexes (run 6).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient

from perfci.dashboard import CSP, Urls, blueprint, dashboard_blueprint, run_url
from perfci.dashboard.pages import safe_link
from tests.dashboard.conftest import CI, PR, PR_BRANCH, PRIVATE, PROJECT, commit, make_app
from tests.dashboard.memory import MemoryData

Get = Callable[[str], str]
RUNS = f"/projects/{PROJECT}/"
METRIC = "payload/GET /api/coocook/chefs?per_page=12/bytes"  # fat in run 3 only
N_PLUS_ONE = "n_plus_one/GET /api/coocook/chefs?per_page=12/queries"  # worse in run 6 only


def run_ids(page: str) -> list[int]:
    """The runs listed in a runs table, in order."""
    return [int(n) for n in re.findall(r'class="run-link" href="[^"]*/runs/(\d+)"', page)]


def test_projects_lists_public_projects_with_their_newest_default_branch_run(get: Get) -> None:
    page = get("/")
    assert re.search(rf'class="project-link"\s+href="/projects/{PROJECT}/"', page)
    assert f'href="/projects/{PROJECT}/runs/4">#4</a>' in page  # newest on main, not run 6
    assert "160 passed" in page
    assert PRIVATE not in page


@pytest.mark.parametrize(
    "path",
    [
        f"/projects/{PRIVATE}/",
        f"/projects/{PRIVATE}/runs/7",
        f"/projects/{PRIVATE}/trend?metric={quote(METRIC)}",
        f"/projects/{PRIVATE}/pulls/1",
        "/projects/nope/",
        f"/projects/{PROJECT}/runs/7",  # the private project's run, asked for through another
        f"/projects/{PROJECT}/runs/999",
    ],
)
def test_a_private_or_missing_project_or_run_is_not_found(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "Not found" in response.get_data(as_text=True)
    assert response.headers["Content-Security-Policy"] == CSP


def test_runs_are_listed_newest_first_and_filtered_by_branch_and_status(get: Get) -> None:
    assert run_ids(get(RUNS)) == [6, 5, 4, 3, 2, 1]
    assert run_ids(get(Urls().project(PROJECT, branch="main"))) == [4, 3, 2, 1]
    assert run_ids(get(Urls().project(PROJECT, status="failed"))) == [6, 3]
    assert run_ids(get(Urls().project(PROJECT, branch=PR_BRANCH, status="passed"))) == [5]
    page = get(RUNS)
    assert page.count('class="status small failed"') == 2
    assert f'href="/projects/{PROJECT}/?branch=feature%2Fchef-list"' in page  # branch chips
    assert f'href="{CI.format(3)}"' in page
    assert f'href="/projects/{PROJECT}/pulls/{PR}">#{PR}</a>' in page
    assert "19 regressions, 141 passed" in page  # run 3's verdicts


def test_an_unknown_status_filter_shows_every_run(get: Get) -> None:
    assert run_ids(get(f"{RUNS}?status=bogus")) == [6, 5, 4, 3, 2, 1]


def test_runs_are_paged_with_a_keyset_cursor(
    get: Get, monkeypatch: pytest.MonkeyPatch, client: FlaskClient
) -> None:
    monkeypatch.setattr(blueprint, "PAGE", 4)
    first = get(RUNS)
    assert run_ids(first) == [6, 5, 4, 3]
    older = re.search(r'<a rel="next" href="([^"]+)"', first)
    assert older is not None
    assert older.group(1) == f"/projects/{PROJECT}/?before=3"
    second = get(older.group(1).replace("&amp;", "&"))
    assert run_ids(second) == [2, 1]
    assert 'rel="next"' not in second


def test_a_run_page_shows_the_reports_verdict_table_with_evidence_and_filters(get: Get) -> None:
    page = get(Urls().run(PROJECT, 6))
    assert '<table class="verdicts" id="verdict-table">' in page
    assert 'id="verdict-search"' in page  # the report's filters, wired by filter.js
    assert page.count('<tbody class="verdict failing"') == 29  # 10 regressions + 19 budgets
    assert '<pre class="evidence plan">SCAN chefs</pre>' in page  # the missing index's plan
    assert "FROM bookings" in page  # the N+1's statement
    assert commit(6) in page
    assert f'href="/projects/{PROJECT}/pulls/{PR}">#{PR}: head against base</a>' in page
    # each numeric metric links to its trend on the default branch
    trend = Urls().trend(PROJECT, N_PLUS_ONE, branch="main").replace("&", "&amp;")
    assert f'<a href="{trend}">chart</a>' in page


def test_a_metric_trend_marks_the_failing_run_and_links_every_point_to_its_run(get: Get) -> None:
    page = get(Urls().trend(PROJECT, METRIC, branch="main"))
    chart = page[page.index('<svg class="chart trend"') : page.index("</svg>")]
    points = re.findall(
        r'<a href="/projects/softfactory/runs/(\d+)"><g class="marker ([^"]+)"', chart
    )
    assert points == [
        ("1", "outcome-pass"),
        ("2", "outcome-pass"),
        ("3", "outcome-regression"),
        ("4", "outcome-pass"),
    ]
    assert chart.count('class="failing-column"') == 1
    assert "✗ failing run" in page  # the legend
    assert run_ids(page) == [4, 3, 2, 1]  # the numbers below, newest first
    assert "9.85 KB" in page and "1.55 KB" in page


def test_the_trend_of_a_pr_branch_is_its_own(get: Get) -> None:
    page = get(Urls().trend(PROJECT, N_PLUS_ONE, branch=PR_BRANCH))
    chart = page[page.index('<svg class="chart trend"') : page.index("</svg>")]
    assert re.findall(r'/runs/(\d+)"><g class="marker ([^"]+)"', chart) == [
        ("5", "outcome-pass"),
        ("6", "outcome-regression"),
    ]


def test_without_a_metric_the_trend_page_lists_the_metrics_to_choose_from(
    get: Get, data: MemoryData
) -> None:
    page = get(Urls().trend(PROJECT))
    newest = data.run(PROJECT, 4)
    assert newest is not None
    numeric = [m for m in newest.result.measurements if not isinstance(m.value, str)]
    assert '<svg class="chart' not in page
    link = Urls().trend(PROJECT, METRIC, branch="main").replace("&", "&amp;")
    assert f'<a href="{link}">' in page
    assert page.count("<li><a href=") == len(numeric) > 100  # of the newest run on main
    absent = get(Urls().trend(PROJECT, "no/such/metric"))
    assert "No run on main measured this metric." in absent


def test_a_pr_shows_its_newest_run_against_the_base_branchs_baseline(get: Get) -> None:
    page = get(Urls().pull(PROJECT, PR))
    assert re.search(r'<span class="status failed">✗\s+FAILED</span>', page)
    assert f'href="/projects/{PROJECT}/runs/6">run #6</a>' in page  # head: the newest push
    assert f'href="/projects/{PROJECT}/runs/4">run #4</a>' in page  # base: newest passing main
    assert "Head against base: 29 regressions, 131 passed" in page
    assert page.count('<tbody class="verdict failing"') == 29
    assert "SCAN chefs" in page
    assert run_ids(page[page.index("Runs of this PR") :]) == [6, 5]


def test_a_pr_without_runs_says_so(get: Get) -> None:
    page = get(Urls().pull(PROJECT, 404))
    assert "No run was uploaded for this PR." in page
    assert '<table class="verdicts"' not in page


PAGES = [
    "/",
    RUNS,
    Urls().run(PROJECT, 3),
    Urls().trend(PROJECT, METRIC, branch="main"),
    Urls().trend(PROJECT),
    Urls().pull(PROJECT, PR),
    "/projects/nope/",
]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_has_the_policy_and_no_inline_script_or_style(
    client: FlaskClient, path: str
) -> None:
    response = client.get(path)
    page = response.get_data(as_text=True)
    assert response.headers["Content-Security-Policy"] == CSP
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", page, re.S)
    assert len(scripts) == 3
    assert all('src="/dashboard-assets/' in attributes and not body for attributes, body in scripts)
    assert "<style" not in page
    assert not re.search(r"\sstyle=", page)
    assert not re.search(r"<[^>]+\son[a-z]+=", page)  # no event handler attributes


def test_the_policy_allows_only_the_dashboards_own_files() -> None:
    assert "'unsafe-inline'" not in CSP and "'unsafe-eval'" not in CSP
    assert "script-src 'self';" in CSP and "default-src 'none'" in CSP


@pytest.mark.parametrize(
    ("name", "mimetype", "text"),
    [
        ("report.css", "text/css", "--vermillion"),
        ("dashboard.css", "text/css", "table.runs"),
        ("errors.js", "text/javascript", "perfciErrors"),
        ("filter.js", "text/javascript", "verdict-table"),
        ("status.js", "text/javascript", "render-status"),
    ],
)
def test_the_stylesheets_and_scripts_are_served(
    client: FlaskClient, name: str, mimetype: str, text: str
) -> None:
    response = client.get(Urls().asset(name))
    assert response.status_code == 200
    assert response.mimetype == mimetype
    assert text in response.get_data(as_text=True)


def test_an_unknown_asset_is_not_found(client: FlaskClient) -> None:
    assert client.get(Urls().asset("../../etc/passwd")).status_code == 404
    assert client.get(Urls().asset("nope.js")).status_code == 404


def test_run_url_is_the_run_pages_address() -> None:
    assert run_url("https://perfci.example", PROJECT, 42) == (
        "https://perfci.example/projects/softfactory/runs/42"
    )
    assert run_url("https://perfci.example/ci/", "a.b-c_d", 7) == (
        "https://perfci.example/ci/projects/a.b-c_d/runs/7"
    )


def test_run_url_answers_on_the_app(get: Get) -> None:
    path = run_url("http://localhost", PROJECT, 3).removeprefix("http://localhost")
    assert "run #3" in get(path)


def test_mounted_under_a_prefix_every_link_keeps_it(data: MemoryData) -> None:
    app: Flask = make_app(data, url_prefix="/dashboard")
    client = app.test_client()
    page = client.get("/dashboard/projects/softfactory/runs/6").get_data(as_text=True)
    links = re.findall(r'(?:href|src)="(/[^"]*)"', page)
    assert links and all(link.startswith("/dashboard/") for link in links)
    for link in set(links):
        assert client.get(link.replace("&amp;", "&")).status_code == 200, link


def test_who_may_read_a_project_is_the_servers_call(data: MemoryData) -> None:
    app = Flask(__name__)
    # e.g. the server's check of the request's token against the project's
    app.register_blueprint(dashboard_blueprint(data, can_read=lambda p: p.name == PRIVATE))
    client = app.test_client()
    assert client.get(f"/projects/{PRIVATE}/runs/7").status_code == 200
    assert client.get(Urls().run(PROJECT, 1)).status_code == 404
    listed = client.get("/").get_data(as_text=True)
    assert f"/projects/{PRIVATE}/" in listed and f"/projects/{PROJECT}/" not in listed


@pytest.mark.parametrize(
    ("url", "linked"),
    [
        ("https://ci.example/run/1", True),
        ("http://ci.example/run/1", True),
        ("javascript:alert(1)", False),
        ("JavaScript:alert(1)", False),
        ("data:text/html,<script>alert(1)</script>", False),
        ("//evil.example", False),
        (None, False),
    ],
)
def test_only_http_ci_links_become_links(url: str | None, linked: bool) -> None:
    assert (safe_link(url) is not None) is linked
