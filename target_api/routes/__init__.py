"""One blueprint per SoftFactory service, plus the shared read helpers.

Reads run on a Core connection, not the ORM session: they return plain rows,
and skipping the unit of work halves the Python cost per request (see
docs/target_api.md). Writes use the session.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from flask import Flask, current_app
from sqlalchemy import Connection

from target_api.extensions import db
from target_api.faults import FAT_PAYLOAD
from target_api.params import Page
from target_api.queries import AnySelect
from target_api.serialization import AnyRow, page_envelope, row_dict


def fat_payload() -> bool:
    return FAT_PAYLOAD in current_app.config["FAULTS"]


@contextmanager
def reading() -> Iterator[Connection]:
    """A pooled connection for one request's reads (one transaction, rolled back)."""
    with db.engine.connect() as connection:
        yield connection


def list_response(
    name: str,
    page_statement: AnySelect,
    count_statement: AnySelect,
    params: Mapping[str, Any],
    page: Page,
    serialize: Callable[[AnyRow], dict[str, Any]] = row_dict,
) -> dict[str, Any]:
    """Run a page (one statement, its total included) and wrap it in the list envelope.

    ``count_statement`` runs only for a page past the end, which has no row to
    carry the total.
    """
    with reading() as connection:
        rows = connection.execute(page_statement, params).all()
        total = rows[0][-1] if rows else connection.execute(count_statement, params).scalar_one()
    items = [serialize(row) for row in rows]
    return page_envelope(name, items, total, page.number, page.size)


def register(app: Flask) -> None:
    from target_api.routes import ai, campaigns, coocook, health, products, sns

    for module in (health, coocook, products, sns, campaigns, ai):
        app.register_blueprint(module.blueprint)
