"""Fixtures for perfci server: a store on SQLite and PostgreSQL, the app, projects and tokens."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from perfci.server import create_app
from tests.server.helpers import Client, Projects, make_projects


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def server_db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh store URL: a SQLite file, and a scratch PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'server.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def projects(server_db: str) -> Projects:
    return make_projects(server_db)


@pytest.fixture
def app(server_db: str, projects: Projects) -> Iterator[Flask]:
    application = create_app(server_db)
    yield application
    application.extensions["perfci_store"].close()


@pytest.fixture
def client(app: Flask) -> Client:
    return Client(app.test_client())
