"""The terminal report: a sorted table, the evidence behind failures, one summary line."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from perfci.reporters import render_terminal
from perfci.result import RunResult
from perfci.verdict.model import Judgement, Outcome, Verdict

ESC = "\x1b["


def test_plain_report_matches_golden(
    sample_result: RunResult, golden: Callable[[str, str], None]
) -> None:
    golden("terminal.txt", render_terminal(sample_result, color=False))


def test_passing_report_matches_golden(
    passing_result: RunResult, golden: Callable[[str, str], None]
) -> None:
    golden("terminal-pass.txt", render_terminal(passing_result, color=False))


def test_colour_only_when_asked(sample_result: RunResult) -> None:
    coloured = render_terminal(sample_result, color=True)
    plain = render_terminal(sample_result, color=False)
    assert ESC in coloured
    assert "\x1b" not in plain


def test_verdict_words_survive_without_colour(sample_result: RunResult) -> None:
    plain = render_terminal(sample_result, color=False)
    for word in ("REGRESSION", "BUDGET VIOLATION", "MISSING", "too noisy", "acknowledged", "pass"):
        assert word in plain


@pytest.mark.parametrize(
    "environ",
    [{"NO_COLOR": "1"}, {"FORCE_COLOR": "1"}, {"TERM": "dumb"}, {"COLUMNS": "40"}],
)
def test_environment_does_not_change_the_output(
    sample_result: RunResult, monkeypatch: pytest.MonkeyPatch, environ: dict[str, str]
) -> None:
    expected_plain = render_terminal(sample_result, color=False)
    expected_colour = render_terminal(sample_result, color=True)
    for key, value in environ.items():
        monkeypatch.setenv(key, value)
    assert render_terminal(sample_result, color=False) == expected_plain
    assert render_terminal(sample_result, color=True) == expected_colour


def test_failures_come_first_then_noteworthy_then_passes(sample_result: RunResult) -> None:
    plain = render_terminal(sample_result, color=False)
    table = plain.split("\n\n", 1)[0]
    order = [
        table.index("✗ REGRESSION"),
        table.index("✗ BUDGET VIOLATION"),
        table.index("✗ MISSING"),
        table.index("? too noisy"),
        table.index("! acknowledged"),
        table.index("+ new"),
        table.index("✓ improvement"),
        table.index("✓ pass"),
    ]
    assert order == sorted(order)


def test_evidence_is_shown_for_failures(sample_result: RunResult) -> None:
    plain = render_terminal(sample_result, color=False)
    assert "SELECT chefs.id, chefs.name FROM chefs WHERE chefs.user_id = ?" in plain
    assert "    SCAN bookings" in plain
    assert "budget: max 25 ms (perfci.yaml:14)" in plain
    assert "campaign descriptions now included (#42) (until 2027-01-31)" in plain


def test_summary_line_is_last(sample_result: RunResult) -> None:
    last = render_terminal(sample_result, color=False).splitlines()[-1]
    assert last == (
        "2 regressions, 1 budget violation, 1 missing, 1 too noisy to judge, 1 acknowledged,"
        " 1 new, 1 improvement, 5 passed — FAILED (exit 1)"
    )


def test_markup_in_data_is_printed_literally(
    build_result: Callable[..., RunResult], verdicts: list[Verdict]
) -> None:
    regression = verdicts[2]
    odd = Verdict(
        name="n_plus_one/GET /api/[bold]x[/bold]/queries",
        outcome=regression.outcome,
        mode=regression.mode,
        reason="[red]not markup[/red] :smile:",
    )
    plain = render_terminal(build_result([odd]), color=False)
    assert "[bold]x[/bold]" in plain
    assert "[red]not markup[/red] :smile:" in plain


def test_table_fits_the_width(sample_result: RunResult) -> None:
    plain = render_terminal(sample_result, color=False, width=80)
    table = plain.split("\n\n", 1)[0]
    assert max(len(line) for line in table.splitlines()) <= 80


def test_unmatched_rules_are_listed(build_result: Callable[..., RunResult]) -> None:
    result = build_result([], exit_code=2)
    result = replace(result, judgement=Judgement((), ("perfci.yaml:9: budget 'x/*'",)))
    plain = render_terminal(result, color=False)
    assert "perfci.yaml:9: budget 'x/*'" in plain
    assert plain.splitlines()[-1] == "no measurements — ERROR (exit 2)"


def test_passes_can_be_counted_instead_of_listed(sample_result: RunResult) -> None:
    full = render_terminal(sample_result, color=False)
    short = render_terminal(sample_result, color=False, passes=False)
    passes = [v for v in sample_result.verdicts if v.outcome is Outcome.PASS]
    assert passes, "the sample needs a passing verdict"
    assert f"✓ pass: {len(passes)} more (--verbose lists them)" in short
    assert len(short.splitlines()) == len(full.splitlines()) - len(passes) + 1
    for verdict in sample_result.verdicts:
        if verdict.outcome is not Outcome.PASS:
            assert verdict.name.split("/", 1)[1].rsplit("/", 1)[-1] in short


def test_a_multi_line_note_stays_inside_its_verdict() -> None:
    from perfci.reporters.terminal import render_terminal
    from perfci.verdict.model import Mode, Outcome, Verdict
    from tests.reporters.builders import make_result

    note = "new compared with the baseline:\nsql: SELECT books.id\nsql: FROM books"
    verdict = Verdict(
        name="n_plus_one/GET /a/queries",
        outcome=Outcome.REGRESSION,
        mode=Mode.EXACT,
        reason="1 → 21 queries",
        notes=(note,),
    )
    text = render_terminal(make_result([verdict]), color=False, width=120)
    lines = text.splitlines()
    start = lines.index("  note: new compared with the baseline:")
    assert lines[start + 1 : start + 3] == ["    sql: SELECT books.id", "    sql: FROM books"]
