"""The HTML report in headless Chromium: hostile text in every field runs nothing.

A history (as ``perfci history import`` would bring it) carries a payload in
every string the page shows: metric names (so trend titles and load-stage
labels too), reasons, notes, evidence, acknowledgements, the environment,
suite, branch, commit, baseline path, checks and unmatched rules. The page
must show the text, run none of it, and its policy must forbid inline script
even where a value escaped unescaped.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from perfci.html import render_html
from perfci.html.page import CSP
from perfci.result import RunResult
from tests.history.factory import make_history
from tests.html.test_browser import LAPTOP, _browse, _console, _render_status, chromium

__all__ = ["chromium"]  # the fixture, shared with the browser tests

PAYLOAD = (
    "<img src=x onerror=\"document.body.setAttribute('data-pwned','img')\">"
    "</code></td></pre><script>document.body.setAttribute('data-pwned','script')</script>"
    "\" onmouseover=\"document.body.setAttribute('data-pwned','attr')\" x=\""
    "<svg onload=\"document.body.setAttribute('data-pwned','svg')\"></svg>"
)
TEXT_KEYS = {"reason", "text", "label", "baseline_path", "branch", "commit", "suite"}


def _poison(value: Any, key: str = "") -> Any:
    if isinstance(value, dict):
        return {
            (k + PAYLOAD if key == "environment" else k): _poison(v, k) for k, v in value.items()
        }
    if isinstance(value, list):
        if key in ("notes", "unmatched_rules", "checks", "skipped_checks"):
            return [*value, PAYLOAD]
        return [_poison(item, key) for item in value]
    if isinstance(value, str) and key == "name":
        check, rest = value.split("/", 1)
        subject, metric = rest.rsplit("/", 1)
        return f"{check}/{subject}{PAYLOAD}/{metric}"
    if isinstance(value, str) and (key in TEXT_KEYS or key == "environment"):
        return value + PAYLOAD
    return value


def hostile_history() -> list[RunResult]:
    return [RunResult.from_dict(_poison(run.to_dict())) for run in make_history(4)]


@pytest.fixture
def hostile_page(tmp_path: Path) -> Path:
    path = tmp_path / "hostile.html"
    path.write_text(render_html(hostile_history(), generated_at=PAYLOAD), encoding="utf-8")
    return path


def test_the_policy_forbids_inline_script() -> None:
    assert "'unsafe-inline'" not in CSP and "'unsafe-eval'" not in CSP
    assert re.search(r"script-src( 'sha256-[A-Za-z0-9+/=]+'){3};", CSP)


def test_hostile_text_in_every_field_runs_nothing(
    chromium: str, hostile_page: Path, tmp_path: Path
) -> None:
    status, stderr = _render_status(chromium, hostile_page, tmp_path, LAPTOP)
    dom = _browse(chromium, hostile_page, tmp_path, LAPTOP, 900, "--dump-dom").stdout
    assert not re.search(r"<body[^>]*data-pwned", dom)
    # Escaped, nothing was even attempted: no policy violation, no error, clean console.
    assert status["phase"] == "load"
    assert status["errors"] == []
    assert _console(stderr) == []
    assert "&lt;img src=x onerror=" in dom  # shown as text
    assert dom.count("&lt;script&gt;") > 10  # in names, reasons, evidence, stages, ...
    assert re.search(r"<td>50 users&lt;img src=x", dom)  # the load-stage label of the report


def test_the_policy_stops_a_value_that_escaped_unescaped(
    chromium: str, hostile_page: Path, tmp_path: Path
) -> None:
    page = hostile_page.read_text(encoding="utf-8")
    broken = tmp_path / "broken.html"
    broken.write_text(page.replace("</main>", PAYLOAD + "</main>", 1), encoding="utf-8")
    status, _ = _render_status(chromium, broken, tmp_path, LAPTOP)
    dom = _browse(chromium, broken, tmp_path, LAPTOP, 900, "--dump-dom").stdout
    assert not re.search(r"<body[^>]*data-pwned", dom)
    assert any("blocked by the page's policy" in error for error in status["errors"])
