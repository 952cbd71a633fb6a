"""Helpers for testing checks without a perfci.yaml: a RunContext around any Flask app."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from flask import Flask
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine

from perfci.target.context import RunContext
from perfci.target.endpoint import Endpoint
from perfci.target.recorder import QueryRecorder
from perfci.target.server import Server


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
