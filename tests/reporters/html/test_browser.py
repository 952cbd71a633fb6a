"""The report in a real browser: headless Chromium opens the file from disk.

The page's own script writes what rendered (every chart's size, any script
error, failed resource or blocked request) into ``#render-status``; Chromium's
``--dump-dom`` hands that back, and its console log (``--enable-logging``)
must stay empty. Screenshots at laptop and phone width are saved in the
test's temporary directory for a person to look at.

Needs Debian's ``chromium`` on PATH: skipped without it, a failure when
``PERFCI_REQUIRE_SERVICES=1`` (CI).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from perfci.result import RunResult
from tests.history.factory import REGRESSED

LAPTOP, PHONE = 1280, 400
# --dump-dom lays the page out in a window at least 500 px wide, whatever --window-size says
# (--screenshot honours 400): still inside the report's narrow layout (max-width 720px).
DUMP_DOM_MIN_WIDTH = 500
TIMEOUT_S = 90
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--enable-logging=stderr",
    "--v=0",
)


@pytest.fixture(scope="module")
def chromium() -> str:
    found = shutil.which("chromium")
    if found is None:
        reason = "headless Chromium is not installed (Debian package 'chromium')"
        if os.environ.get("PERFCI_REQUIRE_SERVICES") == "1":
            pytest.fail(f"{reason}; PERFCI_REQUIRE_SERVICES=1 makes this a failure")
        pytest.skip(reason)
    return found


def _browse(
    chromium: str, page: Path, tmp_path: Path, width: int, height: int, *action: str
) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / f"profile-{width}-{action[0].lstrip('-').split('=')[0]}"
    completed = subprocess.run(
        [
            chromium,
            *_FLAGS,
            f"--user-data-dir={profile}",
            f"--window-size={width},{height}",
            *action,
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    return completed


def _console(stderr: str) -> list[str]:
    """Lines Chromium logged from the page's console (errors, warnings, logs)."""
    return [line for line in stderr.splitlines() if re.search(r":CONSOLE[:(]", line)]


def _render_status(
    chromium: str, page: Path, tmp_path: Path, width: int
) -> tuple[dict[str, Any], str]:
    completed = _browse(chromium, page, tmp_path, width, 900, "--dump-dom")
    match = re.search(r'<output id="render-status"[^>]*>(.*?)</output>', completed.stdout, re.S)
    assert match, "the page's render-status script did not run"
    return json.loads(match.group(1)), completed.stderr


@pytest.mark.parametrize("width", [LAPTOP, PHONE])
def test_charts_render_without_errors(
    chromium: str, report_file: Path, tmp_path: Path, history_runs: list[RunResult], width: int
) -> None:
    status, stderr = _render_status(chromium, report_file, tmp_path, width)
    assert status["phase"] == "load"
    assert status["errors"] == []
    assert _console(stderr) == []
    latest = history_runs[-1]
    numeric = [m for m in latest.measurements if not isinstance(m.value, str)]
    trends = [c for c in status["charts"] if c["kind"] == "chart trend"]
    assert len(trends) == len(numeric)
    kinds = {c["kind"] for c in status["charts"]}
    assert {"chart load-throughput", "chart load-latency"} <= kinds
    for chart in status["charts"]:
        assert chart["width"] > 0.6 * min(width, 460) - 40, chart
        assert chart["height"] > 100, chart
        assert chart["marks"] > 0, chart
    assert status["viewport"] <= max(width, DUMP_DOM_MIN_WIDTH)
    assert status["overflow"] is False  # nothing wider than the window: no sideways scrolling


def test_screenshots_at_laptop_and_phone_width(
    chromium: str, report_file: Path, tmp_path: Path
) -> None:
    for width, height in ((LAPTOP, 3000), (PHONE, 3200)):
        shot = tmp_path / f"report-{width}px.png"
        _browse(chromium, report_file, tmp_path, width, height, f"--screenshot={shot}")
        data = shot.read_bytes()
        assert data.startswith(PNG_SIGNATURE)
        assert int.from_bytes(data[16:20], "big") == width  # the PNG header's width field
        assert len(data) > 20_000  # a drawn page, not a blank one


def test_the_regression_marker_is_in_the_rendered_page(
    chromium: str, report_file: Path, tmp_path: Path
) -> None:
    completed = _browse(chromium, report_file, tmp_path, LAPTOP, 900, "--dump-dom")
    dom = completed.stdout
    assert 'data-metric="' + REGRESSED + '"' in dom
    assert dom.count('class="marker outcome-regression"') == 1
    assert re.search(r'<span id="verdict-count"[^>]*>Showing 19 of 19 verdicts</span>', dom)
    assert 'class="filters"' in dom  # the filter script ran and revealed the controls
