"""A failing verdict says what is new compared with the baseline's evidence."""

from __future__ import annotations

import datetime as dt

from perfci.checks.payload import json_keys
from perfci.measurement import Direction, Evidence, Measurement
from perfci.verdict import judge
from perfci.verdict.model import Rules

RULES = Rules(today=dt.date(2026, 1, 1))


def queries(value: int, statements: str, note: str = "") -> Measurement:
    evidence = [Evidence("statements", statements)]
    if note:
        evidence.append(Evidence("note", note))
    return Measurement(
        "n_plus_one/GET /x/queries", value, "queries", Direction.LOWER, evidence=tuple(evidence)
    )


def test_new_and_grown_shapes_are_named() -> None:
    base = queries(2, "1× SELECT a FROM t\n1× SELECT b FROM u")
    current = queries(
        7, "5× SELECT c FROM v WHERE id = ?\n1× SELECT a FROM t\n1× SELECT b FROM u", "x"
    )
    (verdict,) = judge([current], [base], RULES).verdicts
    assert verdict.outcome.value == "regression"
    assert verdict.notes[-1] == (
        "new compared with the baseline:\nstatements: 5× SELECT c FROM v WHERE id = ?"
    )


def test_a_passing_verdict_or_no_baseline_says_nothing_new() -> None:
    same = queries(2, "1× SELECT a FROM t")
    (verdict,) = judge([same], [same], RULES).verdicts
    assert not any("new compared" in n for n in verdict.notes)
    (verdict,) = judge([same], None, RULES).verdicts
    assert not any("new compared" in n for n in verdict.notes)


def test_at_most_three_lines_and_long_lines_are_cut() -> None:
    base = queries(1, "1× SELECT 1")
    current = queries(9, "\n".join(f"1× SELECT {i} {'x' * 400}" for i in range(5)))
    (verdict,) = judge([current], [base], RULES).verdicts
    head, *lines = verdict.notes[-1].splitlines()
    assert head == "new compared with the baseline (and 2 more):"
    assert len(lines) == 3 and all(len(line) <= 300 for line in lines)


def test_new_json_keys_of_a_payload() -> None:
    def payload(value: int, document: object) -> Measurement:
        keys = Evidence("keys", "\n".join(json_keys(document)))
        return Measurement("payload/GET /x/bytes", value, "B", Direction.LOWER, evidence=(keys,))

    base = payload(100, {"chefs": [{"id": 1}], "total": 1})
    current = payload(400, {"chefs": [{"id": 1, "bio": "…", "tags": ["a"]}], "total": 1})
    (verdict,) = judge([current], [base], RULES).verdicts
    assert verdict.notes[-1] == (
        "new compared with the baseline:\nkeys: chefs[].bio\nkeys: chefs[].tags"
    )
