"""The per-request fast paths: same results, same events, same bytes as the slow ones."""

from __future__ import annotations

import datetime as dt
import decimal
import json
from typing import Any

import pytest
from flask import Flask, Response
from flask.json.provider import DefaultJSONProvider
from flask.testing import FlaskClient
from sqlalchemy import Connection, event, exc, select, text
from sqlalchemy.engine import ExceptionContext

from target_api import caching, db, queries
from target_api.params import Page, query_arg
from target_api.prepared import fetch_all, prepare

PAGE = Page(2, 5)

#: (statement, bind values): every read statement the routes send, lean and fat.
STATEMENTS: list[tuple[Any, dict[str, Any]]] = [
    (queries.chefs_page(False, False), {}),
    (queries.chefs_page(True, True, True), {"cuisine": "Korean", "location": "Seoul"}),
    (queries.chefs_count(True, False), {"cuisine": "Korean"}),
    (queries.chef_detail(), {"chef_id": 3}),
    (queries.recent_bookings(), {"chef_id": 3, "limit": 5}),
    (queries.bookings_page(True, True), {"user_id": 7}),
    (queries.products_page(True), {}),
    (queries.posts_page(True, False, True), {"status": "published"}),
    (queries.campaigns_page(False, True), {}),
    (queries.campaign_exists(), {"campaign_id": 1}),
    (queries.applications_page(False, True), {"campaign_id": 1}),
    (queries.employees_page(False, True), {}),
    (queries.scenarios_page(False, True), {}),
]


def _connect(app: Flask) -> Connection:
    with app.app_context():
        return db.engine.connect()


@pytest.mark.parametrize("index", range(len(STATEMENTS)))
def test_prepared_rows_equal_sqlalchemy_rows(app: Flask, index: int) -> None:
    statement, values = STATEMENTS[index]
    params = queries.page_params(PAGE, **values)
    with _connect(app) as connection:
        expected = [tuple(row) for row in connection.execute(statement, params)]
        connection.rollback()
        got = fetch_all(connection, statement, params)
        keys = prepare(statement, connection.dialect).keys
        assert keys == tuple(connection.execute(statement, params).keys())
    assert got == expected
    # Types converted as SQLAlchemy converts them (dates, datetimes, booleans).
    assert [tuple(map(type, row)) for row in got] == [tuple(map(type, row)) for row in expected]


def test_prepared_statements_reach_cursor_events(app: Flask) -> None:
    seen: list[tuple[str, Any]] = []
    after: list[str] = []

    def before(conn: Any, cursor: Any, statement: str, parameters: Any, *rest: Any) -> None:
        seen.append((statement, parameters))

    def rewrite(conn: Any, cursor: Any, statement: str, parameters: Any, *rest: Any) -> Any:
        return "/* tagged */ " + statement, parameters

    def done(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        after.append(statement)

    statement = queries.chef_detail()
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "before_cursor_execute", rewrite, retval=True)
    event.listen(engine, "after_cursor_execute", done)
    try:
        with engine.connect() as connection:
            rows = fetch_all(connection, statement, {"chef_id": 3, "unused": 1})
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "before_cursor_execute", rewrite)
        event.remove(engine, "after_cursor_execute", done)
    assert len(rows) == 1
    sql = prepare(statement, engine.dialect).sql
    assert seen[0][0] == sql
    assert 3 in (seen[0][1].values() if isinstance(seen[0][1], dict) else seen[0][1])
    assert after == ["/* tagged */ " + sql]


def test_prepared_errors_go_through_sqlalchemy(app: Flask) -> None:
    errors: list[ExceptionContext] = []
    broken = select(text("no_such_column")).select_from(text("chefs"))

    def on_error(context: ExceptionContext) -> None:
        errors.append(context)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "handle_error", on_error)
    try:
        with engine.connect() as connection, pytest.raises(exc.DBAPIError):
            fetch_all(connection, broken, {})
    finally:
        event.remove(engine, "handle_error", on_error)
    assert len(errors) == 1


def test_prepared_refuses_parameters_it_cannot_bind(app: Flask) -> None:
    from target_api.models import Chef

    with app.app_context():
        dialect = db.engine.dialect
    with pytest.raises(ValueError, match="SQLAlchemy's binding"):
        prepare(select(Chef.id).where(Chef.id.in_([1, 2])), dialect)


def test_chefs_page_is_compiled_once_per_dialect(app: Flask) -> None:
    with app.app_context():
        dialect = db.engine.dialect
    statement = queries.chefs_page(False, False)
    assert prepare(statement, dialect) is prepare(statement, dialect)


def test_json_bytes_equal_flasks_default_provider(app: Flask) -> None:
    payload = {
        "chefs": [{"id": 1, "name": "Jí-woo \u2603", "price": 12.5, "ok": True, "none": None}],
        "when": dt.date(2026, 1, 2),
        "at": dt.datetime(2026, 1, 2, 3, 4, 5),
        "amount": decimal.Decimal("1.10"),
        "floats": [0.1, 1 / 3, 1e16, -0.0],
        "keys": {1: "int key"},
        "z": 1,
        "a": 2,
    }
    # Flask's provider, compact and unsorted, with UTF-8 text as orjson writes it.
    reference = DefaultJSONProvider(app)
    reference.sort_keys = False
    reference.compact = True
    reference.ensure_ascii = False
    with app.app_context():
        assert _body(app.json.response(payload)) == _body(reference.response(payload))
        # Beyond 64 bits orjson refuses; Flask's path writes it.
        big = {"big": 2**70}
        assert _body(app.json.response(big)) == _body(reference.response(big))
        # Exponents are spelled differently (2.5e-7, not 2.5e-07): the same number.
        tiny = {"tiny": 2.5e-7}
        assert json.loads(_body(app.json.response(tiny))) == tiny
        assert app.json.dumps(payload) == reference.dumps(payload)
        body = _body(app.json.response(payload))
    assert body.endswith(b"}\n")
    assert json.loads(body)["chefs"][0]["name"] == "Jí-woo \u2603"


def test_query_arg_reads_without_raising(app: Flask) -> None:
    with app.test_request_context("/x?a=1&a=2&b="):
        assert query_arg("a") == "1"
        assert query_arg("b") == ""
        assert query_arg("missing") is None


def test_vary_accept_encoding_without_accept_encoding(client: FlaskClient) -> None:
    plain = client.get("/api/coocook/chefs?per_page=50", headers={"Accept-Encoding": ""})
    assert plain.headers["Vary"] == "Accept-Encoding"
    assert "Content-Encoding" not in plain.headers
    assert client.get("/health").headers["Vary"] == "Accept-Encoding"
    packed = client.get("/api/coocook/chefs?per_page=50", headers={"Accept-Encoding": "gzip"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert packed.headers["Vary"] == "Accept-Encoding"


def test_bypass_reads_the_generation_not_the_entry(app: Flask, client: FlaskClient) -> None:
    client.get("/api/products")
    views = app.extensions[caching.EXTENSION_KEY]
    looked_up: list[str] = []
    original = views.lookup

    def lookup(key: str) -> Any:
        looked_up.append(key)
        return original(key)

    views.lookup = lookup
    try:
        bypass = client.get("/api/products", headers={"Cache-Control": "no-cache"})
        hit = client.get("/api/products")
    finally:
        del views.lookup
    assert bypass.headers["X-Cache"] == "BYPASS"
    assert hit.headers["X-Cache"] == "HIT"
    assert looked_up == ["view:/api/products"]  # only the second request looked the entry up


def _body(response: object) -> bytes:
    """The body of a JSON provider's response (typed as the sans-I/O base, which has none)."""
    assert isinstance(response, Response)
    return response.get_data()
