"""perfci-rowcount: rows returned per list endpoint (the example of docs/writing-plugins.md)."""

from __future__ import annotations

from collections.abc import Iterable

import perfci
from perfci import Check, CheckOptions, Direction, Measurement
from perfci.check import EndpointOptions, select_endpoints
from perfci.context import RunContext


class RowCountOptions(EndpointOptions):
    pass


class RowCount(Check):
    name = "rowcount"  # the first segment of every metric it emits
    Options = RowCountOptions
    deterministic = True  # run by `perfci run --quick`

    def collect(self, ctx: RunContext, options: CheckOptions) -> Iterable[Measurement]:
        assert isinstance(options, RowCountOptions)
        for endpoint in select_endpoints(ctx, options):
            body = ctx.call(endpoint).get_json()
            rows = len(body) if isinstance(body, list) else 1
            yield Measurement(f"rowcount/{endpoint.subject}/rows", rows, "rows", Direction.LOWER)


@perfci.hookimpl
def perfci_checks() -> list[type[Check]]:
    return [RowCount]
