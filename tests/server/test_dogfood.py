"""perfci gates its own server: ``server/perfci.yaml`` against its committed baseline.

The clean server passes ``perfci run --quick`` (the exact checks: n_plus_one,
indexes, payload); the server with an N+1 put into its run list (the test-only
factory ``dogfood:create_app_with_n_plus_one``) fails it, by the growth
budget and the query counts of both run lists, API and dashboard.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from perfci.pytest_plugin import PerfciProject

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def dogfood(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> PerfciProject:
    """A copy of server/ (config, seed, baseline), so the run's history stays out of the tree."""
    for name in ("PERFCI_SERVER_APP", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    shutil.copytree(
        REPO / "server",
        tmp_path / "server",
        ignore=shutil.ignore_patterns(".perfci", "__pycache__"),
    )
    return PerfciProject(tmp_path / "server")


def test_the_server_passes_its_own_gate(dogfood: PerfciProject) -> None:
    run = dogfood.run_inprocess("run", "--quick", "--config", "perfci.yaml")
    assert run.exit_code == 0, run.output
    # Every metric of the baseline measured again: none missing, none new.
    summary = next(line for line in run.output.splitlines() if "— PASSED (exit 0)" in line)
    assert "missing" not in summary, summary
    assert "new" not in summary, summary
    assert re.search(r"\b1\d\d passed\b", summary), summary  # the baseline's 146 metrics


def test_an_n_plus_one_in_the_run_list_fails_the_gate(dogfood: PerfciProject) -> None:
    run = dogfood.run_inprocess(
        "run",
        "--quick",
        "--config",
        "perfci.yaml",
        env={"PERFCI_SERVER_APP": "dogfood:create_app_with_n_plus_one"},
    )
    assert run.exit_code == 1, run.output
    lines = run.output.splitlines()
    for endpoint in ("/api/v1/projects/dogfood/runs?limit=20", "/projects/dogfood/"):
        queries = f"n_plus_one/GET {endpoint}/queries"
        assert any(queries in line and "REGRESSION" in line for line in lines), run.output
    growth = "n_plus_one/GET /api/v1/projects/dogfood/runs?limit=20/growth"
    assert any(growth in line and "BUDGET VIOLATION" in line for line in lines), run.output
    # Endpoints the fault does not touch stay as they were.
    run_page = "n_plus_one/GET /api/v1/projects/dogfood/runs/120/queries"
    assert not any(run_page in line and "REGRESSION" in line for line in lines), run.output


@pytest.mark.postgres
def test_on_postgresql_an_n_plus_one_fails_the_gate(
    dogfood: PerfciProject, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same gate on PostgreSQL, against a baseline of its own (n_plus_one only:
    the committed baseline's plans and the indexes budget are SQLite's, docs/server.md)."""
    monkeypatch.setenv("DATABASE_URL", postgres_url)
    options = ("--quick", "--only", "n_plus_one", "--config", "perfci.yaml")
    recorded = dogfood.run_inprocess("baseline", "update", *options)
    assert recorded.exit_code == 0, recorded.output
    clean = dogfood.run_inprocess("run", *options)
    assert clean.exit_code == 0, clean.output
    faulty = dogfood.run_inprocess(
        "run", *options, env={"PERFCI_SERVER_APP": "dogfood:create_app_with_n_plus_one"}
    )
    assert faulty.exit_code == 1, faulty.output
    growth = "n_plus_one/GET /api/v1/projects/dogfood/runs?limit=20/growth"
    assert any(
        growth in line and "BUDGET VIOLATION" in line for line in faulty.output.splitlines()
    ), faulty.output
