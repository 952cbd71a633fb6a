"""Scales for the charts: a readable display unit and round tick values."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from perfci.reporters import format as fmt
from perfci.units import convert, display_unit, is_known

_SHOWN = {"us": "µs"}


@dataclass(frozen=True)
class Axis:
    """A value axis ``[lo, hi]`` in display units; ``factor`` converts from the metric's unit."""

    lo: float
    hi: float
    ticks: tuple[float, ...]
    factor: float  # multiply a value in the metric's unit by this to get display units
    unit: str  # the display unit, "" for plain numbers

    def label(self, tick: float) -> str:
        """A tick's text: "12.5", "50%"."""
        text = fmt.number(tick)
        return f"{text}%" if self.unit == "%" else text

    @property
    def title(self) -> str:
        return self.unit or "value"


def display_scale(values: Iterable[float], unit: str) -> tuple[float, str]:
    """``(factor, unit)`` putting the largest value between 1 and 1000: seconds → ms, ratio → %."""
    peak = max((abs(v) for v in values if math.isfinite(v)), default=0.0)
    if is_known(unit):
        shown = display_unit(peak, unit) if peak else display_unit(1.0, unit)
        return convert(1.0, unit, shown), _SHOWN.get(shown, shown)
    return 1.0, unit


def value_axis(values: Iterable[float], unit: str, *, ticks: int = 4) -> Axis:
    """An axis covering ``values`` (in ``unit``), from zero when nothing is negative."""
    data = [v for v in values if math.isfinite(v)]
    factor, shown = display_scale(data, unit)
    scaled = [v * factor for v in data] or [0.0]
    lo, hi = min(scaled), max(scaled)
    if lo >= 0:
        lo = 0.0
    if hi == lo:
        hi = lo + (abs(lo) or 1.0)
    step = nice_step((hi - lo) / ticks)
    if factor == 1.0 and all(v == int(v) for v in scaled):
        step = max(step, 1.0)  # counts: no 0.25-query ticks
    first = math.floor(lo / step) * step
    last = math.ceil(hi / step) * step
    count = round((last - first) / step)
    marks = tuple(_clean(first + i * step) for i in range(count + 1))
    return Axis(lo=marks[0], hi=marks[-1], ticks=marks, factor=factor, unit=shown)


def nice_step(raw: float) -> float:
    """The round number (1, 2, 2.5 or 5 times a power of ten) at or above ``raw``."""
    if raw <= 0 or not math.isfinite(raw):
        return 1.0
    power = 10.0 ** math.floor(math.log10(raw))
    for multiple in (1.0, 2.0, 2.5, 5.0, 10.0):
        if raw <= multiple * power * (1 + 1e-9):
            return multiple * power
    return 10 * power


def _clean(value: float) -> float:
    """Drop float noise (0.30000000000000004 → 0.3) so labels and tests see round ticks."""
    return float(f"{value:.12g}")
