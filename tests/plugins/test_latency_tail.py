"""`perfci run` on a tail regression: every 5th request does 100x the work, the median stays.

The latency check's p50, p95 and p99 share the same request samples; the gate
must fail the p95 row (the tail) and pass the p50 row. The slowdown is a
fixed amount of work on a fixed share of requests, large enough (a slow
request takes tens of ms, several times a request preempted by other jobs on
a loaded 2-core machine) that the baseline's own spikes cannot hide it; the
assertions are on verdicts, never on times. It held with two CPU hogs
beside the suite on the 2-core VM (load 8).
"""

from __future__ import annotations

import json
from typing import Any

from perfci.errors import ExitCode
from perfci.pytest_plugin import PerfciProject

APP = """
from flask import Flask
from flask_sqlalchemy import SQLAlchemy

db = SQLAlchemy()  # unused by the endpoint; perfci builds the target on its database


def work(n):
    total = 0
    for i in range(n):
        total += i * i
    return total


def create_app(config=None):
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite://"
    app.config.update(config or {})
    db.init_app(app)
    every = int(app.config.get("TAIL_EVERY", 0))
    calls = [0]

    @app.get("/health")
    def health():
        return {"ok": True}

    @app.get("/report")
    def report():
        calls[0] += 1
        slow = every and calls[0] % every == 0
        return {"total": work(10_000 * (100 if slow else 1))}

    return app
"""

CONFIG = """
suite: tail
target:
  app: tailapp:create_app
  config:
    TAIL_EVERY: ${TAIL_EVERY:-0}
  endpoints:
    - GET /report
checks:
  latency: {mode: inprocess, samples: 100, warmup: 10}
thresholds:
  "latency/*": 50%
"""


def verdicts(project: PerfciProject) -> dict[str, dict[str, Any]]:
    results = json.loads((project.path / "r.json").read_text(encoding="utf-8"))
    return {v["name"]: v for v in results["verdicts"]}


def test_a_tail_regression_fails_p95_and_passes_p50(perfci_project: PerfciProject) -> None:
    perfci_project.write("tailapp.py", APP)
    perfci_project.write_config(CONFIG)
    created = perfci_project.run_inprocess("baseline", "update")
    assert created.exit_code == ExitCode.OK, created.output

    slow = perfci_project.run_inprocess("run", "--json", "r.json", env={"TAIL_EVERY": "5"})
    assert slow.exit_code == ExitCode.REGRESSION, slow.output
    judged = verdicts(perfci_project)
    p50, p95 = judged["latency/GET /report/p50"], judged["latency/GET /report/p95"]
    assert p95["outcome"] == "regression", p95["reason"]
    # The median did not move: it passes (too noisy to judge when another job on this
    # machine makes it swing past the band, which does not fail either; the pure tests
    # pin the pass). Only the tail fails the gate.
    assert p50["outcome"] in ("pass", "too_noisy"), p50["reason"]
    failing = {name for name, v in judged.items() if v["outcome"] == "regression"}
    assert failing <= {"latency/GET /report/p95", "latency/GET /report/p99"}
    assert p95["reason"].startswith("p95 ") and "bootstrap p=" in p95["reason"]
    assert p95["current"]["statistic"] == "p95"
    # The re-measurement agreed (a suspected timing regression is measured twice).
    assert any("confirmed by a second measurement" in note for note in p95["notes"])
    # p99 is the same tail: never a pass (a preempted baseline request may make it noisy).
    assert judged["latency/GET /report/p99"]["outcome"] in ("regression", "too_noisy")
