"""A throw-away perfci project gating the bundled target_api, for the built-in checks' tests.

The pattern every check test follows: measure a baseline on the optimized
API, then gate a run with one fault profile switched on (exit 1, the check's
metric named as the regression) and one without (exit 0).
"""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path
from typing import Any

import yaml

from perfci.pytest_plugin import PerfciProject, PerfciRun

REPO = Path(__file__).resolve().parents[2]

#: Small enough for a fast suite, large enough that plans and N+1 growth show.
TEST_SCALE = 0.05

DEFAULT_ENDPOINTS = [
    "GET /api/coocook/chefs?per_page=10",
    "GET /api/coocook/chefs?cuisine=Korean&per_page=10",
    "GET /api/coocook/chefs/1",
    "GET /api/coocook/bookings?user_id=1",
    "GET /api/products",
    "GET /api/sns/posts?status=published",
    "GET /api/campaigns?status=active",
    "GET /api/campaigns/1/applications?status=pending",
    "GET /api/ai/employees?user_id=1",
    "GET /api/ai/scenarios?category=marketing",
]


class SoftFactoryProject(PerfciProject):
    """A project whose perfci.yaml targets target_api with the given checks."""

    def configure(
        self,
        checks: dict[str, Any],
        *,
        endpoints: list[Any] | None = None,
        scale: float = TEST_SCALE,
        target_config: dict[str, Any] | None = None,
        extra: dict[str, Any] | None = None,
        server: dict[str, Any] | None = None,
    ) -> Path:
        config: dict[str, Any] = {
            "suite": "softfactory",
            "target": {
                "app": "target_api:create_app",
                "seed": "target_api.seed:seed_database",
                "seed_args": {"scale": scale},
                "config": {
                    "FAULTS": "${PERFCI_FAULTS:-}",
                    "CACHE_KEY_PREFIX": f"perfci-test-{self.path.name}:",
                    **(target_config or {}),
                },
                "endpoints": endpoints if endpoints is not None else DEFAULT_ENDPOINTS,
                "server": {
                    "workers": 2,
                    "threads": 4,
                    "config": str(REPO / "target_api" / "gunicorn_conf.py"),
                    **(server or {}),
                },
            },
            "checks": checks,
            **(extra or {}),
        }
        return self.write("perfci.yaml", yaml.safe_dump(config, sort_keys=False))

    def run(self, *args: str, env: dict[str, str] | None = None, timeout: float = 300) -> PerfciRun:
        environ = {
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
        }
        environ.update(env or {})
        return super().run(*args, env=environ, timeout=timeout)

    def baseline(self) -> PerfciRun:
        result = self.run("baseline", "update")
        assert result.exit_code == 0, result.output
        return result

    def gate(self, fault: str | None = None, *args: str) -> PerfciRun:
        """``perfci run --json results.json`` with ``fault`` switched on in target_api."""
        return self.run("run", "--json", "results.json", *args, env={"PERFCI_FAULTS": fault or ""})

    def results(self) -> dict[str, Any]:
        return json.loads((self.path / "results.json").read_text())  # type: ignore[no-any-return]

    def failing(self) -> dict[str, str]:
        """Failing verdicts of the last gate: metric name → outcome."""
        return {
            v["name"]: v["outcome"]
            for v in self.results()["verdicts"]
            if v["outcome"] in ("regression", "budget_violation", "missing")
        }


def explain(run: PerfciRun) -> str:
    return textwrap.shorten(run.output, 4000)
