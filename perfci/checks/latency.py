"""The built-in 'latency' check: p50/p95/p99 per endpoint, in-process and over HTTP.

Endpoints are timed round-robin after a warm-up, together with a calibration
probe (``/health`` by default) whose samples travel with every measurement
so the verdict engine can tell a slower machine from a slower endpoint.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from typing import Literal

import requests
from pydantic import Field, field_validator

import perfci
from perfci import (
    CacheBypass,
    Check,
    CheckCrashed,
    Endpoint,
    EndpointOptions,
    Evidence,
    Measurement,
    RunContext,
    bypass_cache_field,
    cache_bypass_headers,
    select_endpoints,
    timing,
)

from ._timing import (
    Probe,
    ProbeFailed,
    cpu_probe,
    http_probe,
    inprocess_probe,
    sample_interleaved,
)

STATISTICS = ("p50", "p95", "p99")
#: The key of the calibration probe among the sampled probes (not an endpoint subject).
CALIBRATION = "\0calibration"
CPU_PROBE = "cpu"


class LatencyOptions(EndpointOptions):
    """``checks.latency`` in perfci.yaml."""

    # inprocess: WSGI test client (the app's own cost); http: gunicorn on loopback
    # (adds the server, sockets and the worker model); both: each, as separate metrics.
    mode: Literal["inprocess", "http", "both"] = "both"
    # The engine judges a timing on at least 8 samples a side.
    samples: int = Field(default=200, ge=8)  # recorded requests per endpoint, in-process
    http_samples: int = Field(default=100, ge=8)  # recorded requests per endpoint, over HTTP
    warmup: int = Field(default=20, ge=0)  # unrecorded requests per endpoint first
    # An endpoint ("/health", "GET /health") or "cpu" (a fixed Python workload); null: none.
    calibration: str | None = "/health"
    # Samples time the endpoint's work, not a cache hit: Cache-Control: no-cache.
    bypass_cache: CacheBypass = bypass_cache_field(True)
    timeout: float = Field(default=10.0, gt=0)  # seconds per HTTP request

    @field_validator("calibration")
    @classmethod
    def _probe(cls, value: str | None) -> str | None:
        if value is not None and value != CPU_PROBE:
            Endpoint.parse(value)  # ValueError: reported with the file and line
        return value


class Latency(Check[LatencyOptions]):
    name = "latency"
    description = "p50/p95/p99 per endpoint, in-process and over HTTP, with a calibration probe"
    Options = LatencyOptions
    # mode decides whether gunicorn is needed; ctx.server() starts it lazily.
    deterministic = False

    def collect(self, ctx: RunContext, options: LatencyOptions) -> Iterable[Measurement]:
        endpoints = _distinct(select_endpoints(ctx, options))
        if not endpoints:
            return []
        headers = cache_bypass_headers(options.bypass_cache)
        measurements: list[Measurement] = []
        if options.mode in ("inprocess", "both"):
            client = ctx.client()
            probes = {e.subject: inprocess_probe(client, e, headers) for e in endpoints}
            if options.calibration == CPU_PROBE:
                probes[CALIBRATION] = cpu_probe()
            elif options.calibration is not None:
                probes[CALIBRATION] = inprocess_probe(
                    client, Endpoint.parse(options.calibration), {}
                )
            samples = _sample(ctx, "in-process", probes, options.samples, options.warmup)
            measurements += latency_measurements(
                endpoints, samples, suffix="", how="in-process (WSGI test client)", options=options
            )
        if options.mode in ("http", "both"):
            base_url = ctx.base_url
            with requests.Session() as session:
                probes = {
                    e.subject: http_probe(session, base_url, e, headers, timeout=options.timeout)
                    for e in endpoints
                }
                if options.calibration == CPU_PROBE:
                    probes[CALIBRATION] = cpu_probe()
                elif options.calibration is not None:
                    probes[CALIBRATION] = http_probe(
                        session,
                        base_url,
                        Endpoint.parse(options.calibration),
                        {},
                        timeout=options.timeout,
                    )
                samples = _sample(ctx, "HTTP", probes, options.http_samples, options.warmup)
            measurements += latency_measurements(
                endpoints,
                samples,
                suffix="http_",
                how="over HTTP (gunicorn on loopback, keep-alive)",
                options=options,
            )
        return measurements


def _distinct(endpoints: Iterable[Endpoint]) -> list[Endpoint]:
    """Each subject once, in order (a subject names a metric, which must be unique)."""
    seen: dict[str, Endpoint] = {}
    for endpoint in endpoints:
        seen.setdefault(endpoint.subject, endpoint)
    return list(seen.values())


def _sample(
    ctx: RunContext, label: str, probes: Mapping[str, Probe], rounds: int, warmup: int
) -> dict[str, list[float]]:
    endpoints = sum(1 for name in probes if name != CALIBRATION)
    ctx.progress(f"latency {label}: {endpoints} endpoints x {rounds} samples, interleaved")
    step = max(1, rounds // 4)

    def on_round(done: int) -> None:
        if done % step == 0 and done < rounds:
            ctx.progress(f"latency {label}: {done}/{rounds} rounds")

    try:
        samples = sample_interleaved(probes, rounds=rounds, warmup=warmup, on_round=on_round)
    except ProbeFailed as error:
        raise CheckCrashed(f"latency ({label}): {error}") from None
    return samples


def latency_measurements(
    endpoints: Sequence[Endpoint],
    samples: Mapping[str, Sequence[float]],
    *,
    suffix: str,
    how: str,
    options: LatencyOptions,
) -> list[Measurement]:
    """p50/p95/p99 of each endpoint's samples (ms), each carrying the calibration samples."""
    calibration = tuple(samples.get(CALIBRATION, ()))
    notes = [f"{how}, round-robin with {len(endpoints)} endpoint(s)"]
    if calibration:
        notes.append(f"calibration probe {options.calibration!r} interleaved")
    notes.append(
        "response cache bypassed ("
        + ", ".join(f"{k}: {v}" for k, v in cache_bypass_headers(options.bypass_cache).items())
        + ")"
        if options.bypass_cache
        else "response cache allowed"
    )
    measurements = []
    for endpoint in endpoints:
        times = samples[endpoint.subject]
        evidence = (
            Evidence(
                "note", f"{len(times)} samples after {options.warmup} warm-up; " + "; ".join(notes)
            ),
        )
        for statistic in STATISTICS:
            measurement = timing(
                f"latency/{endpoint.subject}/{suffix}{statistic}",
                times,
                unit="ms",
                statistic=statistic,
                evidence=evidence,
            )
            measurements.append(dataclasses.replace(measurement, calibration=calibration))
    return measurements


@perfci.hookimpl
def perfci_checks() -> list[type[Check]]:
    return [Latency]
