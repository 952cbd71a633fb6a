"""Toy check plugins: what a third-party plugin looks like, small enough to test the engine."""

from __future__ import annotations

from collections.abc import Iterable

import requests

import perfci
from perfci import Check, CheckOptions, Direction, Measurement, RunContext


class QueryCountOptions(CheckOptions):
    repeat: int = 1


class QueryCount(Check[QueryCountOptions]):
    name = "toy_queries"
    description = "statements per request of each endpoint"
    Options = QueryCountOptions

    def collect(self, ctx: RunContext, options: QueryCountOptions) -> Iterable[Measurement]:
        for endpoint in ctx.endpoints:
            with ctx.recorder.record() as recording:
                for _ in range(options.repeat):
                    ctx.call(endpoint)
            yield Measurement(
                f"toy_queries/{endpoint.subject}/queries",
                recording.count,
                "statements",
                Direction.LOWER,
            )


class HttpStatus(Check[CheckOptions]):
    name = "toy_http"
    description = "the health endpoint over real HTTP"

    def collect(self, ctx: RunContext, options: CheckOptions) -> Iterable[Measurement]:
        response = requests.get(ctx.base_url + "/health", timeout=5)
        yield Measurement(
            "toy_http/GET /health/status", response.status_code, "code", Direction.EQUAL
        )
        ctx.progress(f"server pid {ctx.server().pid}")


@perfci.hookimpl
def perfci_checks() -> list[type[Check]]:
    return [QueryCount, HttpStatus]
