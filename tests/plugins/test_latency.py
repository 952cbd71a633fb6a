"""The latency check: interleaved sampling, calibrated percentiles, and the gate end to end."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, request
from pydantic import ValidationError

from perfci.checks._timing import cpu_probe, sample_interleaved
from perfci.checks.latency import CALIBRATION, Latency, LatencyOptions, latency_measurements
from perfci.errors import CheckCrashed
from perfci.measurement import Direction, Kind
from perfci.target.context import RunContext
from perfci.target.endpoint import Endpoint
from perfci.target.server import Server
from tests.plugins.softfactory import SoftFactoryProject, explain

# --- the sampling loop ------------------------------------------------------


def ticking_clock(step_ns: int = 1_000_000) -> Iterator[int]:
    return itertools.count(0, step_ns)


def test_interleaving_rotates_the_order_and_skips_the_warmup() -> None:
    calls: list[str] = []
    probes = {name: (lambda n=name: calls.append(n)) for name in "abc"}
    clock = ticking_clock()
    samples = sample_interleaved(probes, rounds=2, warmup=1, clock=lambda: next(clock))
    assert calls == ["a", "b", "c", "b", "c", "a", "c", "a", "b"]
    # Every call takes one tick of 1 ms on this clock; warm-up calls are not recorded.
    assert samples == {"a": [1.0, 1.0], "b": [1.0, 1.0], "c": [1.0, 1.0]}


def test_round_callback_counts_recorded_rounds_only() -> None:
    seen: list[int] = []
    sample_interleaved({"a": lambda: None}, rounds=3, warmup=2, on_round=seen.append)
    assert seen == [1, 2, 3]


def test_cpu_probe_runs() -> None:
    samples = sample_interleaved({"cpu": cpu_probe(100)}, rounds=3)
    assert len(samples["cpu"]) == 3 and all(s >= 0 for s in samples["cpu"])


# --- measurements -----------------------------------------------------------


def test_measurements_name_the_endpoint_and_carry_the_calibration() -> None:
    endpoint = Endpoint.parse("GET /api/x?a=1")
    samples = {endpoint.subject: [float(i) for i in range(1, 101)], CALIBRATION: [0.5] * 100}
    made = latency_measurements(
        [endpoint], samples, suffix="http_", how="over HTTP", options=LatencyOptions()
    )
    by_name = {m.name: m for m in made}
    assert list(by_name) == [
        "latency/GET /api/x?a=1/http_p50",
        "latency/GET /api/x?a=1/http_p95",
        "latency/GET /api/x?a=1/http_p99",
    ]
    p95 = by_name["latency/GET /api/x?a=1/http_p95"]
    assert p95.kind is Kind.TIMING and p95.direction is Direction.LOWER and p95.unit == "ms"
    assert p95.value == pytest.approx(95.05)
    assert len(p95.samples) == 100 and p95.calibration == (0.5,) * 100
    assert "Cache-Control: no-cache" in p95.evidence[0].text


def test_without_a_probe_there_is_no_calibration() -> None:
    endpoint = Endpoint.parse("GET /x")
    options = LatencyOptions(calibration=None)
    made = latency_measurements(
        [endpoint], {"GET /x": [1.0] * 5}, suffix="", how="", options=options
    )
    assert [m.name for m in made] == [
        "latency/GET /x/p50",
        "latency/GET /x/p95",
        "latency/GET /x/p99",
    ]
    assert all(m.calibration == () for m in made)


def test_calibration_must_be_an_endpoint_or_cpu() -> None:
    assert LatencyOptions(calibration="cpu").calibration == "cpu"
    assert LatencyOptions(calibration="GET /health").calibration == "GET /health"
    with pytest.raises(ValidationError, match="expected a path"):
        LatencyOptions(calibration="health")
    with pytest.raises(ValidationError):
        LatencyOptions(mode="sideways")  # type: ignore[arg-type]


# --- the check on a small app, in-process ----------------------------------


def small_app() -> Flask:
    app = Flask("small")
    seen: dict[str, Any] = {"no_cache": 0}

    @app.get("/fast")
    def fast() -> str:
        if "no-cache" in request.headers.get("Cache-Control", ""):
            seen["no_cache"] += 1
        return "ok"

    @app.get("/health")
    def health() -> str:
        return "ok"

    @app.get("/broken")
    def broken() -> tuple[str, int]:
        return "no", 500

    app.config["seen"] = seen
    return app


def context(app: Flask, tmp_path: Path, endpoints: list[str]) -> RunContext:
    def no_server() -> Server:
        raise AssertionError("mode inprocess must not start gunicorn")

    return RunContext(
        app=app,
        engine=None,  # type: ignore[arg-type]
        recorder=None,  # type: ignore[arg-type]
        endpoints=tuple(Endpoint.parse(e) for e in endpoints),
        seeded={},
        workdir=tmp_path,
        server_factory=no_server,
    )


def test_inprocess_mode_measures_without_a_server(tmp_path: Path) -> None:
    app = small_app()
    ctx = context(app, tmp_path, ["GET /fast", "GET /fast"])
    options = LatencyOptions(mode="inprocess", samples=8, warmup=2)
    made = list(Latency().collect(ctx, options))
    assert [m.name for m in made] == [
        "latency/GET /fast/p50",
        "latency/GET /fast/p95",
        "latency/GET /fast/p99",
    ]
    assert len(made[0].samples) == 8 and len(made[0].calibration) == 8
    # Warm-up and samples bypass the response cache by default.
    assert app.config["seen"]["no_cache"] == 10


def test_an_endpoint_answering_an_error_crashes_the_check(tmp_path: Path) -> None:
    ctx = context(small_app(), tmp_path, ["GET /fast", "GET /broken"])
    with pytest.raises(CheckCrashed, match=r"GET /broken answered HTTP 500"):
        list(Latency().collect(ctx, LatencyOptions(mode="inprocess", samples=8, warmup=0)))


# --- end to end against target_api ------------------------------------------

ENDPOINTS = ["GET /api/coocook/chefs/1", "GET /api/products"]
CHECK = {"latency": {"samples": 30, "http_samples": 20, "warmup": 5}}
# These tests prove the plumbing and that a gross slowdown fails the build; how often a
# 10% gate is fooled by this shared machine is measured by the benchmarks, not here.
RULES = {"thresholds": {"latency/*": "25%"}}


@pytest.mark.slow
def test_latency_gate_passes_then_catches_the_slow_fault(softfactory: SoftFactoryProject) -> None:
    # +25 ms of CPU per /api request on endpoints that take 1-3 ms: unmistakable.
    softfactory.configure(
        CHECK, endpoints=ENDPOINTS, target_config={"SLOW_CPU_MS": 25}, extra=RULES
    )
    softfactory.baseline()

    healthy = softfactory.gate()
    assert healthy.exit_code == 0, explain(healthy)
    names = {v["name"] for v in softfactory.results()["verdicts"]}
    assert "latency/GET /api/products/p95" in names
    assert "latency/GET /api/products/http_p99" in names

    slow = softfactory.gate("slow")
    assert slow.exit_code == 1, explain(slow)
    failing = softfactory.failing()
    assert failing["latency/GET /api/coocook/chefs/1/p50"] == "regression"
    assert failing["latency/GET /api/products/http_p50"] == "regression"
    assert "latency/GET /api/products/p50" in slow.stdout
