"""The terminal report: a sorted table, the evidence behind failures, one summary line."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from perfci.measurement import Direction, Evidence, Measurement
from perfci.reporters import render_terminal
from perfci.result import RunResult
from perfci.verdict.model import Judgement, Mode, Outcome, Verdict
from tests.reporters.builders import make_result

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


def test_passes_and_noisy_timings_are_counted_unless_verbose(sample_result: RunResult) -> None:
    full = render_terminal(sample_result, color=False)
    short = render_terminal(sample_result, color=False, verbose=False)
    passes = [v for v in sample_result.verdicts if v.outcome is Outcome.PASS]
    noisy = [v for v in sample_result.verdicts if v.outcome is Outcome.NOISY]
    assert passes and noisy, "the sample needs a passing and a noisy verdict"
    assert f"✓ pass: {len(passes)} more (--verbose lists them)" in short
    line = "? too noisy: 1 timing not judged (1 whose samples vary more than the threshold)"
    assert line in short
    # Neither the noisy row nor its evidence block: one summary line instead.
    assert "GET /api/products/p50" in full
    assert "GET /api/products/p50" not in short
    for verdict in sample_result.verdicts:
        if verdict.outcome not in (Outcome.PASS, Outcome.NOISY):
            assert verdict.name.split("/", 1)[1] in short
    # Failures keep their full evidence.
    assert "SELECT chefs.id, chefs.name FROM chefs WHERE chefs.user_id = ?" in short
    assert "    SCAN bookings" in short


def _noisy(name: str, reason: str, notes: tuple[str, ...] = ()) -> Verdict:
    return Verdict(name=name, outcome=Outcome.NOISY, mode=Mode.BASELINE, reason=reason, notes=notes)


def test_a_passing_run_with_noisy_timings_is_short(
    passing_result: RunResult, golden: Callable[[str, str], None]
) -> None:
    noisy = [
        _noisy(f"latency/GET /api/{n}/p95", "too noisy to judge: median 4 ms → 4.6 ms (+15%)")
        for n in ("a", "b", "c")
    ]
    noisy.append(_noisy("latency/GET /api/d/p95", "not comparable across machines: median +20%"))
    noisy.append(
        _noisy(
            "load/50 users/p95",
            "too noisy to judge: median +30%",
            ("only 4 baseline and 4 current samples (a timing verdict needs 8 on each side)",),
        )
    )
    result = make_result([*passing_result.verdicts, *noisy])
    text = render_terminal(result, color=False, verbose=False)
    golden("terminal-quiet.txt", text)
    summary = [line for line in text.splitlines() if line.startswith("? too noisy")]
    assert len(summary) == 1
    assert summary[0].startswith(
        "? too noisy: 5 timings not judged (1 against a baseline from another machine, "
        "1 with too few samples, 3 whose samples vary more than the threshold); "
        "to judge them: perfci run --against REF"
    )
    assert "strict: true" in summary[0] and "more samples" in summary[0]
    assert not any("not comparable" in line for line in text.splitlines())
    verbose = render_terminal(result, color=False, verbose=True)
    assert "not comparable across machines: median +20%" in verbose
    assert "? too noisy:" not in verbose


def test_new_evidence_is_marked_not_repeated() -> None:
    base = Measurement(
        "n_plus_one/GET /a/queries",
        1,
        "queries",
        Direction.LOWER,
        evidence=(Evidence("sql", "SELECT books.id FROM books"),),
    )
    head = replace(
        base,
        value=21,
        evidence=(
            Evidence("sql", "SELECT books.id FROM books\nSELECT authors.name FROM authors"),
            Evidence("plan", "SCAN authors"),
        ),
    )
    note = (
        "new compared with the baseline:\nsql: SELECT authors.name FROM authors\nplan: SCAN authors"
    )
    verdict = Verdict(
        name=base.name,
        outcome=Outcome.REGRESSION,
        mode=Mode.EXACT,
        reason="1 → 21 queries",
        current=head,
        baseline=base,
        notes=(note,),
    )
    lines = render_terminal(make_result([verdict]), color=False, verbose=False).splitlines()
    assert "  note: new compared with the baseline: the lines marked + below" in lines
    assert "    SELECT books.id FROM books" in lines
    assert "  + SELECT authors.name FROM authors" in lines
    assert "  + SCAN authors" in lines
    assert not any("sql: SELECT authors" in line for line in lines)
    # Nothing to mark (no current evidence): the engine's note is shown as it is.
    bare = replace(verdict, current=replace(head, evidence=()))
    text = render_terminal(make_result([bare]), color=False, verbose=False)
    assert "the lines marked + below" not in text
    assert "    sql: SELECT authors.name FROM authors" in text


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
