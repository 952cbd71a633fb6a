"""Builders for verdict-engine tests: measurements and rules with short names."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np

from perfci.measurement import Direction, Kind, Measurement
from perfci.verdict.model import Rules

TODAY = dt.date(2025, 3, 14)


def count(name: str, value: float | str, unit: str = "statements", **kwargs: object) -> Measurement:
    """A deterministic measurement; text values default to direction ``equal``."""
    direction = kwargs.pop(
        "direction", Direction.EQUAL if isinstance(value, str) else Direction.LOWER
    )
    return Measurement(name=name, value=value, unit=unit, direction=direction, **kwargs)  # type: ignore[arg-type]


def timed(
    name: str,
    samples: Sequence[float],
    *,
    unit: str = "ms",
    direction: Direction = Direction.LOWER,
    calibration: Sequence[float] = (),
    value: float | None = None,
) -> Measurement:
    """A timing measurement whose value is the median of its samples unless given."""
    return Measurement(
        name=name,
        value=float(np.median(samples)) if value is None else value,
        unit=unit,
        direction=direction,
        kind=Kind.TIMING,
        samples=tuple(float(s) for s in samples),
        calibration=tuple(float(s) for s in calibration),
    )


def lognormal(median: float, sigma: float, n: int, seed: int) -> list[float]:
    """Latency-like samples (right-skewed) with a known median, reproducible by seed."""
    rng = np.random.default_rng(seed)
    return [float(x) for x in rng.lognormal(np.log(median), sigma, n)]


def rules(**kwargs: object) -> Rules:
    """Rules for TODAY with any field overridden."""
    return Rules(today=TODAY, **kwargs)  # type: ignore[arg-type]
