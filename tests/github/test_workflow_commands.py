"""Workflow commands: GitHub's escaping rules, and one annotation per verdict worth a look."""

from __future__ import annotations

from perfci.github.results import load_result
from perfci.github.workflow_commands import (
    MAX_ANNOTATIONS,
    annotation_lines,
    command,
    escape_data,
    escape_property,
)
from perfci.measurement import Direction, Measurement
from perfci.result import RunResult
from perfci.verdict.model import Judgement, Mode, Outcome, Verdict
from tests.github.builders import FAILING_RESULTS


def test_escape_data_encodes_percent_and_newlines_only() -> None:
    assert escape_data("50% a:b,c\r\nnext") == "50%25 a:b,c%0D%0Anext"


def test_escape_property_also_encodes_colon_and_comma() -> None:
    assert escape_property("a:b,c 5%\n") == "a%3Ab%2Cc 5%25%0A"


def test_command_line() -> None:
    line = command("error", "two\nlines", title="perfci: x, y")
    assert line == "::error title=perfci%3A x%2C y::two%0Alines"
    assert command("notice", "plain") == "::notice::plain"


def test_annotations_of_the_failing_golden_result() -> None:
    lines = list(annotation_lines(load_result(FAILING_RESULTS)))
    levels = [line.split(" ", 1)[0] for line in lines]
    assert levels == ["::error"] * 4 + ["::warning", "::notice"]
    assert lines[0] == (
        "::error title=perfci REGRESSION%3A n_plus_one/GET /api/coocook/chefs/queries"
        "::n_plus_one/GET /api/coocook/chefs/queries: queries per request grew from 2 to 31"
        " (+1450.0%25), past the 10%25 threshold"
    )
    assert all("\n" not in line for line in lines)


def test_annotations_are_capped() -> None:
    verdicts = tuple(
        Verdict(
            name=f"c/s{i}/m",
            outcome=Outcome.REGRESSION,
            mode=Mode.EXACT,
            reason="worse",
            current=Measurement(f"c/s{i}/m", 2, "count", Direction.LOWER),
        )
        for i in range(MAX_ANNOTATIONS + 3)
    )
    result = RunResult(
        suite="s",
        measurements=(),
        judgement=Judgement(verdicts),
        exit_code=1,
        started_at="",
        duration_s=0,
    )
    lines = list(annotation_lines(result))
    assert len(lines) == MAX_ANNOTATIONS + 1
    assert lines[-1] == "::notice::3 more verdicts to look at are in the perfci report"
