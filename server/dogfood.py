"""perfci gating its own server (``server/perfci.yaml``): the seed, and a test-only fault.

``seed`` fills the run's store through the storage layer: a public project
``dogfood`` with ``runs`` runs of ``metrics`` metrics each, on ``main`` and
two feature branches, deterministic (same ids, values and texts every time, so
payload sizes and query counts are exact facts).

``create_app_with_n_plus_one`` is the server with an N+1 put into its run list
(one more query per listed run): ``tests/server/test_dogfood.py`` points
``PERFCI_SERVER_APP`` at it to show the gate failing on it. Never serve it.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Mapping
from typing import Any

from flask import Flask

from perfci.history import HistoryStore, schema
from perfci.history.store import RunSummary, Upload
from perfci.result import RunResult
from perfci.server import create_app_for_perfci
from perfci.server.tokens import digest

PROJECT = "dogfood"
RECORDED_AT = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)
_KINDS = [
    ("n_plus_one/{e}/queries", "queries", "deterministic", 4.0),
    ("indexes/{e}/full_scans", "count", "deterministic", 0.0),
    ("payload/{e}/bytes", "bytes", "deterministic", 5000.0),
    ("latency/{e}/p95", "ms", "timing", 12.0),
]


def _document(index: int, metrics: int, rng: random.Random) -> dict[str, Any]:
    exit_code = 1 if index % 9 == 4 else 0
    branch = "main" if index % 3 else f"feature/{index % 2}"
    measurements: list[dict[str, Any]] = []
    verdicts: list[dict[str, Any]] = []
    for i in range(metrics):
        pattern, unit, kind, typical = _KINDS[i % len(_KINDS)]
        name = pattern.format(e=f"GET /api/endpoint/{i // len(_KINDS)}")
        samples = [round(typical * rng.uniform(0.9, 1.2), 3) for _ in range(5)]
        value = max(samples) if kind == "timing" else typical + (i == 0 and exit_code)
        measurement = {
            "name": name,
            "value": value,
            "unit": unit,
            "direction": "lower",
            "kind": kind,
            "samples": samples if kind == "timing" else [],
            "evidence": [{"label": "sql", "text": "SELECT 1 <b>escaped</b>"}] if i == 0 else [],
        }
        measurements.append(measurement)
        bad = i == 0 and exit_code == 1
        verdicts.append(
            {
                "name": name,
                "outcome": "regression" if bad else "pass",
                "mode": "exact" if kind == "deterministic" else "baseline",
                "reason": "grew" if bad else "unchanged",
                "current": measurement,
                "baseline": {**measurement, "value": typical},
                "change": 0.0,
                "threshold": 0.1,
                "p_value": None,
                "budget": None,
                "acknowledged": None,
                "notes": [],
            }
        )
    started = dt.datetime(2026, 11, 1, tzinfo=dt.UTC) + dt.timedelta(hours=index)
    return {
        "perfci_results": 1,
        "suite": "softfactory",
        "started_at": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "duration_s": 60.0,
        "exit_code": exit_code,
        "commit": f"{rng.getrandbits(160):040x}",
        "branch": branch,
        "baseline_path": "baselines/softfactory.json",
        "environment": {"cores": "2"},
        "checks": ["n_plus_one", "indexes", "payload", "latency"],
        "skipped_checks": [],
        "unmatched_rules": [],
        "measurements": measurements,
        "verdicts": verdicts,
    }


def seed(app: Flask, runs: int = 120, metrics: int = 40) -> dict[str, int]:
    """A fresh store (its tables dropped first) with the project and its runs.

    Returns the row counts perfci prints (table name → rows).
    """
    url = app.extensions["perfci_store"].url
    rng = random.Random(17)
    with HistoryStore(url) as store:
        schema.metadata.drop_all(store.engine)
    with HistoryStore(url) as store:
        project = store.create_project(PROJECT, digest("pci_dogfood-not-a-secret"), public=True)
        batch = []
        for index in range(runs):
            doc = _document(index, metrics, rng)
            pr = None if doc["branch"] == "main" else 10 + index % 2
            batch.append((RunResult.from_dict(doc), Upload(project.id, pr=pr)))
        store.record_many(batch, recorded_at=RECORDED_AT)
    return {
        "perfci_runs": runs,
        "perfci_measurements": runs * metrics,
        "perfci_verdicts": runs * metrics,
    }


def create_app_with_n_plus_one(config: Mapping[str, Any]) -> Flask:
    """The server whose run list reads each listed run once more (test-only fault)."""
    app = create_app_for_perfci(config)
    store: HistoryStore = app.extensions["perfci_store"]
    listed = store.project_runs

    def project_runs(project_id: int, **options: Any) -> list[RunSummary]:
        found = listed(project_id, **options)
        for run in found:
            store.project_run(project_id, run.id)  # one run at a time: the N+1
        return found

    store.project_runs = project_runs  # type: ignore[method-assign]
    return app
