"""Chart scales: round ticks, a readable display unit, zero-based for non-negative data."""

from __future__ import annotations

import pytest

from perfci.reporters.html.axis import display_scale, nice_step, value_axis


@pytest.mark.parametrize(
    ("raw", "step"), [(0.3, 0.5), (7.5, 10), (2.2, 2.5), (1, 1), (180, 200), (0, 1.0)]
)
def test_nice_step(raw: float, step: float) -> None:
    assert nice_step(raw) == pytest.approx(step)


def test_axis_starts_at_zero_and_covers_the_data() -> None:
    axis = value_axis([2, 2, 31], "queries")
    expected: tuple[float, ...] = (0, 10, 20, 30, 40)
    assert axis.ticks == expected
    assert axis.unit == "queries" and axis.factor == 1


def test_counts_get_whole_ticks() -> None:
    assert value_axis([0, 0, 0], "count").ticks == (0, 1)


def test_display_units() -> None:
    assert display_scale([0.0123, 0.02], "s") == (pytest.approx(1000.0), "ms")
    assert display_scale([1500.0, 20480.0], "B") == (pytest.approx(0.001), "KB")
    assert display_scale([0.9], "ratio") == (pytest.approx(100.0), "%")
    assert display_scale([0.4], "ms") == (pytest.approx(1000.0), "µs")
    axis = value_axis([0.9, 0.92], "ratio")
    assert axis.label(axis.ticks[-1]) == "100%"


def test_negative_values_keep_their_range() -> None:
    axis = value_axis([-5, 5], "ms")
    assert axis.lo < 0 < axis.hi
