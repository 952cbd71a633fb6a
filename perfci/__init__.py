"""perfci: a performance-regression gate for Flask + SQLAlchemy services.

This module is the plugin API: a plugin, built-in checks included, imports only
from ``perfci``. The names load on first use (PEP 562), so importing one part
of perfci (the pure verdict engine, the Locust runner) does not import the rest.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from perfci.check import Check, CheckOptions, EndpointOptions, select_endpoints
    from perfci.config.model import EndpointConfig, Fraction
    from perfci.context import RunContext
    from perfci.endpoint import Endpoint
    from perfci.errors import CheckCrashed, ConfigError
    from perfci.measurement import Direction, Evidence, Kind, Measurement, percentile, timing
    from perfci.plugin.spec import hookimpl
    from perfci.recorder import RecordedQuery, Recording
    from perfci.verdict.model import BudgetRule

__version__ = "0.1.0"

#: Public name -> the module that defines it.
_API = {
    "BudgetRule": "perfci.verdict.model",
    "Check": "perfci.check",
    "CheckCrashed": "perfci.errors",
    "CheckOptions": "perfci.check",
    "ConfigError": "perfci.errors",
    "Direction": "perfci.measurement",
    "Endpoint": "perfci.endpoint",
    "EndpointConfig": "perfci.config.model",
    "EndpointOptions": "perfci.check",
    "Evidence": "perfci.measurement",
    "Fraction": "perfci.config.model",
    "Kind": "perfci.measurement",
    "Measurement": "perfci.measurement",
    "RecordedQuery": "perfci.recorder",
    "Recording": "perfci.recorder",
    "RunContext": "perfci.context",
    "hookimpl": "perfci.plugin.spec",
    "percentile": "perfci.measurement",
    "select_endpoints": "perfci.check",
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
    "BudgetRule",
    "Check",
    "CheckCrashed",
    "CheckOptions",
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
    "__version__",
    "hookimpl",
    "percentile",
    "select_endpoints",
    "timing",
]
