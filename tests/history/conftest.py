"""Fixtures for the history store tests: a store URL on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from perfci.history import HistoryStore
from perfci.result import RunResult
from tests.history.factory import make_history


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'history.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, sqlite_url: str) -> str:
    """The same tests against a SQLite file and a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return sqlite_url
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def store(store_url: str) -> Iterator[HistoryStore]:
    with HistoryStore(store_url) as opened:
        yield opened


@pytest.fixture
def history_runs() -> list[RunResult]:
    """Six runs, oldest first; the last one has an injected N+1 regression."""
    return make_history(6)
