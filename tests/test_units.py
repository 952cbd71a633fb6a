"""perfci.units: parsing, converting and formatting quantities."""

from __future__ import annotations

import math

import pytest

from perfci import units
from perfci.units import Quantity


@pytest.mark.parametrize(
    ("text", "quantity"),
    [
        ("25ms", Quantity(25.0, "ms")),
        ("1.5 s", Quantity(1.5, "s")),
        ("200us", Quantity(200.0, "us")),
        ("200µs", Quantity(200.0, "us")),
        ("10KB", Quantity(10.0, "KB")),
        ("10 kB", Quantity(10.0, "KB")),
        ("2MiB", Quantity(2.0, "MiB")),
        ("50%", Quantity(50.0, "%")),
        ("100 req/s", Quantity(100.0, "req/s")),
        ("100 rps", Quantity(100.0, "req/s")),
        ("0.5 ratio", Quantity(0.5, "ratio")),
        ("3 count", Quantity(3.0, "count")),
        ("42", Quantity(42.0, None)),
        ("  -1.5e3 ns ", Quantity(-1500.0, "ns")),
        (".5s", Quantity(0.5, "s")),
        (7, Quantity(7.0, None)),
        (2.5, Quantity(2.5, None)),
    ],
)
def test_parse_quantity(text: str | float, quantity: Quantity) -> None:
    assert units.parse_quantity(text) == quantity


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("25 parsecs", "unknown unit 'parsecs' in '25 parsecs'"),
        ("25mS", "unknown unit 'mS'"),
        ("fast", "expected a quantity such as '25ms'"),
        ("", "expected a quantity"),
        ("ms", "expected a quantity"),
        ("1.2.3ms", "unknown unit '.3ms'"),
    ],
)
def test_parse_quantity_refuses_nonsense_clearly(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        units.parse_quantity(text)


@pytest.mark.parametrize("value", [True, math.nan, math.inf])
def test_parse_quantity_refuses_booleans_and_non_finite_numbers(value: float) -> None:
    with pytest.raises(ValueError, match="quantity"):
        units.parse_quantity(value)


@pytest.mark.parametrize(
    ("value", "source", "target", "expected"),
    [
        (25, "ms", "s", 0.025),
        (1.5, "s", "ms", 1500),
        (200, "us", "ms", 0.2),
        (200, "µs", "ns", 200_000),
        (1, "KiB", "B", 1024),
        (2, "MiB", "KB", 2097.152),
        (10, "KB", "B", 10_000),
        (1, "GB", "MB", 1000),
        (50, "%", "ratio", 0.5),
        (0.25, "ratio", "%", 25),
        (120, "req/min", "req/s", 2),
        (3, "count", "count", 3),
        (3, "statements", "statements", 3),  # unknown units convert to themselves
    ],
)
def test_convert(value: float, source: str, target: str, expected: float) -> None:
    assert units.convert(value, source, target) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("source", "target", "message"),
    [
        ("ms", "B", "cannot convert 'ms' (time) to 'B' (size)"),
        ("%", "req/s", "cannot convert '%' (ratio) to 'req/s' (rate)"),
        ("count", "ms", "cannot convert 'count' (count) to 'ms' (time)"),
        ("ms", "statements", "unknown unit 'statements'"),
        ("furlongs", "ms", "unknown unit 'furlongs'"),
    ],
)
def test_convert_refuses_incompatible_units(source: str, target: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        units.convert(1, source, target)


def test_dimensions_and_known_units() -> None:
    assert units.dimension("µs") == "time"
    assert units.dimension("MiB") == "size"
    assert units.dimension("%") == "ratio"
    assert units.dimension("req/s") == "rate"
    assert units.dimension("statements") == "statements"
    assert units.is_known("bytes")
    assert not units.is_known("statements")
    assert units.canonical_unit("sec") == "s"


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (0.0123, "s", "12.3 ms"),
        (1.5, "s", "1.5 s"),
        (4000, "s", "4000 s"),
        (0.0005, "s", "500 µs"),
        (12, "ns", "12 ns"),
        (0.5, "ns", "0.5 ns"),
        (1536, "B", "1.54 KB"),
        (512, "B", "512 B"),
        (3_500_000, "B", "3.5 MB"),
        (1536, "KiB", "1.5 MiB"),
        (0.5, "ratio", "50%"),
        (12.5, "%", "12.5%"),
        (100, "req/s", "100 req/s"),
        (42, "statements", "42 statements"),
        (0, "ms", "0 ms"),
        (-0.002, "s", "-2 ms"),
        (7, "", "7"),
        (math.inf, "ms", "∞ ms"),
    ],
)
def test_format_quantity(value: float, unit: str, text: str) -> None:
    assert units.format_quantity(value, unit) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (42, "42"),
        (42.0, "42"),
        (12.34, "12.3"),
        (1.234, "1.23"),
        (1.5, "1.5"),
        (123.4, "123"),
        (0.01234, "0.0123"),
        (0.00001234, "1.23e-05"),
        (math.nan, "nan"),
        (-math.inf, "-∞"),
    ],
)
def test_format_number(value: float, text: str) -> None:
    assert units.format_number(value) == text


@pytest.mark.parametrize(
    ("before", "after", "unit", "text"),
    [
        (42, 51, "statements", "42 → 51 statements"),
        (0.0009, 0.0012, "s", "900 µs → 1.2 ms"),
        (0.012, 0.0156, "s", "12 → 15.6 ms"),
        (0.9, 0.85, "ratio", "90 → 85%"),
    ],
)
def test_format_change(before: float, after: float, unit: str, text: str) -> None:
    assert units.format_change(before, after, unit) == text


def test_display_unit() -> None:
    assert units.display_unit(0.0123, "s") == "ms"
    assert units.display_unit(42, "statements") == "statements"


def test_a_quantity_unpacks_into_value_and_unit() -> None:
    value, unit = units.parse_quantity("25ms")
    assert (value, unit) == (25.0, "ms")
