"""perfci: a performance-regression gate for Flask + SQLAlchemy services."""

from perfci.check import Check, CheckOptions
from perfci.measurement import Direction, Evidence, Kind, Measurement
from perfci.plugin.spec import hookimpl

__version__ = "0.1.0"

__all__ = [
    "Check",
    "CheckOptions",
    "Direction",
    "Evidence",
    "Kind",
    "Measurement",
    "__version__",
    "hookimpl",
]
