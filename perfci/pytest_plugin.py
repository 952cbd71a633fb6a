"""pytest fixtures for projects that use perfci and for perfci plugin authors.

Registered through the ``pytest11`` entry point, so installing perfci makes
them available in any test suite:

* ``perfci_project``: a throw-away project directory (perfci.yaml, local
  plugins, files) with a ``run(...)`` method that runs the real ``perfci``
  command in a subprocess and returns its exit code and output.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest


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


@pytest.fixture
def perfci_project(tmp_path: Path) -> PerfciProject:
    """A throw-away perfci project directory (see ``PerfciProject``)."""
    project = tmp_path / "project"
    project.mkdir()
    return PerfciProject(project)
