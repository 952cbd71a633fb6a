"""Fixtures for the dashboard tests: a project with real uploaded runs, the app serving it."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from perfci.dashboard import dashboard_blueprint
from tests.dashboard.memory import MemoryData, results

PROJECT = "softfactory"
PRIVATE = "secret"
PR = 7
PR_BRANCH = "feature/chef-list"
CI = "https://github.com/acme/softfactory/actions/runs/{}"


def commit(n: int) -> str:
    """A made-up 40-hex commit id, a different one for each ``n``."""
    return hashlib.sha1(str(n).encode()).hexdigest()


def filled() -> MemoryData:
    """Main: pass, pass, fail (fat payload), pass; PR 7: a passing push, then one with an N+1
    and missing indexes; a private project with one run."""
    data = MemoryData()
    data.add_project(PROJECT)
    data.add_project(PRIVATE, public=False)
    for n, name in enumerate(["main-pass", "main-pass", "main-fail", "main-pass"], start=1):
        data.upload(PROJECT, results(name), branch="main", commit=commit(n), ci_url=CI.format(n))
    data.upload(PROJECT, results("main-pass"), branch=PR_BRANCH, commit=commit(5), pr=PR)
    data.upload(PROJECT, results("pr-fail"), branch=PR_BRANCH, commit=commit(6), pr=PR)
    data.upload(PRIVATE, results("main-pass"), branch="main", commit=commit(7))
    return data


def make_app(data: MemoryData, **options: Any) -> Flask:
    app = Flask(__name__)
    app.register_blueprint(dashboard_blueprint(data), **options)
    return app


@pytest.fixture
def data() -> MemoryData:
    return filled()


@pytest.fixture
def app(data: MemoryData) -> Flask:
    return make_app(data)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def get(client: FlaskClient) -> Callable[[str], str]:
    """GET a page that must answer 200 with HTML; its text."""

    def fetch(path: str) -> str:
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        assert response.mimetype == "text/html"
        return response.get_data(as_text=True)

    return fetch
