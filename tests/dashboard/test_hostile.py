"""Uploads carrying script and markup in every field render as text, in a real browser too.

Metric names, SQL and plans, reasons, notes, suite, environment, checks, the
branch (the default branch's name too), the commit and the CI link all carry
payloads (``hostile``). No page may run any of them: ``<body>`` stays
unmarked, the title stays the page's own, the console stays empty; the
payload shows as text. And the policy stops a payload even if one ever
reached a page unescaped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask, Response
from flask.testing import FlaskClient

from perfci.dashboard import Urls
from tests.dashboard.browser import LAPTOP, PHONE, load, serving
from tests.dashboard.conftest import PROJECT, make_app
from tests.dashboard.hostile import (
    HOSTILE_BRANCH,
    JAVASCRIPT_URL,
    PR,
    PWNED_TITLE,
    hostile_data,
    poisoned_metric,
)
from tests.hardening.test_html_xss import PAYLOAD
from tests.reporters.html.test_browser import chromium

__all__ = ["chromium"]  # the fixture

_DATA = hostile_data()
_METRIC = poisoned_metric(_DATA)
PAGES = {
    "projects": "/",
    "runs": f"/projects/{PROJECT}/",
    "runs-of-branch": Urls().project(PROJECT, branch=HOSTILE_BRANCH),
    "passing-run": Urls().run(PROJECT, 1),
    "failing-run": Urls().run(PROJECT, 2),
    "pr-run": Urls().run(PROJECT, 4),
    "trend": Urls().trend(PROJECT, _METRIC, branch=HOSTILE_BRANCH),
    "metrics": Urls().trend(PROJECT),
    "pull": Urls().pull(PROJECT, PR),
}
# Markup that would exist in the page only if a payload went through unescaped.
RAW = ("<img src=x", "<script>document", "<svg onload", 'onmouseover="document')


@pytest.fixture(scope="module")
def hostile_app() -> Flask:
    return make_app(hostile_data())


@pytest.fixture(scope="module")
def hostile_url(hostile_app: Flask) -> Iterator[str]:
    with serving(hostile_app) as url:
        yield url


@pytest.mark.parametrize("name", list(PAGES))
def test_every_payload_is_escaped_in_the_html(hostile_app: Flask, name: str) -> None:
    client: FlaskClient = hostile_app.test_client()
    response = client.get(PAGES[name])
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for raw in RAW:
        assert raw not in page, raw
    assert "&lt;script&gt;" in page or "%3Cscript%3E" in page  # shown, or carried in a link
    assert not re.search(r'href="\s*javascript:', page, re.I)
    assert "<title>perfci" in page and PWNED_TITLE not in page.split("</title>")[0]


def test_a_javascript_ci_link_is_shown_as_text(hostile_app: Flask) -> None:
    page = hostile_app.test_client().get(Urls().run(PROJECT, 1)).get_data(as_text=True)
    shown = JAVASCRIPT_URL.replace("'", "&#39;")
    assert f'<span class="mono">{shown}</span>' in page


@pytest.mark.parametrize("size", [LAPTOP, PHONE], ids=["laptop", "phone"])
@pytest.mark.parametrize("name", list(PAGES))
def test_no_payload_runs_in_the_browser(
    chromium: str, hostile_url: str, tmp_path: Path, name: str, size: tuple[int, int]
) -> None:
    page = load(chromium, hostile_url + PAGES[name], tmp_path, size)
    assert not re.search(r"<body[^>]*data-pwned", page.dom)
    title = re.search(r"<title>(.*?)</title>", page.dom, re.S)
    assert title is not None and title.group(1).startswith("perfci")
    assert PWNED_TITLE not in title.group(1)
    # escaped, nothing was even attempted: no policy violation, no error, clean console
    assert page.status["phase"] == "load"
    assert page.status["errors"] == []
    assert page.console == []
    assert "&lt;img src=x onerror=" in page.dom  # shown as text


def _leaky(app: Flask) -> Flask:
    """``app`` with the payload pasted unescaped into every page, as a templating bug would."""

    @app.after_request
    def _inject(response: Response) -> Response:
        if response.mimetype == "text/html":
            page = response.get_data(as_text=True)
            response.set_data(page.replace("</main>", PAYLOAD + "</main>", 1))
        return response

    return app


def test_the_policy_stops_a_payload_that_reached_a_page_unescaped(
    chromium: str, tmp_path: Path
) -> None:
    with serving(_leaky(make_app(hostile_data()))) as url:
        page = load(chromium, url + Urls().run(PROJECT, 2), tmp_path)
    assert "<script>document.body.setAttribute" in page.dom  # it is in the page, as markup
    assert not re.search(r"<body[^>]*data-pwned", page.dom)  # and did not run
    assert any("blocked by the page's policy" in error for error in page.status["errors"])
