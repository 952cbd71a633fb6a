"""The page functions alone: data in, HTML out, no Flask app, no request."""

from __future__ import annotations

import re

from perfci.dashboard import ProjectInfo, RunRecord, RunRow, TrendEntry, Urls, pages
from perfci.result import RunResult
from tests.dashboard.memory import results

PROJECT = ProjectInfo("api", default_branch="trunk")
URLS = Urls("/ci")


def entry(run_id: int, value: float | None, outcome: str | None) -> TrendEntry:
    return TrendEntry(
        run_id, "2026-11-30T10:00:00+00:00", None, "trunk", 0, value, "queries", outcome=outcome
    )


def test_a_run_page_renders_without_an_app_and_links_under_its_root() -> None:
    record = RunRecord(
        12, RunResult.from_dict(results("main-fail")), pr=3, ci_url="https://ci.example/12"
    )
    page = pages.run_page(URLS, PROJECT, record)
    links = re.findall(r'(?:href|src)="(/[^"]*)"', page)
    assert links and all(link.startswith("/ci/") for link in links)
    assert 'href="/ci/projects/api/pulls/3"' in page
    assert "branch=trunk" in page  # charts of the project's default branch
    assert page.count('<tbody class="verdict failing"') == 19


def test_a_trend_tolerates_gaps_unknown_outcomes_and_one_point() -> None:
    entries = [entry(1, 3.0, "pass"), entry(2, None, None), entry(3, 5.0, "from-the-future")]
    page = pages.trend_page(
        URLS, PROJECT, branch="trunk", metric="n/x/queries", entries=entries, metrics=[]
    )
    marks = re.findall(r'/ci/projects/api/runs/(\d+)"><g class="marker ([^"]+)"', page)
    assert marks == [("1", "outcome-pass"), ("3", "outcome-unjudged")]  # no mark for no value
    single = pages.trend_page(
        URLS, PROJECT, branch="trunk", metric="n/x/queries", entries=entries[:1], metrics=[]
    )
    assert single.count('class="marker ') == 1


def test_a_trend_with_no_entries_says_so() -> None:
    page = pages.trend_page(URLS, PROJECT, branch="trunk", metric="n/x/q", entries=[], metrics=[])
    assert "No run on trunk measured this metric." in page
    assert "<svg" not in page


def test_a_runs_list_counts_only_known_outcomes() -> None:
    row = RunRow(
        1,
        "2026-11-30T10:00:00+00:00",
        None,
        "trunk",
        0,
        counts={"pass": 3, "regression": 1, "bogus": 9},
    )
    page = pages.runs_page(
        URLS, PROJECT, [row], branches=["trunk"], branch=None, status=None, older=None
    )
    assert "1 regression, 3 passed" in page
    assert "bogus" not in page
