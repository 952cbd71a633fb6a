"""Fixtures for the HTML report tests: a history of six runs, the last one regressed."""

from __future__ import annotations

from pathlib import Path

import pytest

from perfci.reporters.html import render_html
from perfci.result import RunResult
from tests.history.factory import make_history


@pytest.fixture
def history_runs() -> list[RunResult]:
    return make_history(6)


@pytest.fixture
def page(history_runs: list[RunResult]) -> str:
    return render_html(history_runs, generated_at="2026-11-26T02:00:00+00:00")


@pytest.fixture
def report_file(page: str, tmp_path: Path) -> Path:
    path = tmp_path / "perfci-report.html"
    path.write_text(page, encoding="utf-8")
    return path
