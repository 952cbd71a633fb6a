"""The JSON results file: strict JSON, sorted keys, non-finite floats as strings."""

from __future__ import annotations

import json
import math
from collections.abc import Callable

import pytest

from perfci.reporters import render_json
from perfci.result import RunResult


def _strict(text: str) -> object:
    def refuse(constant: str) -> object:
        raise AssertionError(f"non-standard JSON constant {constant}")

    return json.loads(text, parse_constant=refuse)


def test_report_matches_golden(
    sample_result: RunResult, golden: Callable[[str, str], None]
) -> None:
    golden("results.json", render_json(sample_result))


def test_round_trips_and_is_strict_json(sample_result: RunResult) -> None:
    text = render_json(sample_result)
    assert text.endswith("}\n")
    data = _strict(text)
    assert isinstance(data, dict)
    assert data["suite"] == "default"
    assert data["counts"]["regression"] == 2
    assert len(data["verdicts"]) == 13
    assert list(data) == sorted(data)


def test_infinite_change_is_a_string_that_float_reads_back(sample_result: RunResult) -> None:
    data = _strict(render_json(sample_result))
    assert isinstance(data, dict)
    scans = next(v for v in data["verdicts"] if v["name"] == "indexes/GET /api/bookings/full_scans")
    assert scans["change"] == "Infinity"
    assert math.isinf(float(scans["change"]))


@pytest.mark.parametrize(
    ("value", "encoded"),
    [(float("inf"), "Infinity"), (float("-inf"), "-Infinity"), (float("nan"), "NaN")],
)
def test_every_non_finite_float_is_encoded(
    build_result: Callable[..., RunResult], value: float, encoded: str
) -> None:
    data = _strict(render_json(build_result([], duration_s=value)))
    assert isinstance(data, dict)
    assert data["duration_s"] == encoded
