"""perfci: a performance-regression gate for Flask + SQLAlchemy services."""

from perfci.check import Check, CheckOptions
from perfci.errors import CheckSkipped
from perfci.hookspecs import hookimpl
from perfci.measurement import Direction, Evidence, Kind, Measurement

__version__ = "0.1.0"

__all__ = [
    "Check",
    "CheckOptions",
    "CheckSkipped",
    "Direction",
    "Evidence",
    "Kind",
    "Measurement",
    "__version__",
    "hookimpl",
]
