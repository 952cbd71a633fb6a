"""Engine tuning: pool sizes, SQLite pragmas, BEGIN IMMEDIATE for writes, fork safety.

The seed report's bottlenecks 1 and 2 (SQLite locking, pool exhaustion) are
fixed here. ``no_wal`` and ``small_pool`` put them back.
"""

from __future__ import annotations

import weakref
from collections.abc import Set
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.orm import Session, scoped_session

from target_api.faults import NO_WAL, SMALL_POOL

#: Execution option that makes a SQLite transaction start with BEGIN IMMEDIATE.
WRITE_OPTION = "target_api_write"

# The report's recommended pool: 20 idle + 40 overflow, checked and recycled.
TUNED_POOL: dict[str, Any] = {
    "pool_size": 20,
    "max_overflow": 40,
    "pool_pre_ping": True,
    "pool_recycle": 3600,
}
# The pool the report found in production (QueuePool's defaults, spelled out).
SMALL_POOL_OPTIONS: dict[str, Any] = {"pool_size": 5, "max_overflow": 10, "pool_pre_ping": False}

# Pragmas for every pooled SQLite connection. WAL lets readers run beside the
# writer; NORMAL is durable in WAL except across power loss of the last commit;
# a 64 MB page cache and memory-mapped reads keep the hot tables off the syscall
# path; busy_timeout makes a second writer wait for the lock instead of failing.
SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA cache_size=-64000",
    "PRAGMA mmap_size=268435456",
    "PRAGMA temp_store=MEMORY",
    "PRAGMA busy_timeout=5000",
    "PRAGMA foreign_keys=ON",
)
# no_wal: the rollback journal, set explicitly because WAL persists in the file.
SQLITE_PRAGMAS_NO_WAL = ("PRAGMA journal_mode=DELETE", "PRAGMA foreign_keys=ON")

_engines: weakref.WeakSet[Engine] = weakref.WeakSet()


def is_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite"


def is_sqlite_memory(url: URL) -> bool:
    """True for ``sqlite://``, ``sqlite:///:memory:`` and ``mode=memory`` URIs."""
    if not is_sqlite(url):
        return False
    return url.database in (None, "", ":memory:") or url.query.get("mode") == "memory"


def engine_options(uri: str, faults: Set[str]) -> dict[str, Any]:
    """``SQLALCHEMY_ENGINE_OPTIONS`` for ``uri``: pool arguments only where the pool takes them.

    In-memory SQLite gets none: Flask-SQLAlchemy gives it a StaticPool (one
    shared connection), which rejects ``pool_size`` and ``max_overflow``.
    """
    url = make_url(uri)
    if is_sqlite_memory(url):
        return {}
    options = dict(SMALL_POOL_OPTIONS if SMALL_POOL in faults else TUNED_POOL)
    if is_sqlite(url):
        # Pooled connections move between request threads.
        options["connect_args"] = {"check_same_thread": False}
    return options


def install(engine: Engine, faults: Set[str]) -> None:
    """Attach the SQLite pragmas and explicit BEGIN handling to ``engine``."""
    _engines.add(engine)
    if not is_sqlite(engine.url):
        return
    if NO_WAL in faults:
        # pysqlite's legacy behaviour: rollback journal, deferred implicit BEGIN.
        event.listen(engine, "connect", _connect_no_wal)
        return
    event.listen(engine, "connect", _connect_tuned)
    event.listen(engine, "begin", _begin)


def _connect_tuned(dbapi_connection: Any, _connection_record: Any) -> None:
    # SQLAlchemy's pysqlite recipe: stop the driver's own BEGIN handling so the
    # "begin" event below decides how each transaction starts.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    for pragma in SQLITE_PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


def _connect_no_wal(dbapi_connection: Any, _connection_record: Any) -> None:
    cursor = dbapi_connection.cursor()
    for pragma in SQLITE_PRAGMAS_NO_WAL:
        cursor.execute(pragma)
    cursor.close()


def _begin(connection: Connection) -> None:
    # A deferred transaction that reads and then writes fails at once with
    # "database is locked" when another writer committed in between, whatever
    # busy_timeout says. Writers therefore take the write lock up front.
    # Sent straight to the driver (the recipe uses exec_driver_sql): the same
    # statement without a full SQLAlchemy execution context around it, and it is
    # bookkeeping, so statement counters do not see it.
    immediate = connection.get_execution_options().get(WRITE_OPTION)
    connection.connection.driver_connection.execute(  # type: ignore[union-attr]
        "BEGIN IMMEDIATE" if immediate else "BEGIN"
    )


def begin_write(session: Session | scoped_session[Any]) -> None:
    """Start ``session``'s transaction as a write (BEGIN IMMEDIATE on SQLite).

    Call before the first statement of the transaction; elsewhere a no-op.
    """
    session.connection(execution_options={WRITE_OPTION: True})


def dispose_inherited_connections() -> None:
    """Forget pooled connections inherited from a parent process (call after fork).

    ``close=False`` leaves the parent's sockets and file handles alone: the
    child only drops its references, and opens its own connections on demand.
    """
    for engine in list(_engines):
        engine.dispose(close=False)
