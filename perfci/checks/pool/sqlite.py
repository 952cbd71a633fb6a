"""What a SQLite file database needs under concurrency, read from live pooled connections.

The seed report's first bottleneck: the rollback journal, deferred write
transactions and no busy timeout turn concurrent writes into "database is
locked". The fixes are per connection (``synchronous``, ``busy_timeout``),
per file (``journal_mode=WAL``) and per transaction (``BEGIN IMMEDIATE`` for
writes), so they are read here from a connection the pool hands out and from
the statements a real write sends to SQLite, never from the configuration.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine, ExceptionContext

from perfci import ConfigError, Endpoint, RunContext

SYNCHRONOUS = {0: "off", 1: "normal", 2: "full", 3: "extra"}
LOCKED_MESSAGES = ("database is locked", "database table is locked")
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


@dataclass(frozen=True)
class Pragmas:
    journal_mode: str
    synchronous: str
    busy_timeout_ms: int


def read_pragmas(engine: Engine) -> Pragmas:
    """The pragmas of a connection checked out of ``engine``'s pool."""
    with engine.connect() as connection:

        def pragma(name: str) -> Any:
            return connection.exec_driver_sql(f"PRAGMA {name}").scalar()

        synchronous = int(pragma("synchronous"))
        return Pragmas(
            journal_mode=str(pragma("journal_mode")).lower(),
            synchronous=SYNCHRONOUS.get(synchronous, str(synchronous)),
            busy_timeout_ms=int(pragma("busy_timeout")),
        )


@dataclass
class WriteTrace:
    """The statements SQLite ran for one write request, as its trace callback saw them."""

    status: int
    statements: list[str] = field(default_factory=list)

    @property
    def begin(self) -> str | None:
        """The BEGIN that opened the transaction of the first write statement."""
        first_write = next(
            (i for i, sql in enumerate(self.statements) if _verb(sql) in _WRITES), None
        )
        if first_write is None:
            return None
        for sql in reversed(self.statements[:first_write]):
            if _verb(sql) == "BEGIN":
                return " ".join(sql.split()).upper()
            if _verb(sql) in ("COMMIT", "ROLLBACK", "END"):
                break
        return None

    @property
    def immediate(self) -> bool:
        begin = self.begin or ""
        return "IMMEDIATE" in begin or "EXCLUSIVE" in begin


def _verb(sql: str) -> str:
    words = sql.split(None, 1)
    return words[0].upper() if words else ""


@contextmanager
def tracing(engine: Engine, statements: list[str]) -> Iterator[None]:
    """Collect every statement SQLite runs on connections checked out meanwhile.

    ``sqlite3.Connection.set_trace_callback`` sees what the driver itself sends
    (its implicit ``BEGIN``, a ``BEGIN IMMEDIATE`` issued by a ``begin`` event
    handler), which SQLAlchemy's cursor events do not.
    """
    lock = threading.Lock()

    def record(sql: str) -> None:
        with lock:
            statements.append(sql)

    def on_checkout(dbapi_connection: Any, *_: Any) -> None:
        if hasattr(dbapi_connection, "set_trace_callback"):
            dbapi_connection.set_trace_callback(record)

    def on_checkin(dbapi_connection: Any, *_: Any) -> None:
        if dbapi_connection is not None and hasattr(dbapi_connection, "set_trace_callback"):
            dbapi_connection.set_trace_callback(None)

    event.listen(engine.pool, "checkout", on_checkout)
    event.listen(engine.pool, "checkin", on_checkin)
    try:
        yield
    finally:
        event.remove(engine.pool, "checkout", on_checkout)
        event.remove(engine.pool, "checkin", on_checkin)


def trace_write(ctx: RunContext, endpoint: Endpoint) -> WriteTrace:
    """Send the write probe once and record the statements it ran."""
    trace = WriteTrace(status=0)
    with tracing(ctx.engine, trace.statements):
        response = ctx.call(endpoint)
    trace.status = response.status_code
    if 400 <= response.status_code < 500:
        raise ConfigError(
            f"checks.pool.write_probe: {endpoint.subject} answered {response.status_code}: "
            f"{response.get_data(as_text=True)[:200]}"
        )
    return trace


@dataclass
class WritersResult:
    writers: int
    locked: int = 0
    statuses: list[int] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)


def concurrent_writes(ctx: RunContext, endpoint: Endpoint, writers: int) -> WritersResult:
    """``writers`` threads send the write probe at the same moment; count lock errors.

    Lock errors are counted where SQLAlchemy sees the driver's exception
    (``handle_error``), so an app that turns them into 500s, or retries them,
    is still seen.
    """
    result = WritersResult(writers=writers)
    lock = threading.Lock()
    start = threading.Barrier(writers)

    def on_error(context: ExceptionContext) -> None:
        message = str(context.original_exception)
        if any(text in message.lower() for text in LOCKED_MESSAGES):
            with lock:
                result.locked += 1
                if len(result.messages) < 3:
                    result.messages.append(f"{message} during {context.statement or '?'}")

    def one(_: int) -> int:
        client = ctx.client()
        with suppress(threading.BrokenBarrierError):
            start.wait(timeout=30)
        status: int = ctx.call(endpoint, client).status_code
        return status

    event.listen(ctx.engine, "handle_error", on_error)
    try:
        with ThreadPoolExecutor(max_workers=writers) as executor:
            result.statuses = list(executor.map(one, range(writers)))
    finally:
        event.remove(ctx.engine, "handle_error", on_error)
    return result
