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


#: A timing check slow on request: FLAKY_SLOW=first (its first collect only) or always.
FLAKY = """
import perfci
from perfci import Check, Direction
from perfci.measurement import timing

CALLS = []


class Flaky(Check):
    name = "flaky"
    deterministic = False

    def collect(self, ctx, options):
        CALLS.append(1)
        import os
        slow_first = os.environ.get("FLAKY_SLOW") == "first" and len(CALLS) == 1
        slow = os.environ.get("FLAKY_SLOW") == "always" or slow_first
        base = 20.0 if slow else 10.0
        yield timing("flaky/GET /x/p50", [base + 0.01 * i for i in range(40)])


@perfci.hookimpl
def perfci_checks():
    return [Flaky]
"""
