"""perfci: a performance-regression gate for Flask + SQLAlchemy services.

This module is the plugin API: a plugin, built-in checks included, imports only
from ``perfci``. The names load on first use (PEP 562), so importing one part
of perfci (the pure verdict engine, the Locust runner) does not import the rest.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from perfci.check import (
        NO_CACHE_HEADERS,
        CacheBypass,
        Check,
        CheckOptions,
        EndpointOptions,
        bypass_cache_field,
        cache_bypass_headers,
        select_endpoints,
    )
    from perfci.config.model import EndpointConfig, Fraction
    from perfci.errors import CheckCrashed, CheckSkipped, ConfigError
    from perfci.measurement import (
        Direction,
        Evidence,
        Kind,
        Measurement,
        counts_evidence,
        percentile,
        timing,
    )
    from perfci.plugin.spec import hookimpl
    from perfci.process import die_with_parent, start_process_group, stop_process_group
    from perfci.status import BODY_CHARS, StatusLog, body_start, failed_requests_budget
    from perfci.target.build import import_object
    from perfci.target.context import RunContext, clear_response_caches
    from perfci.target.endpoint import Endpoint
    from perfci.target.recorder import RecordedQuery, Recording
    from perfci.verdict.model import BudgetRule

__version__ = "0.1.0"

#: Public name -> the module that defines it.
_API = {
    "BudgetRule": "perfci.verdict.model",
    "CacheBypass": "perfci.check",
    "NO_CACHE_HEADERS": "perfci.check",
    "bypass_cache_field": "perfci.check",
    "cache_bypass_headers": "perfci.check",
    "Check": "perfci.check",
    "CheckCrashed": "perfci.errors",
    "CheckSkipped": "perfci.errors",
    "CheckOptions": "perfci.check",
    "ConfigError": "perfci.errors",
    "Direction": "perfci.measurement",
    "Endpoint": "perfci.target.endpoint",
    "EndpointConfig": "perfci.config.model",
    "EndpointOptions": "perfci.check",
    "Evidence": "perfci.measurement",
    "Fraction": "perfci.config.model",
    "Kind": "perfci.measurement",
    "Measurement": "perfci.measurement",
    "RecordedQuery": "perfci.target.recorder",
    "Recording": "perfci.target.recorder",
    "RunContext": "perfci.target.context",
    "StatusLog": "perfci.status",
    "BODY_CHARS": "perfci.status",
    "body_start": "perfci.status",
    "failed_requests_budget": "perfci.status",
    "clear_response_caches": "perfci.target.context",
    "counts_evidence": "perfci.measurement",
    "import_object": "perfci.target.build",
    "die_with_parent": "perfci.process",
    "hookimpl": "perfci.plugin.spec",
    "percentile": "perfci.measurement",
    "select_endpoints": "perfci.check",
    "start_process_group": "perfci.process",
    "stop_process_group": "perfci.process",
    "timing": "perfci.measurement",
}


def __getattr__(name: str) -> Any:
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'perfci' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_API])


__all__ = [
    "BODY_CHARS",
    "NO_CACHE_HEADERS",
    "BudgetRule",
    "CacheBypass",
    "Check",
    "CheckCrashed",
    "CheckOptions",
    "CheckSkipped",
    "ConfigError",
    "Direction",
    "Endpoint",
    "EndpointConfig",
    "EndpointOptions",
    "Evidence",
    "Fraction",
    "Kind",
    "Measurement",
    "RecordedQuery",
    "Recording",
    "RunContext",
    "StatusLog",
    "__version__",
    "body_start",
    "bypass_cache_field",
    "cache_bypass_headers",
    "clear_response_caches",
    "counts_evidence",
    "die_with_parent",
    "failed_requests_budget",
    "hookimpl",
    "import_object",
    "percentile",
    "select_endpoints",
    "start_process_group",
    "stop_process_group",
    "timing",
]
