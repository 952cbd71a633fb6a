"""Fixtures for the SoftFactory API: a backend, an app seeded small, its client.

``backend`` runs each test that uses it three times: on a SQLite file with
the in-process cache, on PostgreSQL with Redis (the shared ``postgres_url``,
``redis_url`` and ``unique_prefix`` fixtures from tests/conftest.py), and on
MariaDB (``mariadb_url``) with the in-process cache.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from target_api import create_app, db
from target_api.seed import seed_database

SCALE = 0.02  # 40 chefs, 800 bookings: every list has several pages
TOKEN = "test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}

# Environment variables the app reads; a developer's shell must not leak into tests.
APP_ENV = ("DATABASE_URL", "CACHE_REDIS_URL", "CACHE_KEY_PREFIX", "PERFCI_FAULTS")


@dataclass
class Backend:
    name: str
    config: dict[str, Any] = field(default_factory=dict)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in (*APP_ENV, "PERFCI_SLOW_CPU_MS", "API_TOKEN"):
        monkeypatch.delenv(variable, raising=False)


@pytest.fixture
def sqlite_backend(tmp_path: Path) -> Backend:
    return Backend("sqlite", {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'api.db'}"})


@pytest.fixture(params=["sqlite", "postgres+redis", "mariadb"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "sqlite":
        return Backend("sqlite", {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'api.db'}"})
    if request.param == "mariadb":
        return Backend(
            "mariadb", {"SQLALCHEMY_DATABASE_URI": request.getfixturevalue("mariadb_url")}
        )
    return Backend(
        "postgres+redis",
        {
            "SQLALCHEMY_DATABASE_URI": request.getfixturevalue("postgres_url"),
            "CACHE_REDIS_URL": request.getfixturevalue("redis_url"),
            "CACHE_KEY_PREFIX": request.getfixturevalue("unique_prefix"),
        },
    )


@pytest.fixture
def make_app(backend: Backend) -> Iterator[Callable[..., Flask]]:
    """Build (and by default seed) an app on ``backend``; engines are disposed afterwards."""
    apps: list[Flask] = []

    def build(seed: bool = True, **overrides: Any) -> Flask:
        app = create_app({**backend.config, "API_TOKEN": TOKEN, "TESTING": True, **overrides})
        apps.append(app)
        if seed:
            seed_database(app, SCALE)
        return app

    yield build
    for app in apps:
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


class StatementCounter:
    """Counts statements sent to the database (``before_cursor_execute``)."""

    def __init__(self, app: Flask) -> None:
        self.statements: list[str] = []
        with app.app_context():
            self.engine = db.engine
        event.listen(self.engine, "before_cursor_execute", self._record)

    def _record(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self.statements.append(statement)

    def count_during(self, action: Callable[[], object]) -> int:
        before = len(self.statements)
        action()
        return len(self.statements) - before

    def close(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._record)


@pytest.fixture
def auth() -> dict[str, str]:
    """Headers that authenticate the write endpoint."""
    return dict(AUTH)


@pytest.fixture
def counter_for() -> Iterator[Callable[[Flask], StatementCounter]]:
    """Attach a :class:`StatementCounter` to any app (removed afterwards)."""
    counters: list[StatementCounter] = []

    def attach(app: Flask) -> StatementCounter:
        counter = StatementCounter(app)
        counters.append(counter)
        return counter

    yield attach
    for counter in counters:
        counter.close()
