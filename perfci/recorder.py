"""Records the SQL statements an application issues, per thread, with lazy-load origins."""

from __future__ import annotations

import functools
import re
import threading
from collections import Counter
from collections.abc import Iterator
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


@dataclass
class Recording:
    """The statements one ``QueryRecorder.record()`` block saw."""

    queries: list[RecordedQuery] = field(default_factory=list)
    # Set by the ORM event just before the statement it announces reaches the cursor.
    _pending_lazy: str | None = field(default=None, repr=False)

    @property
    def count(self) -> int:
        return len(self.queries)

    def fingerprints(self) -> Counter[str]:
        return Counter(q.fingerprint for q in self.queries)

    def repeated(self, at_least: int = 2) -> dict[str, int]:
        """Fingerprints seen ``at_least`` times: the N+1 signal."""
        return {fp: n for fp, n in self.fingerprints().items() if n >= at_least}

    def selects(self) -> list[RecordedQuery]:
        return [q for q in self.queries if q.sql.lstrip().upper().startswith(("SELECT", "WITH"))]


_STRING = re.compile(r"'(?:[^']|'')*'")
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?\b")
_PARAM = re.compile(r"%\(\w+\)s|%s|\?|:\w+|\$\d+")
_IN_LIST = re.compile(r"\bIN\s*\((?:\s*\?\s*,?)+\)|\bIN\s*\(\s*\[POSTCOMPILE_\w+\]\s*\)", re.I)
_SPACE = re.compile(r"\s+")


@functools.lru_cache(maxsize=4096)
def fingerprint(sql: str) -> str:
    """The statement's shape: literals and parameters become ``?``, IN lists ``IN (...)``.

    Cached: parameterized statements repeat with the same text, and the
    regular expressions are most of what recording costs per statement.
    """
    shape = _STRING.sub("?", sql)
    shape = _PARAM.sub("?", shape)
    shape = _NUMBER.sub("?", shape)
    shape = _IN_LIST.sub("IN (...)", shape)
    return _SPACE.sub(" ", shape).strip()


class QueryRecorder:
    """Listens on an engine; ``record()`` collects the current thread's statements.

    Only threads inside a ``record()`` block pay more than a thread-local lookup.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._local = threading.local()
        event.listen(engine, "before_cursor_execute", self._on_execute)
        event.listen(Session, "do_orm_execute", self._on_orm_execute)

    def close(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._on_execute)
        event.remove(Session, "do_orm_execute", self._on_orm_execute)

    @contextmanager
    def record(self) -> Iterator[Recording]:
        previous = getattr(self._local, "recording", None)
        recording = Recording()
        self._local.recording = recording
        try:
            yield recording
        finally:
            self._local.recording = previous

    def _on_orm_execute(self, state: ORMExecuteState) -> None:
        recording: Recording | None = getattr(self._local, "recording", None)
        if recording is None:
            return
        # lazy_loaded_from raises for non-SELECT executions (text(), update(), delete()).
        origin = state.lazy_loaded_from if state.is_select else None
        if origin is None:
            recording._pending_lazy = None
            return
        label = origin.class_.__name__
        path = state.loader_strategy_path
        if path is not None and len(path):
            # The last element of the loader path is the relationship being loaded.
            key = getattr(path[-1], "key", None)
            if key:
                label = f"{label}.{key}"
        recording._pending_lazy = label

    def _on_execute(
        self,
        conn: Any,
        cursor: Any,
        statement: str,
        parameters: Any,
        context: Any,
        executemany: bool,
    ) -> None:
        recording: Recording | None = getattr(self._local, "recording", None)
        if recording is None:
            return
        lazy, recording._pending_lazy = recording._pending_lazy, None
        recording.queries.append(
            RecordedQuery(
                sql=statement,
                params=parameters,
                fingerprint=fingerprint(statement),
                lazy_loaded_from=lazy,
            )
        )
