"""One blueprint per SoftFactory service, plus the shared read helpers.

Reads run on a pooled Core connection, not the ORM session, and send
statements compiled once (:mod:`target_api.prepared`) straight to its cursor:
plain tuples back, none of the per-call execution machinery (see
docs/target_api.md). One connection per request, whatever the number of
statements. Writes use the session.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from flask import Flask, current_app
from sqlalchemy import Connection

from target_api.extensions import db
from target_api.faults import FAT_PAYLOAD
from target_api.params import Page
from target_api.prepared import fetch_all, prepare
from target_api.queries import AnySelect
from target_api.serialization import page_envelope, record_dict


def fat_payload() -> bool:
    return FAT_PAYLOAD in current_app.config["FAULTS"]


@contextmanager
def reading() -> Iterator[Connection]:
    """The pooled connection for one request's reads (checked out once, returned at the end)."""
    with db.engine.connect() as connection:
        yield connection


def list_response(
    name: str,
    page_statement: AnySelect,
    count_statement: AnySelect,
    params: Mapping[str, Any],
    page: Page,
    serialize: Callable[[Sequence[Any]], dict[str, Any]] | None = None,
    connection: Connection | None = None,
) -> dict[str, Any]:
    """Run a page (one statement, its total included) and wrap it in the list envelope.

    ``serialize`` turns a row (a tuple in select order, the total last) into
    its JSON object; by default every column but the total, under its name.
    ``count_statement`` runs only for a page past the end, which has no row to
    carry the total. ``connection``: the request's reading connection, when
    the view already holds one.
    """
    if connection is None:
        with reading() as own:
            return list_response(
                name, page_statement, count_statement, params, page, serialize, own
            )
    rows = fetch_all(connection, page_statement, params)
    total = rows[0][-1] if rows else fetch_all(connection, count_statement, params)[0][0]
    # MariaDB/MySQL return SUM() as a DECIMAL: the envelope's numbers are integers.
    total = int(total)
    if serialize is None:
        keys = prepare(page_statement, connection.dialect).keys
        items = [record_dict(keys, row) for row in rows]
    else:
        items = [serialize(row) for row in rows]
    return page_envelope(name, items, total, page.number, page.size)


def register(app: Flask) -> None:
    from target_api.routes import ai, campaigns, coocook, health, products, sns

    for module in (health, coocook, products, sns, campaigns, ai):
        app.register_blueprint(module.blueprint)
