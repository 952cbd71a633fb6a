"""Interleaved wall-clock sampling: the measuring loop of the latency check.

Every probe (an endpoint, in-process or over HTTP, or a calibration
workload) is a callable that performs one request. ``sample_interleaved``
times them round-robin: one call of each probe per round, the order rotated
from round to round, so drift of the machine (another job starting, CPU
frequency, a noisy neighbour) spreads over every probe alike instead of
landing on whichever was measured last. Same-run A/B (base and head servers
measured in alternation) is this same loop with one probe per side.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import requests
from flask.testing import FlaskClient

from perfci import Endpoint

Probe = Callable[[], None]
Clock = Callable[[], int]


class ProbeFailed(Exception):
    """A probe's request failed or answered an error status; the message says which."""


def sample_interleaved(
    probes: Mapping[str, Probe],
    *,
    rounds: int,
    warmup: int = 0,
    clock: Clock = time.perf_counter_ns,
    on_round: Callable[[int], None] | None = None,
) -> dict[str, list[float]]:
    """Time ``rounds`` calls of every probe, interleaved; milliseconds per call.

    ``warmup`` rounds run first and are not recorded (connections, caches,
    lazy imports). ``on_round(done)`` is called after each recorded round.
    """
    names = list(probes)
    samples: dict[str, list[float]] = {name: [] for name in names}
    if not names:
        return samples
    for index in range(warmup + rounds):
        shift = index % len(names)
        for name in names[shift:] + names[:shift]:
            started = clock()
            probes[name]()
            elapsed = clock() - started
            if index >= warmup:
                samples[name].append(elapsed / 1e6)
        if index >= warmup and on_round is not None:
            on_round(index - warmup + 1)
    return samples


def inprocess_probe(client: FlaskClient, endpoint: Endpoint, headers: Mapping[str, str]) -> Probe:
    """One request through the WSGI test client, body read, error statuses refused."""
    merged = {**dict(endpoint.headers), **headers}

    def call() -> None:
        response = client.open(
            endpoint.path,
            method=endpoint.method,
            query_string=endpoint.query,
            json=endpoint.json,
            headers=merged,
        )
        response.get_data()
        if response.status_code >= 400:
            raise ProbeFailed(f"{endpoint.subject} answered HTTP {response.status_code}")

    return call


def http_probe(
    session: requests.Session,
    base_url: str,
    endpoint: Endpoint,
    headers: Mapping[str, str],
    *,
    timeout: float,
) -> Probe:
    """One request over a keep-alive session, body read, error statuses refused."""
    url = base_url + endpoint.path_and_query
    merged = {**dict(endpoint.headers), **headers}
    kwargs: dict[str, Any] = {"headers": merged, "timeout": timeout}
    if endpoint.json is not None:
        kwargs["json"] = endpoint.json

    def call() -> None:
        try:
            response = session.request(endpoint.method, url, **kwargs)
        except requests.RequestException as error:
            raise ProbeFailed(f"{endpoint.subject}: {type(error).__name__}: {error}") from None
        if response.status_code >= 400:
            raise ProbeFailed(f"{endpoint.subject} answered HTTP {response.status_code}")

    return call


def cpu_probe(iterations: int = 20_000) -> Probe:
    """A fixed pure-Python workload: how fast this machine runs Python right now."""

    def call() -> None:
        total = 0
        for i in range(iterations):
            total += i * i
        if total < 0:  # never true; keeps the loop from looking dead
            raise AssertionError(total)

    return call
