"""Hot reads: a statement compiled once per dialect, run on the pooled connection's cursor.

``connection.execute(select)`` costs about 60 µs of Python per call around a
chefs page that SQLite answers in about 80 µs: cache-key hashing, the
compiled-cache lookup, an execution context, bind and result processing set
up per call, the result object, Row objects, and an autobegun transaction
(``BEGIN`` ... ``ROLLBACK``). For the read endpoints none of it varies
between requests, so :class:`Prepared` does it once per (statement, dialect):

* the SQL string exactly as SQLAlchemy would send it (same dialect compiler),
* the order of the positional parameters (``qmark``) or their names,
* the bind and result processors of the types that need one (SQLite dates
  and datetimes stored as text, booleans stored as integers, ...).

:func:`fetch_all` then binds, executes on the DBAPI cursor of an ordinary
pooled Core connection (checkout, pre-ping and reset as before) and returns
plain tuples. It still fires the engine's ``before_cursor_execute`` and
``after_cursor_execute`` events, with the same statement and parameters
SQLAlchemy would have passed (``context`` is None), so statement counters
(perfci's recorder, the n_plus_one and indexes checks) see every query; a
driver error goes through SQLAlchemy's own error handling (``handle_error``
event, wrapping in ``sqlalchemy.exc.DBAPIError``, invalidation on
disconnect).

A single SELECT is its own consistent snapshot, so a read of one statement
runs without an explicit transaction (SQLite: autocommit; PostgreSQL: the
driver's implicit transaction, rolled back when the pool takes the
connection back). Reads of several statements call :func:`snapshot` first.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.types import TypeEngine

Processor = Callable[[Any], Any]


@dataclass(slots=True)
class Prepared:
    """One statement compiled for one dialect, with what binding and reading it needs."""

    sql: str
    #: True: the driver takes a tuple in placeholder order; False: a dict by placeholder name.
    positional: bool
    #: One per placeholder, in order: (placeholder name, parameter name or None for a
    #: constant, the constant, the type's bind processor or None).
    slots: tuple[tuple[str, str | None, Any, Processor | None], ...]
    #: The result columns' types, in order.
    types: tuple[TypeEngine[Any], ...]
    #: The result column names, in order.
    keys: tuple[str, ...]
    #: (index, processor) for the result columns whose type converts values; set
    #: at the first execution, from the driver's column types (``cursor.description``).
    result_processors: tuple[tuple[int, Processor], ...] | None = None

    def bind(self, params: Mapping[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        """The driver parameters for ``params`` (extra keys are ignored)."""
        values = []
        for _, name, constant, processor in self.slots:
            if name is None:
                values.append(constant)
            elif processor is None:
                values.append(params[name])
            else:
                values.append(processor(params[name]))
        if self.positional:
            return tuple(values)
        return {slot[0]: value for slot, value in zip(self.slots, values, strict=True)}

    def convert(
        self, rows: Sequence[Any], dialect: Dialect, description: Any
    ) -> list[tuple[Any, ...]]:
        """Apply the result processors (a no-op for rows that need none)."""
        processors = self.result_processors
        if processors is None:
            processors = self.result_processors = _result_processors(
                self.types, dialect, description
            )
        if not processors:
            # DBAPI fetchall: a list of tuples (PyMySQL: a tuple of tuples).
            return rows if isinstance(rows, list) else list(rows)
        converted = []
        for row in rows:
            values = list(row)
            for index, processor in processors:
                values[index] = processor(values[index])
            converted.append(tuple(values))
        return converted


def _result_processors(
    types: Sequence[TypeEngine[Any]], dialect: Dialect, description: Any
) -> tuple[tuple[int, Processor], ...]:
    """What SQLAlchemy's result metadata would apply: each type's processor for the driver type."""
    found = []
    for index, type_ in enumerate(types):
        driver_type = description[index][1] if description else None
        processor = type_.dialect_impl(dialect).result_processor(dialect, driver_type)
        if processor is not None:
            found.append((index, processor))
    return tuple(found)


_prepared: weakref.WeakKeyDictionary[Dialect, dict[ClauseElement, Prepared]] = (
    weakref.WeakKeyDictionary()
)


def prepare(statement: ClauseElement, dialect: Dialect) -> Prepared:
    """Compile ``statement`` for ``dialect`` once; later calls return the same object.

    Bind parameters are either named and supplied at execution
    (``bindparam("name")``) or constants the compiler added (SQLite's
    ``OFFSET 0`` after a ``LIMIT``); expanding (``IN``) and callable
    parameters are refused: they need SQLAlchemy's per-call machinery.
    """
    per_dialect = _prepared.setdefault(dialect, {})
    found = per_dialect.get(statement)
    if found is not None:
        return found
    compiled = statement.compile(dialect=dialect)
    assert isinstance(compiled, SQLCompiler)
    if compiled.positiontup is not None:
        placeholders = list(compiled.positiontup)
    else:
        placeholders = list(dict.fromkeys(compiled.bind_names.values()))
    slots: list[tuple[str, str | None, Any, Processor | None]] = []
    for placeholder in placeholders:
        bind = compiled.binds[placeholder]
        if bind.callable is not None or bind.expanding:
            raise ValueError(f"prepare: bind parameter {placeholder!r} needs SQLAlchemy's binding")
        processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if bind.value is None:
            slots.append((placeholder, bind.key, None, processor))
        else:
            constant = processor(bind.value) if processor is not None else bind.value
            slots.append((placeholder, None, constant, None))
    prepared = Prepared(
        sql=compiled.string,
        positional=compiled.positiontup is not None,
        slots=tuple(slots),
        types=tuple(column.type for column in compiled._result_columns),
        keys=tuple(column.keyname for column in compiled._result_columns),
    )
    per_dialect[statement] = prepared
    return prepared


def fetch_all(
    connection: Connection, statement: ClauseElement, params: Mapping[str, Any]
) -> list[tuple[Any, ...]]:
    """Every row of ``statement`` as plain tuples (columns in select order)."""
    prepared = prepare(statement, connection.dialect)
    sql = prepared.sql
    parameters: Any = prepared.bind(params)
    pooled = connection.connection
    cursor = pooled.cursor()
    try:
        events = connection.dispatch
        if events.before_cursor_execute:
            for listener in events.before_cursor_execute:
                sql, parameters = listener(connection, cursor, sql, parameters, None, False)
        cursor.execute(sql, parameters)
        if events.after_cursor_execute:
            events.after_cursor_execute(connection, cursor, sql, parameters, None, False)
        rows = cursor.fetchall()
        description = cursor.description
    except Exception as error:
        # SQLAlchemy's own handling: handle_error event, DBAPIError, invalidation.
        connection._handle_dbapi_exception(error, sql, parameters, cursor, None)
    finally:
        cursor.close()
    return prepared.convert(rows, connection.dialect, description)


def fetch_first(
    connection: Connection, statement: ClauseElement, params: Mapping[str, Any]
) -> tuple[Any, ...] | None:
    rows = fetch_all(connection, statement, params)
    return rows[0] if rows else None


def snapshot(connection: Connection) -> None:
    """Put the reads that follow on ``connection`` in one transaction (one snapshot).

    The engine's ``begin`` event (``db_tuning._begin``) sends the BEGIN; the
    connection rolls it back when it closes.
    """
    if not connection.in_transaction():
        connection.begin()
