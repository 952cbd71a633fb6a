"""The toy project: toyapp and its local plugin in a perfci project directory."""

from __future__ import annotations

import shutil
from pathlib import Path

from perfci.pytest_plugin import PerfciProject

TOY = Path(__file__).parent

CONFIG = """
suite: toy
target:
  app: toyapp:create_app
  seed: toyapp:seed
  seed_args: {rows: 3}
  config:
    TOY_EXTRA_QUERIES: ${TOY_EXTRA_QUERIES:-0}
  endpoints:
    - GET /items
  server:
    workers: 1
    threads: 2
checks:
  toy_queries: {}
plugins:
  paths: [local_plugins]
"""


def make_toy(project: PerfciProject, config: str = CONFIG) -> PerfciProject:
    """Copy toyapp and the toy checks into ``project`` and write ``config``."""
    shutil.copy(TOY / "toyapp.py", project.path / "toyapp.py")
    (project.path / "local_plugins").mkdir(exist_ok=True)
    shutil.copy(TOY / "toy_checks.py", project.path / "local_plugins" / "toy_checks.py")
    project.write_config(config)
    return project
