"""The migration: every index the models declare, and the chef totals with their triggers.

Idempotent (each index, table and trigger is created only if missing; the
totals are recounted), so it is safe on a fresh database, on the report's
old ``platform.db`` and on every deploy. Run it with
``python -m target_api.migrations [--database-url URL]``.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from sqlalchemy import Connection, Engine, inspect

from target_api import totals
from target_api.models import Base


def apply(engine: Engine, indexes: bool = True) -> list[str]:
    """Create what is missing (``indexes=False``: all but the indexes); return the names created."""
    created: list[str] = []
    with engine.begin() as connection:
        if indexes:
            created += _create_indexes(connection)
        created += totals.install(connection)
    return created


def _create_indexes(connection: Connection) -> list[str]:
    created: list[str] = []
    inspector = inspect(connection)
    for table in Base.metadata.sorted_tables:
        if not inspector.has_table(table.name):
            continue
        existing = {index["name"] for index in inspector.get_indexes(table.name)}
        for index in sorted(table.indexes, key=lambda index: str(index.name)):
            if index.name not in existing:
                index.create(connection)
                created.append(str(index.name))
    return created


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m target_api.migrations", description=__doc__)
    parser.add_argument("--database-url", help="default: DATABASE_URL or the instance SQLite file")
    args = parser.parse_args(argv)
    from target_api import create_app
    from target_api.extensions import db

    overrides = {"SQLALCHEMY_DATABASE_URI": args.database_url} if args.database_url else None
    app = create_app(overrides)
    with app.app_context():
        created = apply(db.engine)
    print(f"created {len(created)} object(s)" + (": " + ", ".join(created) if created else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
