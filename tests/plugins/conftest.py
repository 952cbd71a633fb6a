"""Fixtures of the built-in checks' tests: each database engine, a SoftFactory project."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.plugins.softfactory import SoftFactoryProject


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each engine in turn: a SQLite file, a fresh PostgreSQL database, a fresh MariaDB one."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'app.db'}"
    fixture = "postgres_url" if request.param == "postgresql" else "mariadb_url"
    return str(request.getfixturevalue(fixture))


@pytest.fixture
def softfactory(tmp_path: Path) -> SoftFactoryProject:
    project = tmp_path / "softfactory"
    project.mkdir()
    return SoftFactoryProject(project)
