"""Records the SQL statements an application issues, with lazy loads and rows fetched.

A recording collects the statements its own thread sends and, while it is
the only recording open on the engine, those of every other thread too (a
request that fans queries out to a thread pool causes them as much as its
own). With several recordings open at once a statement from a thread that
none of them runs on cannot be attributed: each of them counts it as
``unattributed``, so no recording ever reports fewer statements than were
sent.
"""

from __future__ import annotations

import functools
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import ORMExecuteState, Session


@dataclass(frozen=True)
class RecordedQuery:
    """One statement as sent to the DBAPI cursor (``executemany`` counts once)."""

    sql: str
    params: Any
    fingerprint: str
    # "Chef.bookings" when SQLAlchemy reports the statement as a lazy load.
    lazy_loaded_from: str | None = None
    # Sent by another thread than the one that opened the recording.
    other_thread: bool = False


@dataclass
class Recording:
    """The statements one ``QueryRecorder.record()`` block saw."""

    queries: list[RecordedQuery] = field(default_factory=list)
    # Lazy loads per relationship ("Book.author"), whether they sent SQL or were
    # answered from the identity map; see ``lazy_loads``.
    lazy_accesses: Counter[str] = field(default_factory=Counter)
    # Rows the SELECTs returned (counted only with ``record(rows=True)``).
    rows: int = 0
    # Statements from threads no recording runs on, seen while several were open.
    unattributed: int = 0
    count_rows: bool = field(default=False, repr=False)

    @property
    def count(self) -> int:
        return len(self.queries) + self.unattributed

    @property
    def lazy_loads(self) -> Counter[str]:
        """Lazy loads of the relationships that sent SQL at least once in the block.

        Ten books sharing one author send one query for ``Book.author`` and find
        the author in the identity map nine times: ten lazy loads, an N+1 on
        production data. A relationship that never sent SQL (``booking.chef``
        back to the chef whose bookings were eager-loaded) is answered from
        the identity map by construction, whatever the data: not counted.
        """
        sent = {q.lazy_loaded_from for q in self.queries if q.lazy_loaded_from}
        return Counter({k: n for k, n in self.lazy_accesses.items() if k in sent})

    @property
    def from_other_threads(self) -> int:
        return sum(1 for q in self.queries if q.other_thread)

    def fingerprints(self) -> Counter[str]:
        return Counter(q.fingerprint for q in self.queries)

    def repeated(self, at_least: int = 2) -> dict[str, int]:
        """Fingerprints seen ``at_least`` times: the N+1 signal."""
        return {fp: n for fp, n in self.fingerprints().items() if n >= at_least}

    def selects(self) -> list[RecordedQuery]:
        return [q for q in self.queries if is_select(q.sql)]


_COMMENT = re.compile(r"^\s*(?:/\*.*?\*/\s*|--[^\n]*\n\s*)*", re.S)


def strip_leading_comments(sql: str) -> str:
    """``/* app:list */ SELECT ...`` → ``SELECT ...``."""
    return _COMMENT.sub("", sql, count=1)


def is_select(sql: str) -> bool:
    """A query that reads: ``SELECT``, ``WITH``, or a parenthesised compound SELECT."""
    head = strip_leading_comments(sql).lstrip("( \t\r\n").upper()
    return head.startswith(("SELECT", "WITH"))


_STRING = re.compile(r"'(?:[^']|'')*'")
# Casts drivers render after each parameter (psycopg 3, asyncpg, pg8000: RENDER_CASTS):
# %(p_1)s::INTEGER, $1::VARCHAR(20), %s::TIMESTAMP WITHOUT TIME ZONE, ::NUMERIC(10, 2)[].
_CAST = re.compile(
    r"::\s*\"?[A-Za-z_][\w\"]*(?:\s+(?:PRECISION|VARYING|WITH(?:OUT)?\s+TIME\s+ZONE))?"
    r"(?:\s*\(\s*\d+(?:\s*,\s*\d+)?\s*\))?(?:\s*\[\])*",
    re.I,
)
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?\b")
_PARAM = re.compile(r"%\(\w+\)s|%s|\?|:\w+|\$\d+")
_IN_LIST = re.compile(r"\bIN\s*\((?:\s*\?\s*,?)+\)|\bIN\s*\(\s*\[POSTCOMPILE_\w+\]\s*\)", re.I)
_SPACE = re.compile(r"\s+")


@functools.lru_cache(maxsize=4096)
def fingerprint(sql: str) -> str:
    """The statement's shape: literals and parameters become ``?``, IN lists ``IN (...)``.

    Casts after a parameter or literal (``%(p_1)s::INTEGER``) are dropped first,
    so an IN list collapses whatever the driver renders. Cached: parameterized
    statements repeat with the same text, and the regular expressions are most
    of what recording costs per statement.
    """
    shape = _STRING.sub("?", sql)
    shape = _CAST.sub("", shape)
    shape = _PARAM.sub("?", shape)
    shape = _NUMBER.sub("?", shape)
    shape = _IN_LIST.sub("IN (...)", shape)
    return _SPACE.sub(" ", shape).strip()


# --- lazy loads -----------------------------------------------------------------

#: Called with "Class.relationship" for every lazy load, in the loading thread.
_lazy_listeners: list[Callable[[str], None]] = []
_lazy_lock = threading.Lock()


def _install_lazy_hook() -> bool:
    """Wrap SQLAlchemy's lazy loader once, so loads answered without SQL are seen too.

    SQLAlchemy has no public event for a lazy load that the identity map
    answers (a many-to-one whose parent is already loaded sends no SQL, so
    ``do_orm_execute`` never fires). ``LazyLoader._load_for_state`` is the one
    place every lazy load goes through; the wrapper costs a list lookup when
    nothing records. Mappers keep the bound method they were configured
    with, so this runs when perfci.target.recorder is imported: before the target
    app is built (``perfci run``) or its tests collected (the pytest plugin).
    If a SQLAlchemy release renames it, ``LAZY_LOADS_SEEN`` is False and
    ``tests/test_recorder.py`` fails.
    """
    from sqlalchemy.orm import strategies
    from sqlalchemy.orm.base import LoaderCallableStatus, PassiveFlag

    # SQLAlchemy 2.1 renamed the class with a leading underscore.
    loader = getattr(strategies, "_LazyLoader", None) or getattr(strategies, "LazyLoader", None)
    original = getattr(loader, "_load_for_state", None)
    if loader is None or original is None:
        return False
    if getattr(original, "_perfci_wrapped", False):
        return True
    not_loaded = (
        LoaderCallableStatus.PASSIVE_NO_RESULT,
        LoaderCallableStatus.ATTR_EMPTY,
        LoaderCallableStatus.ATTR_WAS_SET,
        LoaderCallableStatus.NEVER_SET,
    )

    @functools.wraps(original)
    def load_for_state(self: Any, state: Any, passive: Any, *args: Any, **kwargs: Any) -> Any:
        result = original(self, state, passive, *args, **kwargs)
        if _lazy_listeners and passive & PassiveFlag.SQL_OK and result not in not_loaded:
            label = f"{state.class_.__name__}.{self.key}"  # as do_orm_execute names it
            for listener in tuple(_lazy_listeners):
                listener(label)
        return result

    load_for_state._perfci_wrapped = True  # type: ignore[attr-defined]
    loader._load_for_state = load_for_state
    return True


#: False when this SQLAlchemy has no lazy loader to wrap (lazy loads then go uncounted).
LAZY_LOADS_SEEN = _install_lazy_hook()


class QueryRecorder:
    """Listens on an engine; ``record()`` collects the statements a block causes.

    Only threads inside a ``record()`` block, or sending statements while
    one is open, pay more than a thread-local lookup.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._local = threading.local()
        self._lock = threading.Lock()
        self._open: list[Recording] = []  # the current recording of each recording thread
        event.listen(engine, "before_cursor_execute", self._on_execute)
        event.listen(engine, "after_cursor_execute", self._on_executed)
        event.listen(Session, "do_orm_execute", self._on_orm_execute)
        with _lazy_lock:
            _lazy_listeners.append(self._on_lazy_load)

    def close(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._on_execute)
        event.remove(self.engine, "after_cursor_execute", self._on_executed)
        event.remove(Session, "do_orm_execute", self._on_orm_execute)
        with _lazy_lock:
            if self._on_lazy_load in _lazy_listeners:
                _lazy_listeners.remove(self._on_lazy_load)

    @contextmanager
    def record(self, *, rows: bool = False) -> Iterator[Recording]:
        """Record the block; ``rows=True`` also counts the rows SELECTs return."""
        previous: Recording | None = getattr(self._local, "recording", None)
        recording = Recording(count_rows=rows)
        with self._lock:
            if previous is not None:
                self._open.remove(previous)
            self._open.append(recording)
        self._local.recording = recording
        try:
            yield recording
        finally:
            self._local.recording = previous
            with self._lock:
                self._open.remove(recording)
                if previous is not None:
                    self._open.append(previous)

    def _current(self) -> tuple[Recording | None, bool]:
        """The recording a statement of this thread belongs to, and whether it is another's."""
        own: Recording | None = getattr(self._local, "recording", None)
        if own is not None:
            return own, False
        if not self._open:
            return None, False
        with self._lock:
            open_now = list(self._open)
        if len(open_now) == 1:
            return open_now[0], True
        for recording in open_now:
            recording.unattributed += 1
        return None, True

    def _on_orm_execute(self, state: ORMExecuteState) -> None:
        if getattr(self._local, "recording", None) is None and not self._open:
            return
        # lazy_loaded_from raises for non-SELECT executions (text(), update(), delete()).
        origin = state.lazy_loaded_from if state.is_select else None
        if origin is None:
            self._local.pending_lazy = None
            return
        label = origin.class_.__name__
        path = state.loader_strategy_path
        if path is not None and len(path):
            # The last element of the loader path is the relationship being loaded.
            key = getattr(path[-1], "key", None)
            if key:
                label = f"{label}.{key}"
        self._local.pending_lazy = label

    def _owner(self) -> Recording | None:
        """This thread's recording, else the only one open (None with several open)."""
        own: Recording | None = getattr(self._local, "recording", None)
        if own is None and self._open:
            with self._lock:
                open_now = list(self._open)
            own = open_now[0] if len(open_now) == 1 else None
        return own

    def _on_lazy_load(self, label: str) -> None:
        own = self._owner()
        if own is not None:
            own.lazy_accesses[label] += 1

    def _on_execute(
        self,
        _conn: Any,
        _cursor: Any,
        statement: str,
        parameters: Any,
        _context: Any,
        _executemany: bool,
    ) -> None:
        lazy: str | None = getattr(self._local, "pending_lazy", None)
        self._local.pending_lazy = None
        recording, other = self._current()
        if recording is None:
            return
        recording.queries.append(
            RecordedQuery(
                sql=statement,
                params=parameters,
                fingerprint=fingerprint(statement),
                lazy_loaded_from=lazy,
                other_thread=other,
            )
        )

    def _on_executed(
        self,
        conn: Any,
        cursor: Any,
        statement: str,
        parameters: Any,
        _context: Any,
        executemany: bool,
    ) -> None:
        own = self._owner()
        if own is None or not own.count_rows or executemany or cursor.description is None:
            return
        own.rows += _rows_of(conn, cursor, statement, parameters)


def _rows_of(conn: Any, cursor: Any, statement: str, parameters: Any) -> int:
    """The rows a just-executed query returns, without consuming them.

    PostgreSQL and MySQL drivers buffer the result and report it as
    ``rowcount``; sqlite3 reports -1 until the rows are fetched, so the same
    query is counted on the same connection (same transaction, same data).
    """
    if cursor.rowcount is not None and cursor.rowcount >= 0:
        return int(cursor.rowcount)
    counter = conn.connection.cursor()
    try:
        counter.execute(f"SELECT count(*) FROM ({statement})", parameters or ())
        found = counter.fetchone()
    except Exception:  # a statement that cannot be wrapped: its rows stay uncounted
        return 0
    finally:
        counter.close()
    return int(found[0]) if found else 0
