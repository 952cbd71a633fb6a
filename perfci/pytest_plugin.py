"""pytest fixtures for projects that use perfci and for perfci plugin authors.

Registered through the ``pytest11`` entry point, so installing perfci makes
them available in any test suite:

* ``perfci_project``: a throw-away project directory (perfci.yaml, local
  plugins, files) with a ``run(...)`` method that runs the real ``perfci``
  command in a subprocess and returns its exit code and output.
* ``perfci_queries``: ``with perfci_queries(engine_or_app, max=3) as rec:``
  fails the test when the block issues more statements than ``max`` (or runs
  one statement shape more than ``max_repeated`` times: an N+1), listing
  every statement shape with its count, an example and its lazy-load origin.
"""

from __future__ import annotations

import builtins
import contextlib
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy.engine import Engine

from perfci.recorder import QueryRecorder, Recording


@dataclass(frozen=True)
class PerfciRun:
    """The outcome of one ``perfci`` command."""

    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


class PerfciProject:
    """A project directory for one test; write files into it and run perfci there."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def write(self, relative: str, text: str) -> Path:
        """Write a file (dedented), creating parent directories."""
        target = self.path / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return target

    def write_config(self, text: str) -> Path:
        return self.write("perfci.yaml", text)

    def write_plugin(self, name: str, text: str, directory: str = "perfci_plugins_local") -> Path:
        """A local plugin module; list ``directory`` under ``plugins.paths``."""
        return self.write(f"{directory}/{name}.py", text)

    def run(self, *args: str, env: dict[str, str] | None = None, timeout: float = 300) -> PerfciRun:
        """Run ``perfci ARGS`` in the project directory (a real subprocess)."""
        environ = dict(os.environ)
        environ.pop("PERFCI_FAULTS", None)
        environ.update(env or {})
        completed = subprocess.run(
            [sys.executable, "-m", "perfci", *args],
            cwd=self.path,
            env=environ,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        return PerfciRun(completed.returncode, completed.stdout, completed.stderr)

    def run_inprocess(self, *args: str, env: dict[str, str] | None = None) -> PerfciRun:
        """Run ``perfci ARGS`` in this process (as pytester's ``runpytest_inprocess``).

        Much faster than ``run``: no interpreter start-up, no re-import of
        perfci and its dependencies. The working directory, environment,
        ``sys.path``, the SIGTERM handler and the project's own modules (the
        target app, local plugins) are restored afterwards, so projects in
        one test session never see each other's code. Servers and workers
        that perfci starts are still real processes.
        """
        from click.testing import CliRunner

        from perfci.cli import main

        environ: dict[str, str | None] = {"PERFCI_FAULTS": None}
        environ.update(env or {})
        modules = set(sys.modules)
        path = list(sys.path)
        sigterm = signal.getsignal(signal.SIGTERM)
        code = 0
        runner = CliRunner()
        try:
            with runner.isolation(env=environ) as (out, err, *_), contextlib.chdir(self.path):
                try:
                    main(list(args))
                except SystemExit as done:
                    code = done.code if isinstance(done.code, int) else 1
                stdout, stderr = out.getvalue(), err.getvalue()
        finally:
            signal.signal(signal.SIGTERM, sigterm)
            sys.path[:] = path
            root = str(self.path.resolve())
            for name in set(sys.modules) - modules:
                location = getattr(sys.modules[name], "__file__", None) or ""
                if location.startswith(root):
                    del sys.modules[name]
        return PerfciRun(code, stdout.decode(), stderr.decode())


@pytest.fixture
def perfci_project(tmp_path: Path) -> PerfciProject:
    """A throw-away perfci project directory (see ``PerfciProject``)."""
    project = tmp_path / "project"
    project.mkdir()
    return PerfciProject(project)


#: Shapes listed in a failure message; the rest are counted.
LISTED_SHAPES = 20


def engine_of(target: Engine | Flask) -> Engine:
    """The engine to listen on: ``target`` itself, or a Flask-SQLAlchemy app's engine."""
    if isinstance(target, Engine):
        return target
    if isinstance(target, Flask):
        extension = target.extensions.get("sqlalchemy")
        if extension is None:
            raise TypeError(f"the Flask app {target.name!r} has no Flask-SQLAlchemy extension")
        with target.app_context():
            engine = extension.engine
        if not isinstance(engine, Engine):
            raise TypeError(f"the Flask app {target.name!r} has no SQLAlchemy engine")
        return engine
    raise TypeError(f"expected a SQLAlchemy Engine or a Flask app, got {type(target).__name__}")


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


def check_limits(recording: Recording, max: int | None, max_repeated: int | None) -> str | None:
    """The failure message when ``recording`` breaks a limit, else None."""
    problems = []
    if max is not None and recording.count > max:
        problems.append(f"{recording.count} statements, over the limit of {max}")
    if max_repeated is not None:
        most = builtins.max(recording.fingerprints().values(), default=0)
        if most > max_repeated:
            problems.append(
                f"one statement shape ran {most} times, over the limit of {max_repeated} (an N+1?)"
            )
    if not problems:
        return None
    return describe(recording, "perfci_queries: " + "; ".join(problems))


class QueryLimit:
    """The ``perfci_queries`` fixture: a context manager factory over QueryRecorder.

    Only the statements of the current thread are recorded: the Flask test
    client runs the app in the test's own thread, a live server does not.
    """

    @contextmanager
    def __call__(
        self,
        target: Engine | Flask,
        *,
        max: int | None = None,
        max_repeated: int | None = None,
    ) -> Iterator[Recording]:
        recorder = QueryRecorder(engine_of(target))
        try:
            with recorder.record() as recording:
                yield recording
        finally:
            recorder.close()
        failure = check_limits(recording, max, max_repeated)
        if failure is not None:
            pytest.fail(failure, pytrace=False)


@pytest.fixture
def perfci_queries() -> QueryLimit:
    """Assert the statements a block issues: ``with perfci_queries(engine, max=3):``."""
    return QueryLimit()
