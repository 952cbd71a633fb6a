"""Testing helpers usable from any test runner (unittest, pytest, nose...).

* ``count_queries``: count the SQL statements a block sends, and assert on them
  (``perfci.count_queries``; the pytest fixture ``perfci_queries`` is built on it).
* ``run_context``: a RunContext around any Flask app, for testing checks
  without a perfci.yaml.
"""

from __future__ import annotations

import builtins
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from flask import Flask
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, scoped_session

from perfci.target.context import RunContext
from perfci.target.endpoint import Endpoint
from perfci.target.recorder import QueryRecorder, RecordedQuery, Recording
from perfci.target.server import Server

#: Shapes listed in a failure message; the rest are counted.
LISTED_SHAPES = 20


class HasEngine(Protocol):
    """Anything with an ``engine`` (Flask-SQLAlchemy's ``db`` in an app context)."""

    @property
    def engine(self) -> Engine: ...


#: What ``count_queries`` listens on: an engine, or something that leads to one.
QueryTarget = Engine | Connection | Flask | Session | scoped_session[Any] | HasEngine


class QueryLimitExceeded(AssertionError):
    """A statement limit was broken. An AssertionError, so every test runner reports a
    failure (not an error); the message lists each statement shape counted."""


class QueryCount:
    """The statements a ``count_queries`` block sent so far, and assertions on them.

    ``count`` (statements), ``queries`` (``RecordedQuery``: ``sql``, ``params``,
    ``fingerprint``, ``lazy_loaded_from``), ``fingerprints()`` (shape → count),
    ``repeated()``, ``selects()``; ``recording`` is the underlying ``Recording``.
    """

    def __init__(self, recording: Recording, label: str = "count_queries") -> None:
        self.recording = recording
        self.label = label

    @property
    def count(self) -> int:
        return self.recording.count

    @property
    def queries(self) -> list[RecordedQuery]:
        return self.recording.queries

    @property
    def statements(self) -> list[str]:
        """The SQL of every statement counted, in order."""
        return [query.sql for query in self.recording.queries]

    def fingerprints(self) -> Counter[str]:
        return self.recording.fingerprints()

    def repeated(self, at_least: int = 2) -> dict[str, int]:
        return self.recording.repeated(at_least)

    def selects(self) -> list[RecordedQuery]:
        return self.recording.selects()

    def assert_at_most(self, limit: int) -> None:
        """Raise ``QueryLimitExceeded`` (listing the statements) if more than ``limit`` ran."""
        self._raise(over_limit(self.recording, limit, None))

    def assert_repeated_at_most(self, limit: int) -> None:
        """Raise ``QueryLimitExceeded`` if one statement shape ran more than ``limit`` times."""
        self._raise(over_limit(self.recording, None, limit))

    def _raise(self, problems: list[str]) -> None:
        if problems:
            raise QueryLimitExceeded(
                describe(self.recording, f"{self.label}: {'; '.join(problems)}")
            )


@contextmanager
def count_queries(
    target: QueryTarget,
    *,
    max: int | None = None,
    max_repeated: int | None = None,
    label: str = "count_queries",
) -> Iterator[QueryCount]:
    """Count the statements the block sends through ``target``'s engine.

    ``target``: a SQLAlchemy ``Engine`` or ``Connection``, a Flask app with
    Flask-SQLAlchemy, a ``Session``/``scoped_session`` bound to an engine, or an
    object with an ``engine`` attribute (Flask-SQLAlchemy's ``db`` in an app
    context); anything else is a ``TypeError``. Only the current thread's
    statements count (the Flask test client runs the app in it). When the block
    ends without an error, ``max`` (statements) and ``max_repeated`` (runs of
    one statement shape: an N+1) are checked; a broken limit raises
    ``QueryLimitExceeded`` listing every shape with its count and an example.

    >>> with count_queries(app) as q:
    ...     client.get("/posts")
    >>> q.assert_at_most(5)
    """
    recorder = QueryRecorder(engine_of(target))
    try:
        with recorder.record() as recording:
            yield (counted := QueryCount(recording, label))
    finally:
        recorder.close()
    counted._raise(over_limit(recording, max, max_repeated))


def engine_of(target: QueryTarget) -> Engine:
    """The engine behind ``target`` (see ``count_queries``); a TypeError names what it got."""
    if isinstance(target, Engine):
        return target
    if isinstance(target, Connection):
        return target.engine
    if isinstance(target, Flask):
        extension = target.extensions.get("sqlalchemy")
        if extension is None:
            raise TypeError(f"the Flask app {target.name!r} has no Flask-SQLAlchemy extension")
        with target.app_context():
            engine = extension.engine
        if not isinstance(engine, Engine):
            raise TypeError(f"the Flask app {target.name!r} has no SQLAlchemy engine")
        return engine
    if isinstance(target, Session | scoped_session):
        bind = target.get_bind()
        return bind if isinstance(bind, Engine) else bind.engine
    engine = getattr(target, "engine", None)
    if isinstance(engine, Engine):
        return engine
    raise TypeError(
        "expected a SQLAlchemy Engine or a Flask app with Flask-SQLAlchemy (or a "
        f"Connection, a Session, Flask-SQLAlchemy's db), got {type(target).__name__}"
    )


def over_limit(recording: Recording, max: int | None, max_repeated: int | None) -> list[str]:
    """The limits ``recording`` breaks, in words (empty when none)."""
    problems = []
    if max is not None and recording.count > max:
        problems.append(f"{recording.count} statements, over the limit of {max}")
    if max_repeated is not None:
        most = builtins.max(recording.fingerprints().values(), default=0)
        if most > max_repeated:
            problems.append(
                f"one statement shape ran {most} times, over the limit of {max_repeated} (an N+1?)"
            )
    return problems


def describe(recording: Recording, problem: str) -> str:
    """A failure message: the problem, then each statement shape, most frequent first."""
    counts = recording.fingerprints()
    examples: dict[str, str] = {}
    origins: dict[str, set[str]] = {}
    for query in recording.queries:
        params = f"  -- params {query.params!r}" if query.params else ""
        examples.setdefault(query.fingerprint, " ".join(query.sql.split()) + params)
        if query.lazy_loaded_from:
            origins.setdefault(query.fingerprint, set()).add(query.lazy_loaded_from)
    lines = [problem]
    ranked = sorted(counts, key=lambda fp: -counts[fp])  # stable: first seen first among equals
    for fp in ranked[:LISTED_SHAPES]:
        lazy = f"  [lazy load: {', '.join(sorted(origins[fp]))}]" if fp in origins else ""
        lines.append(f"  {counts[fp]}× {fp}{lazy}")
        if examples[fp] != fp:
            lines.append(f"      e.g. {examples[fp]}")
    if len(ranked) > LISTED_SHAPES:
        lines.append(f"  … and {len(ranked) - LISTED_SHAPES} more statement shapes")
    return "\n".join(lines)


def _no_server() -> Server:
    raise AssertionError("this RunContext has no server: give run_context(server=...)")


@contextmanager
def run_context(
    app: Flask,
    workdir: Path,
    *,
    endpoints: Sequence[str | Endpoint] = (),
    engine: Engine | None = None,
    seeded: Mapping[str, int] | None = None,
    server: Server | None = None,
) -> Iterator[RunContext]:
    """The context a check sees, for ``app``: what ``perfci run`` builds, minus the config.

    ``engine`` defaults to the app's Flask-SQLAlchemy engine, or an in-memory
    SQLite engine when the app has none. The recorder listens on it while the
    block runs; an engine made here is disposed afterwards.
    """
    owned = False
    if engine is None:
        extension = app.extensions.get("sqlalchemy")
        if extension is not None:
            with app.app_context():
                engine = extension.engine
        else:
            engine, owned = create_engine("sqlite://"), True
    assert engine is not None
    recorder = QueryRecorder(engine)
    try:
        yield RunContext(
            app=app,
            engine=engine,
            recorder=recorder,
            endpoints=tuple(e if isinstance(e, Endpoint) else Endpoint.parse(e) for e in endpoints),
            seeded=dict(seeded or {}),
            workdir=workdir,
            server_factory=(lambda: server) if server is not None else _no_server,
            root=workdir,
        )
    finally:
        recorder.close()
        if owned:
            engine.dispose()
