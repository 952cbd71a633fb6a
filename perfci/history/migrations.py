"""Schema versions of the history store and the steps between them.

``perfci_schema`` holds one row per applied migration; the store's version is
the highest. Opening a store applies the missing steps in one transaction
(SQLite and PostgreSQL both have transactional DDL), under a write lock so two
runs opening a fresh store at once cannot both create it. A store newer than
this perfci is refused rather than guessed at.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, func, inspect, select, text

from perfci.history import schema


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    apply: Callable[[Connection], None]


def _create_v1(conn: Connection) -> None:
    # A fresh store gets today's schema.py at once; the later steps below are
    # written to find their change already made (they add what is missing).
    schema.metadata.create_all(
        conn,
        tables=[schema.projects, schema.tokens, schema.runs, schema.measurements, schema.verdicts],
        checkfirst=False,
    )


def _measurement_environment_v2(conn: Connection) -> None:
    # What a deterministic count depends on (the instructions check's Ir): a JSON object.
    columns = {c["name"] for c in inspect(conn).get_columns(schema.measurements.name)}
    if "environment" not in columns:
        conn.execute(text(f"ALTER TABLE {schema.measurements.name} ADD COLUMN environment TEXT"))


def _server_v3(conn: Connection) -> None:
    # perfci server: projects, their tokens, and the upload's facts on each run.
    for table in (schema.projects, schema.tokens):
        table.create(conn, checkfirst=True)
    columns = {c["name"] for c in inspect(conn).get_columns(schema.runs.name)}
    for name in ("project_id", "pr", "ci_url", "committed_at"):
        if name not in columns:
            column = schema.runs.c[name]
            kind = column.type.compile(dialect=conn.dialect)
            conn.execute(text(f"ALTER TABLE {schema.runs.name} ADD COLUMN {name} {kind}"))
    wanted = [*schema.runs.indexes, *schema.measurements.indexes]
    existing = {
        index["name"]
        for table in (schema.runs.name, schema.measurements.name)
        for index in inspect(conn).get_indexes(table)
    }
    for index in wanted:
        if index.name not in existing:
            index.create(conn)


def _measurement_statistic_v4(conn: Connection) -> None:
    # Which statistic of its samples a timing's value is (p95 is judged as p95); NULL: median.
    columns = {c["name"] for c in inspect(conn).get_columns(schema.measurements.name)}
    if "statistic" not in columns:
        kind = schema.measurements.c.statistic.type.compile(dialect=conn.dialect)
        conn.execute(text(f"ALTER TABLE {schema.measurements.name} ADD COLUMN statistic {kind}"))


def _read_only_tokens_v5(conn: Connection) -> None:
    # perfci server: read-only tokens (a proxy for a private project's pages); old ones write.
    columns = {c["name"] for c in inspect(conn).get_columns(schema.tokens.name)}
    if "read_only" not in columns:
        conn.execute(
            text(
                f"ALTER TABLE {schema.tokens.name} ADD COLUMN read_only INTEGER NOT NULL DEFAULT 0"
            )
        )


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "runs, measurements and verdicts", _create_v1),
    Migration(2, "measurements carry their environment", _measurement_environment_v2),
    Migration(3, "perfci server: projects, tokens, uploaded runs", _server_v3),
    Migration(4, "measurements say which statistic their value is", _measurement_statistic_v4),
    Migration(5, "perfci server: read-only tokens", _read_only_tokens_v5),
)
LATEST = MIGRATIONS[-1].version

# Any constant works; it only has to be the same in every perfci process.
_PG_LOCK_KEY = 0x7065726663690001


class SchemaTooNew(Exception):
    """The store was written by a newer perfci."""

    def __init__(self, found: int, known: int) -> None:
        super().__init__(
            f"its schema is version {found}, newer than this perfci understands ({known}): "
            "upgrade perfci"
        )
        self.found = found
        self.known = known


def current_version(conn: Connection) -> int:
    """The store's schema version; 0 for an empty database."""
    if not inspect(conn).has_table(schema.schema_versions.name):
        return 0
    version = conn.execute(select(func.max(schema.schema_versions.c.version))).scalar()
    return int(version or 0)


def migrate(conn: Connection, migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """Bring the store to the newest version inside the caller's transaction; return it.

    On SQLite the caller's transaction is ``BEGIN IMMEDIATE``, which already
    serialises writers; on PostgreSQL an advisory lock does the same.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
    version = current_version(conn)
    latest = migrations[-1].version if migrations else 0
    if version > latest:
        raise SchemaTooNew(version, latest)
    if version == latest:
        return version
    if version == 0:
        schema.schema_versions.create(conn)
    for step in migrations:
        if step.version > version:
            step.apply(conn)
            conn.execute(
                schema.schema_versions.insert().values(
                    version=step.version,
                    description=step.description,
                    applied_at=dt.datetime.now(dt.UTC),
                )
            )
            version = step.version
    return version
