"""openapi.yaml is a valid OpenAPI 3.1 document and matches the app's routes exactly."""

from __future__ import annotations

import re
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Flask
from openapi_spec_validator import validate

from perfci.server import create_app

METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    """The routes do not depend on the engine: SQLite only."""
    return create_app(f"sqlite:///{tmp_path / 'server.db'}")


def spec() -> dict[str, Any]:
    text = files("perfci.server").joinpath("openapi.yaml").read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def documented() -> set[tuple[str, str]]:
    return {
        (path, method.upper())
        for path, item in spec()["paths"].items()
        for method in item
        if method in METHODS
    }


def routed(app: Flask) -> set[tuple[str, str]]:
    found = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or not rule.rule.startswith("/api/"):
            continue  # the dashboard's HTML pages are not part of the API
        path = re.sub(r"<(?:[a-z]+(?:\([^)]*\))?:)?([a-z_]+)>", r"{\1}", rule.rule)
        for method in rule.methods or ():
            if method not in ("HEAD", "OPTIONS"):
                found.add((path, method))
    return found


def test_the_file_is_valid_openapi_3_1() -> None:
    data = spec()
    assert data["openapi"].startswith("3.1")
    validate(data)


def test_every_route_is_documented_and_every_documented_path_is_routed(app: Flask) -> None:
    assert routed(app) == documented()


def test_a_route_missing_from_the_file_would_be_noticed(app: Flask) -> None:
    @app.get("/api/v1/undocumented")
    def undocumented() -> str:
        return "{}"

    assert ("/api/v1/undocumented", "GET") in routed(app) - documented()
