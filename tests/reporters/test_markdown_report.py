"""The Markdown report: the sticky PR comment and the job summary."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

from perfci.measurement import Direction, Evidence, Measurement
from perfci.reporters import MARKDOWN_MARKER, render_markdown
from perfci.reporters.markdown import MAX_CHARS, code_cell, escape_cell
from perfci.result import RunResult
from perfci.verdict.model import Judgement, Mode, Outcome, Verdict

GITHUB_COMMENT_LIMIT = 65_536
# A table row's cell separators: pipes not escaped with a backslash.
_SEPARATOR = re.compile(r"(?<!\\)\|")


def test_report_matches_golden(
    sample_result: RunResult, golden: Callable[[str, str], None]
) -> None:
    golden("report.md", render_markdown(sample_result))


def test_passing_report_matches_golden(
    passing_result: RunResult, golden: Callable[[str, str], None]
) -> None:
    golden("report-pass.md", render_markdown(passing_result))


def test_marker_is_the_first_line(sample_result: RunResult, passing_result: RunResult) -> None:
    assert MARKDOWN_MARKER == "<!-- perfci-report -->"
    for result in (sample_result, passing_result):
        assert render_markdown(result).splitlines()[0] == MARKDOWN_MARKER


def test_every_table_row_has_six_cells(sample_result: RunResult) -> None:
    rows = [line for line in render_markdown(sample_result).splitlines() if line.startswith("|")]
    assert rows
    for row in rows:
        assert len(_SEPARATOR.findall(row)) == 7, row


def test_pipes_and_backticks_are_escaped_in_cells(sample_result: RunResult) -> None:
    text = render_markdown(sample_result)
    assert r"| ``n_plus_one/GET /api/search?q=a\|b `x`/queries`` |" in text
    assert r"was the endpoint \`search\` \| removed?" in text


def test_escape_helpers() -> None:
    assert escape_cell("a|b `c` *d*\nnext") == r"a\|b \`c\` \*d\* next"
    assert code_cell("a|b") == r"`a\|b`"
    assert code_cell("x `y` z") == r"``x `y` z``"
    assert code_cell("`edge`") == r"`` `edge` ``"


def test_evidence_is_fenced_and_collapsed(sample_result: RunResult) -> None:
    text = render_markdown(sample_result)
    assert "<details><summary>❌ <code>n_plus_one/GET /api/coocook/chefs/queries</code>" in text
    assert "```sql\nSELECT chefs.id, chefs.name FROM chefs WHERE chefs.user_id = ?\n" in text
    assert "```text\nSCAN bookings\nUSE TEMP B-TREE FOR ORDER BY\n```" in text
    assert text.count("<details>") == text.count("</details>")


def test_evidence_with_backticks_gets_a_longer_fence(
    build_result: Callable[..., RunResult],
) -> None:
    sql = "SELECT 1 -- ```not a fence```"
    current = Measurement(
        "n/s/queries", 2, "queries", Direction.LOWER, evidence=(Evidence("sql", sql),)
    )
    verdict = Verdict("n/s/queries", Outcome.REGRESSION, Mode.EXACT, "grew", current=current)
    text = render_markdown(build_result([verdict]))
    assert f"````sql\n{sql}\n````" in text


def test_footer_names_commit_baseline_and_environment(sample_result: RunResult) -> None:
    footer = render_markdown(sample_result).rstrip().splitlines()[-1]
    assert "`3f2a9c1d0b7e`" in footer
    assert "`baselines/default.json`" in footer
    assert "python 3.11.7" in footer


def _many(count: int, outcome: Outcome, evidence_chars: int = 0) -> list[Verdict]:
    evidence = (Evidence("sql", "SELECT 1\n" * (evidence_chars // 9)),) if evidence_chars else ()
    verdicts = []
    for i in range(count):
        name = f"n_plus_one/GET /api/items/{i}|`{i}`/queries"
        current = Measurement(name, 5, "queries", Direction.LOWER, evidence=evidence)
        baseline = Measurement(name, 4, "queries", Direction.LOWER)
        verdicts.append(
            Verdict(name, outcome, Mode.EXACT, "grew from 4 to 5", current, baseline, change=0.25)
        )
    return verdicts


def test_5000_passing_verdicts_stay_under_the_limit(build_result: Callable[..., RunResult]) -> None:
    text = render_markdown(build_result(_many(5000, Outcome.PASS)))
    assert len(text) <= MAX_CHARS < GITHUB_COMMENT_LIMIT
    assert len(text.encode("utf-16-le")) // 2 < GITHUB_COMMENT_LIMIT
    assert "Table truncated:" in text
    assert text.rstrip().endswith("</sub>")
    assert text.count("<details>") == text.count("</details>")


def test_5000_failing_verdicts_with_evidence_stay_under_the_limit(
    build_result: Callable[..., RunResult],
) -> None:
    text = render_markdown(build_result(_many(5000, Outcome.REGRESSION, evidence_chars=10_000)))
    assert len(text) <= MAX_CHARS
    assert "more not shown here" in text
    assert "more verdicts is in the full results" in text
    assert "Table truncated:" in text
    assert "more characters)" in text  # each piece of evidence is capped
    assert text.count("<details>") == text.count("</details>")
    assert text.count("```") % 2 == 0


def test_all_passed(passing_result: RunResult) -> None:
    text = render_markdown(passing_result)
    assert "## ✅ perfci: PASSED" in text
    assert "### Evidence" not in text


def test_huge_rule_lists_and_footers_stay_under_the_limit(
    build_result: Callable[..., RunResult],
) -> None:
    result = build_result(
        _many(100, Outcome.PASS),
        exit_code=2,
        environment={f"key{i}": "v" * 1000 for i in range(200)},
    )
    result = replace(
        result, judgement=Judgement(result.verdicts, tuple(f"rule {i}" for i in range(10_000)))
    )
    text = render_markdown(result)
    assert len(text) <= MAX_CHARS
    assert "- … and 9950 more" in text
