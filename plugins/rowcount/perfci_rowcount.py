"""perfci-rowcount: rows returned per list endpoint (the example of docs/writing-plugins.md)."""

from __future__ import annotations

from collections.abc import Iterable

import perfci
from perfci import Check, Direction, EndpointOptions, Measurement, RunContext, select_endpoints


class RowCountOptions(EndpointOptions):
    """``checks.rowcount`` in perfci.yaml: ``endpoints`` (default: every target endpoint)."""


class RowCount(Check[RowCountOptions]):
    name = "rowcount"  # the first segment of every metric it emits
    Options = RowCountOptions
    deterministic = True  # run by `perfci run --quick`

    def collect(self, ctx: RunContext, options: RowCountOptions) -> Iterable[Measurement]:
        for endpoint in select_endpoints(ctx, options):
            body = ctx.call(endpoint).get_json()
            rows = len(body) if isinstance(body, list) else 1
            yield Measurement(f"rowcount/{endpoint.subject}/rows", rows, "rows", Direction.LOWER)


@perfci.hookimpl
def perfci_checks() -> list[type[Check]]:
    return [RowCount]
