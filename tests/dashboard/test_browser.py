"""The dashboard in headless Chromium, served by a real HTTP server.

Every page renders with no script error, blocked request or console line,
without sideways scrolling at laptop (1366x768) and phone (390x844) widths;
every link on every page answers; a trend point leads to its run's page.
Screenshots are saved in the test's temporary directory for a person to look at.

Needs Debian's ``chromium`` on PATH: skipped without it, a failure when
``PERFCI_REQUIRE_SERVICES=1`` (CI).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import requests

from perfci.dashboard import Urls
from tests.dashboard.browser import LAPTOP, PHONE, hrefs, load, screenshot, serving
from tests.dashboard.conftest import PR, PROJECT, filled, make_app
from tests.reporters.html.test_browser import PNG_SIGNATURE, chromium

__all__ = ["chromium"]  # the fixture

METRIC = "payload/GET /api/coocook/chefs?per_page=12/bytes"
PAGES = {
    "projects": "/",
    "runs": f"/projects/{PROJECT}/",
    "run": Urls().run(PROJECT, 6),
    "trend": Urls().trend(PROJECT, METRIC, branch="main"),
    "metrics": Urls().trend(PROJECT),
    "pull": Urls().pull(PROJECT, PR),
}


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with serving(make_app(filled())) as url:
        yield url


@pytest.mark.parametrize("size", [LAPTOP, PHONE], ids=["laptop", "phone"])
@pytest.mark.parametrize("name", list(PAGES))
def test_every_page_renders_cleanly(
    chromium: str, base_url: str, tmp_path: Path, name: str, size: tuple[int, int]
) -> None:
    page = load(chromium, base_url + PAGES[name], tmp_path, size)
    assert page.status["phase"] == "load"
    assert page.status["errors"] == []  # no script error, failed resource or blocked request
    assert page.console == []
    assert page.status["overflow"] is False  # nothing wider than the window
    charts = page.status["charts"]
    if name == "trend":
        assert len(charts) == 1
        assert charts[0]["marks"] >= 5  # the series and the four runs' marks
        assert charts[0]["width"] > min(size[0], 460) * 0.6
    if name in ("run", "pull"):
        # filter.js ran: it revealed the filters and counted the verdicts
        count = r'<span id="verdict-count"[^>]*>Showing 160 of 160 verdicts</span>'
        assert re.search(count, page.dom)
        assert '<div class="filters" role="search">' in page.dom


@pytest.mark.parametrize("name", list(PAGES))
def test_every_link_answers(chromium: str, base_url: str, tmp_path: Path, name: str) -> None:
    page = load(chromium, base_url + PAGES[name], tmp_path)
    links = [h for h in hrefs(page.dom) if h.startswith("/")]
    assert links
    external = [h for h in hrefs(page.dom) if not h.startswith("/")]
    assert all(h.startswith("https://github.com/acme/") for h in external)  # the CI logs
    with requests.Session() as session:
        for link in sorted(set(links)):
            response = session.get(base_url + link, timeout=30)
            assert response.status_code == 200, link
            assert response.headers["Content-Type"].startswith("text/html"), link


def test_a_trend_point_leads_to_its_runs_page(chromium: str, base_url: str, tmp_path: Path) -> None:
    trend = load(chromium, base_url + PAGES["trend"], tmp_path)
    failing = re.search(
        r'<a href="(/projects/[^"]+/runs/(\d+))"><g class="marker outcome-regression"', trend.dom
    )
    assert failing is not None
    run = load(chromium, base_url + failing.group(1), tmp_path)
    assert f"run #{failing.group(2)}" in run.dom
    assert run.status["errors"] == [] and run.console == []
    assert re.search(r'<span class="status failed">✗\s+FAILED', run.dom)
    assert f'data-search="{METRIC.lower()}' in run.dom.replace("&amp;", "&")


@pytest.mark.parametrize("size", [LAPTOP, PHONE], ids=["laptop", "phone"])
def test_screenshots(chromium: str, base_url: str, tmp_path: Path, size: tuple[int, int]) -> None:
    for name, path in PAGES.items():
        shot = tmp_path / f"{name}-{size[0]}x{size[1]}.png"
        data = screenshot(chromium, base_url + path, shot, tmp_path, size)
        assert data.startswith(PNG_SIGNATURE)
        assert int.from_bytes(data[16:20], "big") == size[0]  # the PNG header's width
        assert len(data) > 10_000, name  # a drawn page, not a blank one


def test_the_trend_query_survives_a_metric_with_url_characters(
    chromium: str, base_url: str, tmp_path: Path
) -> None:
    url = f"{base_url}/projects/{PROJECT}/trend?metric={quote(METRIC, safe='')}&branch=main"
    page = load(chromium, url, tmp_path)
    assert page.dom.count('class="marker outcome-') == 4
