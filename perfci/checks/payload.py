"""The built-in 'payload' check: response bytes as served and as compressed on the wire.

Every endpoint is requested twice in-process through the Flask test client
(the WSGI app as gunicorn would run it, after-request hooks such as
Flask-Compress included): once with ``Accept-Encoding: identity`` and once
with the configured encoding (gzip). The body length of each response is a
deterministic fact: the same data and code always give the same bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from pydantic import Field
from typing_extensions import override

import perfci
from perfci import (
    BudgetRule,
    Check,
    Direction,
    Endpoint,
    EndpointOptions,
    Evidence,
    Measurement,
    RunContext,
    StatusLog,
    failed_requests_budget,
    select_endpoints,
)


class PayloadOptions(EndpointOptions):
    """``checks.payload`` in perfci.yaml."""

    # The Accept-Encoding of the compressed request (gzip, br, deflate, "gzip, br", ...).
    accept_encoding: str = Field(default="gzip", min_length=1)


#: JSON key paths kept in a payload's evidence (so a failure can name new keys).
MAX_KEYS = 100


def json_keys(document: Any, prefix: str = "") -> list[str]:
    """Every key path of a JSON document, lists as ``[]``: ``chefs[].id``; sorted, unique."""
    found: set[str] = set()
    stack = [(prefix, document)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, dict):
            for key, child in value.items():
                child_path = f"{path}.{key}" if path else str(key)
                found.add(child_path)
                stack.append((child_path, child))
        elif isinstance(value, list):
            for child in value:
                stack.append((f"{path}[]", child))
    return sorted(found)


class PayloadCheck(Check[PayloadOptions]):
    name = "payload"
    description = "response bytes and compressed bytes per endpoint"
    Options = PayloadOptions

    @override
    def budgets(self, options: PayloadOptions) -> Sequence[BudgetRule]:
        return [failed_requests_budget(self.name)]

    def collect(self, ctx: RunContext, options: PayloadOptions) -> Iterable[Measurement]:
        for endpoint in select_endpoints(ctx, options):
            yield from measure_endpoint(ctx, endpoint, options.accept_encoding)


def measure_endpoint(
    ctx: RunContext, endpoint: Endpoint, accept_encoding: str
) -> Iterator[Measurement]:
    """``bytes`` and ``compressed_bytes`` of one endpoint."""
    prefix = f"payload/{endpoint.subject}"
    plain = ctx.call(endpoint.with_headers({"Accept-Encoding": "identity"}))
    packed = ctx.call(endpoint.with_headers({"Accept-Encoding": accept_encoding}))
    plain_bytes = len(plain.get_data())
    packed_bytes = len(packed.get_data())
    encoding = packed.headers.get("Content-Encoding", "identity")
    note = Evidence(
        "note",
        f"status {plain.status_code}, {plain.mimetype or 'no content type'}; "
        f"Accept-Encoding: {accept_encoding} → Content-Encoding: {encoding}, "
        f"{plain_bytes} B → {packed_bytes} B",
    )
    keys = json_keys(plain.get_json(silent=True))
    shape = (Evidence("keys", "\n".join(keys[:MAX_KEYS])),) if keys else ()
    yield Measurement(f"{prefix}/bytes", plain_bytes, "B", Direction.LOWER, evidence=(note, *shape))
    # No separate "compressed" flag: a body that shrinks below the compressor's
    # minimum size stops being compressed, and that is not a regression.
    # Compression switched off shows as compressed_bytes rising to bytes.
    yield Measurement(
        f"{prefix}/compressed_bytes", packed_bytes, "B", Direction.LOWER, evidence=(note,)
    )
    statuses = StatusLog(endpoint)
    statuses.see(endpoint, plain.status_code, plain.get_data(), plain.headers.get("Location"))
    statuses.see(endpoint, packed.status_code, plain.get_data(), packed.headers.get("Location"))
    yield statuses.measurement("payload")


@perfci.hookimpl
def perfci_checks() -> list[type[Check]]:
    return [PayloadCheck]
