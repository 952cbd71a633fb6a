"""pytest fixtures for projects that use perfci and for perfci plugin authors.

Registered through the ``pytest11`` entry point, so installing perfci makes
them available in any test suite:

* ``perfci_project``: a throw-away project directory (perfci.yaml, local
  plugins, files) with a ``run(...)`` method that runs the real ``perfci``
  command in a subprocess and returns its exit code and output.
* ``perfci_queries``: ``with perfci_queries(engine_or_app, max=3) as q:``
  fails the test when the block issues more statements than ``max`` (or runs
  one statement shape more than ``max_repeated`` times: an N+1), listing
  every statement shape with its count, an example and its lazy-load origin.
  It is ``perfci.count_queries`` (any test runner) with a pytest failure.
"""

from __future__ import annotations

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

from perfci.files import PERFCI_DIR, make_directory
from perfci.testing import (
    QueryCount,
    QueryLimitExceeded,
    QueryTarget,
    count_queries,
)


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
        try:
            runner = CliRunner(mix_stderr=False)  # type: ignore[call-arg]  # click < 8.2
        except TypeError:  # click 8.2 keeps stderr apart and dropped the argument
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


#: pytest-benchmark's own default storage: ``.benchmarks/`` in the working directory.
BENCHMARK_STORAGE_DEFAULT = "file://./.benchmarks"


def pytest_configure(config: pytest.Config) -> None:
    """Keep pytest-benchmark's storage under ``.perfci/`` unless the project chose one.

    pytest-benchmark (a perfci dependency) makes ``.benchmarks/`` in the working
    directory on every pytest run. Without ``--benchmark-storage`` and without an
    existing ``.benchmarks/`` (a project already using it keeps it), the storage
    goes to ``.perfci/benchmarks``, which git ignores. Runs before pytest-benchmark's
    own ``pytest_configure`` (``trylast``), which creates the directory.
    """
    if getattr(config.option, "benchmark_storage", None) != BENCHMARK_STORAGE_DEFAULT:
        return
    if Path(".benchmarks").exists():
        return
    storage = make_directory(Path.cwd() / PERFCI_DIR / "benchmarks")
    config.option.benchmark_storage = f"file://{storage}"


class QueryLimit:
    """The ``perfci_queries`` fixture: ``perfci.count_queries`` with a pytest failure.

    A broken limit fails the test cleanly (the statements listed, no traceback).
    Only the statements of the current thread are recorded: the Flask test
    client runs the app in the test's own thread, a live server does not.
    """

    @contextmanager
    def __call__(
        self,
        target: QueryTarget,
        *,
        max: int | None = None,
        max_repeated: int | None = None,
    ) -> Iterator[QueryCount]:
        failure = None
        try:
            with count_queries(
                target, max=max, max_repeated=max_repeated, label="perfci_queries"
            ) as counted:
                yield counted
        except QueryLimitExceeded as exceeded:
            failure = str(exceeded)
        if failure is not None:  # outside the except: no "during handling" chain in the report
            pytest.fail(failure, pytrace=False)


@pytest.fixture
def perfci_queries() -> QueryLimit:
    """Assert the statements a block issues: ``with perfci_queries(engine, max=3):``."""
    return QueryLimit()
