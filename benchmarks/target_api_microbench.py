"""pytest-benchmark micro-benchmarks: serialization and query building.

    pytest benchmarks/target_api_microbench.py

Not part of tests/: they measure, they do not assert times.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.dialects import postgresql, sqlite

from target_api import create_app, db, queries, serialization
from target_api.params import Page
from target_api.seed import seed_database


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    path = Path(tmp_path_factory.mktemp("micro")) / "micro.db"
    application = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    seed_database(application, 0.1)
    yield application
    with application.app_context():
        db.engine.dispose()


@pytest.fixture(scope="module")
def chef_rows(app: Flask) -> list[Any]:
    params = queries.page_params(Page(1, 50))
    with app.app_context(), db.engine.connect() as connection:
        return list(connection.execute(queries.chefs_page(False, False), params).all())


@pytest.fixture(scope="module")
def fat_rows(app: Flask) -> list[Any]:
    params = queries.page_params(Page(1, 50))
    with app.app_context(), db.engine.connect() as connection:
        return list(connection.execute(queries.chefs_page(False, False, True), params).all())


def test_serialize_chef_page_lean(benchmark: Any, app: Flask, chef_rows: list[Any]) -> None:
    encode = app.json.encode  # type: ignore[attr-defined]  # the app's FastJSONProvider

    def serialize() -> bytes:
        items = [serialization.chef_summary(row) for row in chef_rows]
        return encode(serialization.page_envelope("chefs", items, 1800, 1, 50))  # type: ignore[no-any-return]

    benchmark(serialize)


def test_serialize_chef_page_fat(benchmark: Any, app: Flask, fat_rows: list[Any]) -> None:
    encode = app.json.encode  # type: ignore[attr-defined]  # the app's FastJSONProvider

    def serialize() -> bytes:
        items = serialization.rows(fat_rows)
        return encode(serialization.page_envelope("chefs", items, 1800, 1, 50))  # type: ignore[no-any-return]

    benchmark(serialize)


def test_build_chefs_statement_cold(benchmark: Any) -> None:
    benchmark(queries.chefs_page.__wrapped__, True, True, False)


def test_build_chefs_statement_memoized(benchmark: Any) -> None:
    benchmark(queries.chefs_page, True, True, False)


@pytest.mark.parametrize(
    "dialect", [sqlite.dialect(), postgresql.dialect()], ids=["sqlite", "postgresql"]
)
def test_compile_chefs_statement(benchmark: Any, dialect: Any) -> None:
    statement = queries.chefs_page(True, False)
    benchmark(lambda: str(statement.compile(dialect=dialect)))


def test_execute_chefs_page(benchmark: Any, app: Flask) -> None:
    params = queries.page_params(Page(1, 12))
    statement = queries.chefs_page(False, False)
    with app.app_context():
        engine = db.engine

        def run() -> list[Any]:
            with engine.connect() as connection:
                return list(connection.execute(statement, params).all())

        benchmark(run)


@pytest.mark.parametrize(
    ("url", "headers"),
    [
        ("/health", {}),
        ("/api/coocook/chefs", {}),
        ("/api/coocook/chefs", {"Cache-Control": "no-cache"}),
    ],
    ids=["health", "chefs-cached", "chefs-uncached"],
)
def test_request_in_process(benchmark: Any, app: Flask, url: str, headers: dict[str, str]) -> None:
    client = app.test_client()
    client.get(url)
    benchmark(lambda: client.get(url, headers=headers))
