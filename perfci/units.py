"""Quantities with units: parse ``"25ms"``, convert between compatible units, format for people.

Pure functions, no I/O: the verdict engine uses them to apply budgets written in
any unit to measurements recorded in another, and to write its reasons.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any, NamedTuple

# unit -> (dimension, size of one unit in the dimension's base unit)
_UNITS: dict[str, tuple[str, float]] = {
    "ns": ("time", 1e-9),
    "us": ("time", 1e-6),
    "ms": ("time", 1e-3),
    "s": ("time", 1.0),
    "B": ("size", 1.0),
    "KB": ("size", 1e3),
    "MB": ("size", 1e6),
    "GB": ("size", 1e9),
    "KiB": ("size", 1024.0),
    "MiB": ("size", 1024.0**2),
    "GiB": ("size", 1024.0**3),
    "ratio": ("ratio", 1.0),
    "%": ("ratio", 0.01),
    "count": ("count", 1.0),
    "req/s": ("rate", 1.0),
    "req/min": ("rate", 1 / 60),
}

# Other spellings people write; each maps to a key of _UNITS.
_ALIASES: dict[str, str] = {
    "µs": "us",
    "μs": "us",
    "sec": "s",
    "secs": "s",
    "bytes": "B",
    "byte": "B",
    "kB": "KB",
    "percent": "%",
    "rps": "req/s",
}

_QUANTITY = re.compile(r"^\s*([-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)\s*(.*?)\s*$")

# Display ladders: for each dimension the units format_quantity may pick, smallest first.
_TIME_LADDER = ("ns", "us", "ms", "s")
_DECIMAL_SIZES = ("B", "KB", "MB", "GB")
_BINARY_SIZES = ("B", "KiB", "MiB", "GiB")
_DISPLAY = {"us": "µs"}


class Quantity(NamedTuple):
    """A number and its unit (``None`` for a plain number, meaning "the metric's own unit").

    A tuple, so ``value, unit = parse_quantity("25ms")`` works.
    """

    value: float
    unit: str | None


def canonical_unit(unit: str) -> str:
    """The canonical spelling of a known unit (``"µs"`` → ``"us"``); unknown units unchanged."""
    return _ALIASES.get(unit, unit)


def is_known(unit: str) -> bool:
    return canonical_unit(unit) in _UNITS


def dimension(unit: str) -> str:
    """``time``, ``size``, ``ratio``, ``count`` or ``rate``; an unknown unit is its own."""
    known = _UNITS.get(canonical_unit(unit))
    return known[0] if known else unit


def parse_quantity(text: str | float | int) -> Quantity:
    """Parse ``"25ms"``, ``"1.5 s"``, ``"10KB"``, ``"50%"``, ``"100 req/s"`` or a plain number.

    Raises ValueError naming the text for anything else, including an unknown unit.
    """
    if isinstance(text, bool):
        raise ValueError(f"expected a quantity such as '25ms', got {text!r}")
    if isinstance(text, int | float):
        if not math.isfinite(text):
            raise ValueError(f"expected a finite quantity, got {text!r}")
        return Quantity(float(text), None)
    match = _QUANTITY.match(text)
    if match is None:
        raise ValueError(f"expected a quantity such as '25ms' or '10KB', got {text!r}")
    number, unit = float(match.group(1)), match.group(2)
    if not math.isfinite(number):  # "1e999ms" reads as infinity
        raise ValueError(f"expected a finite quantity, got {text!r}")
    if not unit:
        return Quantity(number, None)
    if not is_known(unit):
        raise ValueError(f"unknown unit {unit!r} in {text!r} (known: {', '.join(_UNITS)})")
    return Quantity(number, canonical_unit(unit))


def convert(value: float, from_unit: str, to_unit: str) -> float:
    """``value`` in ``from_unit`` expressed in ``to_unit``.

    Identical units always convert (so ``"statements"`` to ``"statements"`` works);
    otherwise both must be known and of the same dimension, else ValueError.
    """
    source, target = canonical_unit(from_unit), canonical_unit(to_unit)
    if source == target:
        return value
    for unit in (source, target):
        if unit not in _UNITS:
            raise ValueError(f"unknown unit {unit!r}: cannot convert {from_unit!r} to {to_unit!r}")
    (source_dim, source_scale), (target_dim, target_scale) = _UNITS[source], _UNITS[target]
    if source_dim != target_dim:
        raise ValueError(
            f"cannot convert {from_unit!r} ({source_dim}) to {to_unit!r} ({target_dim})"
        )
    return value * source_scale / target_scale


def format_number(value: float) -> str:
    """Three significant digits for fractions, whole numbers as integers: 12.3, 0.0451, 1234."""
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:.0f}"
    if magnitude >= 10:
        return _trim(f"{value:.1f}")
    if magnitude >= 1:
        return _trim(f"{value:.2f}")
    return _trim(f"{value:.3g}") if magnitude >= 1e-4 else f"{value:.2e}"


def _trim(text: str) -> str:
    return text.rstrip("0").rstrip(".") if "." in text else text


def display_unit(value: float, unit: str) -> str:
    """The unit ``format_quantity`` would show ``value`` (in ``unit``) in."""
    return _scaled(value, unit)[1]


def format_quantity(value: float, unit: str) -> str:
    """For people: 0.0123 s → ``"12.3 ms"``, 1536 B → ``"1.54 KB"``, 0.5 ratio → ``"50%"``."""
    scaled, shown = _scaled(value, unit)
    number = format_number(scaled)
    if not shown:
        return number
    if shown == "%":
        return f"{number}%"
    return f"{number} {_DISPLAY.get(shown, shown)}"


def format_change(before: float, after: float, unit: str) -> str:
    """``"42 → 51 statements"``, ``"900 µs → 1.2 ms"``: the unit once when both sides share it."""
    before_scaled, before_unit = _scaled(before, unit)
    after_unit = _scaled(after, unit)[1]
    if before_unit == after_unit:
        return f"{format_number(before_scaled)} → {format_quantity(after, unit)}"
    return f"{format_quantity(before, unit)} → {format_quantity(after, unit)}"


def _scaled(value: float, unit: str) -> tuple[float, str]:
    """Pick the display unit that keeps the number between 1 and 1000 where one exists."""
    canonical = canonical_unit(unit)
    if canonical == "ratio":
        return value * 100, "%"
    ladder: tuple[str, ...] | None = None
    if canonical in _TIME_LADDER:
        ladder = _TIME_LADDER
    elif canonical in _BINARY_SIZES[1:]:  # plain bytes scale in decimal units
        ladder = _BINARY_SIZES
    elif canonical in _DECIMAL_SIZES:
        ladder = _DECIMAL_SIZES
    if ladder is None or value == 0 or not math.isfinite(value):
        return value, canonical
    best = ladder[0]
    for candidate in ladder:
        if abs(convert(value, canonical, candidate)) >= 1:
            best = candidate
    return convert(value, canonical, best), best


# --- numbers in perfci's JSON files ---------------------------------------------------------

# JSON has no infinity or NaN: perfci writes non-finite floats as these strings, and its
# readers take them back (and only them): "float('nan')" spellings like "nan" are refused.
NON_FINITE: Mapping[str, float] = {"Infinity": math.inf, "-Infinity": -math.inf, "NaN": math.nan}


def encode_finite(value: Any) -> Any:
    """``value`` with non-finite floats as ``"Infinity"``, ``"-Infinity"``, ``"NaN"``."""
    if isinstance(value, float) and not math.isfinite(value):
        if math.isnan(value):
            return "NaN"
        return "Infinity" if value > 0 else "-Infinity"
    if isinstance(value, dict):
        return {key: encode_finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [encode_finite(item) for item in value]
    return value


def decode_float(value: Any) -> float:
    """A JSON number, or one of ``NON_FINITE``'s spellings; ValueError otherwise."""
    if isinstance(value, str) and value in NON_FINITE:
        return NON_FINITE[value]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected a number, got {_short(value)}")
    try:
        return float(value)
    except OverflowError:
        raise ValueError("number out of range") from None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"
