"""Schema facts about indexes: which exist, which required ones are missing, unindexed foreign keys.

An index "serves" a list of columns when those columns are its leading
columns, in order; primary keys and unique constraints count as indexes.
Neither SQLite, PostgreSQL nor SQLAlchemy indexes a foreign-key column by
itself, so every foreign key should be served by some index, and not by a
partial one (it covers some rows only). SQLite's expression indexes, which
SQLAlchemy's reflection skips, are read from SQLite's own catalogue.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import inspect
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SAWarning

_REQUIREMENT = re.compile(r"^\s*(?P<table>[\w.]+)\s*\((?P<columns>[^()]*)\)\s*$")
_NAME = re.compile(r"^\s*[\w.]+\s*$")


@dataclass(frozen=True)
class IndexFact:
    """An index (or primary key / unique constraint) of one table."""

    table: str
    name: str | None
    columns: tuple[str, ...]
    # A partial index (WHERE ...): it covers some rows only, so it serves no foreign key
    # (PostgreSQL's foreign-key check query cannot use it and seq-scans the table).
    partial: bool = False

    def serves(self, columns: Sequence[str]) -> bool:
        return bool(columns) and self.columns[: len(columns)] == tuple(columns)


@dataclass(frozen=True)
class ForeignKey:
    table: str
    columns: tuple[str, ...]
    referred: str

    @property
    def label(self) -> str:
        return f"{self.table}({', '.join(self.columns)}) → {self.referred}"


@dataclass(frozen=True)
class Schema:
    indexes: tuple[IndexFact, ...]
    foreign_keys: tuple[ForeignKey, ...]


@dataclass(frozen=True)
class Requirement:
    """``table(col, ...)``: an index leading with these columns; or an index ``name``."""

    text: str
    table: str | None = None
    columns: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.text.strip()

    def met_by(self, indexes: Sequence[IndexFact]) -> bool:
        if self.table is None:
            return any(index.name == self.name for index in indexes)
        return any(index.table == self.table and index.serves(self.columns) for index in indexes)


def parse_requirement(text: str) -> Requirement:
    """``"bookings(chef_id)"`` or ``"idx_bookings_chef_id"``; ValueError otherwise."""
    if match := _REQUIREMENT.match(text):
        columns = tuple(c.strip() for c in match["columns"].split(",") if c.strip())
        if not columns:
            raise ValueError(f"{text!r}: name at least one column")
        return Requirement(text.strip(), match["table"], columns)
    if _NAME.match(text):
        return Requirement(text.strip())
    raise ValueError(f"{text!r} is neither 'table(column, ...)' nor an index name")


def read_schema(engine: Engine) -> Schema:
    """Every index, primary key, unique constraint and foreign key of the default schema."""
    with warnings.catch_warnings():
        # SQLite reflection skips expression indexes with a warning (also while reading
        # unique constraints); _sqlite_catalogue reads them.
        warnings.filterwarnings("ignore", "Skipped unsupported reflection", SAWarning)
        return _read_schema(engine)


def _read_schema(engine: Engine) -> Schema:
    inspector = inspect(engine)
    indexes: list[IndexFact] = []
    foreign_keys: list[ForeignKey] = []
    for table in sorted(inspector.get_table_names()):
        pk = inspector.get_pk_constraint(table)
        if pk.get("constrained_columns"):
            indexes.append(IndexFact(table, pk.get("name"), tuple(pk["constrained_columns"])))
        for unique in inspector.get_unique_constraints(table):
            indexes.append(IndexFact(table, unique.get("name"), tuple(unique["column_names"])))
        reflected = inspector.get_indexes(table)
        for index in reflected:
            options = index.get("dialect_options") or {}
            partial = any(options.get(k) is not None for k in ("postgresql_where", "sqlite_where"))
            columns = _leading_columns(index["column_names"])
            indexes.append(IndexFact(table, index.get("name"), columns, partial))
        if engine.dialect.name == "sqlite":
            known = {index.get("name") for index in reflected}
            indexes += [i for i in _sqlite_catalogue(engine, table) if i.name not in known]
        for fk in inspector.get_foreign_keys(table):
            referred = f"{fk['referred_table']}({', '.join(fk['referred_columns'])})"
            foreign_keys.append(ForeignKey(table, tuple(fk["constrained_columns"]), referred))
    return Schema(tuple(indexes), tuple(foreign_keys))


def _leading_columns(columns: Sequence[str | None]) -> tuple[str, ...]:
    """An expression column has no name; it cannot lead a column list after it."""
    names = []
    for column in columns:
        if column is None:
            break
        names.append(column)
    return tuple(names)


def _sqlite_catalogue(engine: Engine, table: str) -> list[IndexFact]:
    """Every index of ``table`` from SQLite's own catalogue, expression indexes included."""
    found = []
    with engine.connect() as connection:
        rows = connection.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ?", (table,)
        ).all()
        for name, sql in rows:
            info = connection.exec_driver_sql(f'PRAGMA index_xinfo("{name}")').all()
            # (seqno, cid, name, desc, coll, key): key columns only; cid -2 is an expression.
            columns = [row[2] if row[1] >= 0 else None for row in info if row[5]]
            partial = bool(sql) and " WHERE " in sql.upper()
            found.append(IndexFact(table, str(name), _leading_columns(columns), partial))
    return found


def missing_requirements(schema: Schema, required: Sequence[Requirement]) -> list[Requirement]:
    return [r for r in required if not r.met_by(schema.indexes)]


def unindexed_foreign_keys(schema: Schema, allowed: Sequence[str] = ()) -> list[ForeignKey]:
    """Foreign keys whose columns lead no index; ``allowed`` lists accepted ``table.column``."""
    accepted = {a.strip() for a in allowed}
    found = []
    for fk in schema.foreign_keys:
        if f"{fk.table}.{','.join(fk.columns)}" in accepted:
            continue
        if not any(
            i.table == fk.table and not i.partial and i.serves(fk.columns) for i in schema.indexes
        ):
            found.append(fk)
    return found
