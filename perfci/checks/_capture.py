"""The statements one request issues, measured the same way by every SQL-counting check.

A response cache answers a repeated request without touching the database,
so a cached endpoint would look perfect. With ``bypass_cache`` on (the
default) the checks therefore send ``Cache-Control: no-cache`` (or the
headers ``bypass_cache`` names) and clear every Flask-Caching backend the app
registered (``app.extensions["cache"]``) before each measured request, which
works for any Flask-Caching app. Each request is issued once
unrecorded first, so one-off work (a lazily built lookup table, a first
connection's setup) is not counted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from pydantic import Field

from perfci import (
    BODY_CHARS,
    CacheBypass,
    Endpoint,
    EndpointOptions,
    Recording,
    RunContext,
    bypass_cache_field,
    cache_bypass_headers,
    clear_response_caches,
)


class CaptureOptions(EndpointOptions):
    """Options shared by the checks that record an endpoint's statements."""

    headers: dict[str, str] = Field(
        default_factory=dict,
        description="Request headers added to every measured request "
        "(e.g. Cache-Control: no-cache for an app that honours it).",
    )
    renamed: ClassVar[Mapping[str, str]] = {"clear_cache": "bypass_cache"}
    bypass_cache: CacheBypass = bypass_cache_field(True)
    warm_up: bool = Field(
        default=True,
        description="Issue each request once, unrecorded, before the measured one.",
    )


@dataclass(frozen=True)
class Captured:
    """One measured request: what was sent, its status and body, the statements it issued."""

    endpoint: Endpoint
    status: int
    recording: Recording
    body: bytes = b""

    @property
    def ok(self) -> bool:
        """The status is one the endpoint should answer (``expect``, else 2xx/3xx)."""
        return self.endpoint.expects(self.status)


def capture(
    ctx: RunContext, endpoint: Endpoint, options: CaptureOptions, *, rows: bool = False
) -> Captured:
    """Issue ``endpoint`` in-process and record the statements of the measured request.

    ``rows=True`` also counts the rows its SELECTs return.
    """
    request = endpoint.with_headers(cache_bypass_headers(options.bypass_cache))
    request = request.with_headers(options.headers)
    if options.warm_up:
        ctx.call(request)
    if options.bypass_cache:
        clear_response_caches(ctx.app)
    with ctx.recorder.record(rows=rows) as recording:
        response = ctx.call(request)
    return Captured(
        endpoint=endpoint,
        status=response.status_code,
        recording=recording,
        body=response.get_data()[: 4 * BODY_CHARS],
    )
