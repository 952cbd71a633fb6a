"""The Markdown report: the sticky PR comment and the Actions job summary.

GitHub refuses comments over 65,536 characters, so the report is built within
``MAX_CHARS``: the headline, the noteworthy verdicts and their evidence come
first, and the collapsed table of every verdict is cut short (with a note) when
it would not fit.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from perfci.measurement import Evidence
from perfci.reporters import format as fmt
from perfci.result import RunResult
from perfci.verdict.model import Outcome, Verdict

MARKDOWN_MARKER = "<!-- perfci-report -->"
"""First line of every report: how a publisher finds its own sticky comment again."""

# GitHub's limit is 65,536 characters; keep a margin because it may count
# characters differently from Python (emoji, CRLF) and a publisher may add a line.
MAX_CHARS = 60_000

MAX_NOTEWORTHY_ROWS = 100
MAX_EVIDENCE_BLOCKS = 25
MAX_EVIDENCE_CHARS = 4_000  # per piece of evidence
MAX_CELL_CHARS = 300
MAX_LIST_ITEMS = 50

_ICON: dict[Outcome, str] = {
    Outcome.REGRESSION: "❌",
    Outcome.BUDGET: "❌",
    Outcome.MISSING: "❌",
    Outcome.NOISY: "⚠️",
    Outcome.ACKNOWLEDGED: "🔕",
    Outcome.NEW: "🆕",
    Outcome.IMPROVEMENT: "✅",
    Outcome.PASS: "✅",
}
_STATUS_ICON = {"PASSED": "✅", "FAILED": "❌", "ERROR": "💥"}
_FENCE_LANGUAGE = {"sql": "sql", "plan": "text"}
_CAPTION = {"sql": "SQL", "plan": "Query plan"}
_HEADER = "| Metric | Baseline | Current | Change | Verdict | Mode |\n|---|--:|--:|--:|---|---|\n"
# Everything from a results file is untrusted (a fork's run produced it). Markdown
# punctuation is backslash-escaped ("://" and "www." too, so no autolink forms), "@" gets a
# zero-width space (no mention, no e-mail link), and text never opens raw HTML.
_CELL_SPECIALS = re.compile(r"([\\`*_\[\]<>|~#&!$])")
# A list item ("- x", "1. x") or a setext underline ("===") when the text starts a line.
_LINE_START = re.compile(r"^(\d{0,9})([-+.)=])(?=[ =]|$)")
_AT = "@\u200b"


def render_markdown(result: RunResult) -> str:
    """GitHub-flavoured Markdown for a PR comment or job summary, at most ``MAX_CHARS`` long."""
    verdicts = fmt.ordered(result.verdicts)
    noteworthy = [v for v in verdicts if v.outcome is not Outcome.PASS]
    head = _headline(result)
    foot = _footer(result)
    room = MAX_CHARS - len(head) - len(foot)

    body: list[str] = []
    if result.error is not None:
        body.append(f"**Not judged** (exit {result.exit_code}): {escape_cell(result.error)}\n")
    if result.judgement.unmatched_rules:
        body.append(_unmatched(result.judgement.unmatched_rules))
    if noteworthy:
        body.append(_noteworthy_table(noteworthy, room // 3))
    elif verdicts:
        body.append(f"All {len(verdicts)} verdicts passed.\n")
    detailed = [v for v in noteworthy if v.outcome in fmt.DETAILED]
    if detailed:
        body.append(_evidence(detailed, room // 3))
    if verdicts:
        used = sum(len(part) + 1 for part in body)  # + 1: the newline joining the parts
        body.append(_full_table(verdicts, room - used))
    text = head + "\n".join(body) + foot
    if len(text) > MAX_CHARS:  # only if the headline or footer alone is enormous
        text = text[: MAX_CHARS - 100] + "\n\n_Report truncated at the comment size limit._\n"
    return text


def escape_cell(text: str) -> str:
    """Plain text made inert for one line or table cell of GitHub Markdown.

    No markup, HTML, link, image, autolink or @mention survives: what the
    comment shows is the text itself (see docs/github-actions.md).
    """
    text = " ".join(text.split())
    if len(text) > MAX_CELL_CHARS:
        text = text[: MAX_CELL_CHARS - 1] + "…"
    text = _CELL_SPECIALS.sub(r"\\\1", text)
    text = _LINE_START.sub(r"\1\\\2", text)
    text = text.replace("://", ":\\/\\/").replace("www.", "www\\.")
    return text.replace("@", _AT)


def _inert_html(text: str) -> str:
    """Text for inside an HTML element (``<summary>``): one line, escaped, no mention."""
    return html.escape(" ".join(text.split())).replace("@", _AT)


def code_cell(text: str) -> str:
    """Text as an inline code span that survives a table cell (pipes and backticks included)."""
    # In a GFM table "\|" is a literal pipe even inside a code span.
    return code_span(text).replace("|", "\\|")


def code_span(text: str) -> str:
    """Text as an inline code span, whatever backticks it contains (outside tables)."""
    text = " ".join(text.split())
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _headline(result: RunResult) -> str:
    status = fmt.status(result)
    return (
        f"{MARKDOWN_MARKER}\n"
        f"## {_STATUS_ICON[status]} perfci: {status}\n\n"
        f"**{escape_cell(fmt.tally(result))}** · exit {result.exit_code}"
        f" · suite {code_span(result.suite)} · {len(result.verdicts)} verdicts\n\n"
    )


def _unmatched(rules: Sequence[str]) -> str:
    items = "".join(f"- {escape_cell(rule)}\n" for rule in rules[:MAX_LIST_ITEMS])
    if len(rules) > MAX_LIST_ITEMS:
        items += f"- … and {len(rules) - MAX_LIST_ITEMS} more\n"
    return f"**Rules that matched no measurement** (a configuration error):\n\n{items}"


def _row(verdict: Verdict) -> str:
    cells = [
        code_cell(verdict.name),
        escape_cell(fmt.measured(verdict.baseline)),
        escape_cell(fmt.measured(verdict.current)),
        escape_cell(fmt.change(verdict)),
        f"{_ICON[verdict.outcome]} {escape_cell(fmt.word(verdict.outcome))}",
        escape_cell(verdict.mode.value),
    ]
    return "| " + " | ".join(cells) + " |\n"


def _rows(verdicts: list[Verdict], room: int, limit: int) -> tuple[str, int]:
    """As many rows as fit in ``room`` characters (and ``limit`` rows); returns (text, count)."""
    out: list[str] = []
    used = 0
    for verdict in verdicts[:limit]:
        row = _row(verdict)
        if used + len(row) > room:
            break
        out.append(row)
        used += len(row)
    return "".join(out), len(out)


def _noteworthy_table(verdicts: list[Verdict], room: int) -> str:
    rows, shown = _rows(verdicts, room - 200, MAX_NOTEWORTHY_ROWS)
    text = f"### Noteworthy verdicts ({len(verdicts)})\n\n{_HEADER}{rows}"
    if shown < len(verdicts):
        text += f"\n_{len(verdicts) - shown} more not shown here; see the full results._\n"
    return text


def _evidence(verdicts: list[Verdict], room: int) -> str:
    blocks: list[str] = []
    used = 0
    for verdict in verdicts[:MAX_EVIDENCE_BLOCKS]:
        block = _evidence_block(verdict)
        if used + len(block) + 1 > room - 200:
            continue  # a smaller block further down may still fit
        blocks.append(block)
        used += len(block) + 1
    text = "### Evidence\n\n" + "\n".join(blocks)
    if len(blocks) < len(verdicts):
        left = len(verdicts) - len(blocks)
        text += f"\n_Evidence for {left} more verdicts is in the full results._\n"
    return text


def _evidence_block(verdict: Verdict) -> str:
    summary = (
        f"{_ICON[verdict.outcome]} <code>{_inert_html(verdict.name)}</code>"
        f" — {_inert_html(fmt.word(verdict.outcome))}"
    )
    parts = [f"<details><summary>{summary}</summary>\n\n{escape_cell(verdict.reason)}\n"]
    facts = fmt.details(verdict)
    if facts:
        parts.append("".join(f"- {name}: {escape_cell(value)}\n" for name, value in facts))
    evidence = verdict.current.evidence if verdict.current else ()
    if not evidence and verdict.baseline is not None:
        evidence = verdict.baseline.evidence
    parts.extend(_evidence_item(item) for item in evidence)
    return "\n".join(parts) + "\n</details>\n"


def _evidence_item(item: Evidence) -> str:
    text = item.text.rstrip("\n")
    if len(text) > MAX_EVIDENCE_CHARS:
        cut = text[:MAX_EVIDENCE_CHARS].rsplit("\n", 1)[0]
        text = f"{cut}\n… ({len(text) - len(cut)} more characters)"
    if item.label == "note":
        return f"> {escape_cell(text)}\n"
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    language = _FENCE_LANGUAGE.get(item.label, "")
    caption = escape_cell(_CAPTION.get(item.label, item.label.capitalize())) + ":\n\n"
    return f"{caption}{fence}{language}\n{text}\n{fence}\n"


def _full_table(verdicts: list[Verdict], room: int) -> str:
    opening = f"<details><summary>All {len(verdicts)} verdicts</summary>\n\n"
    closing = "</details>\n"
    note_room = 200
    fixed = len(opening) + len(_HEADER) + len("\n") + len(closing) + note_room
    rows, shown = _rows(verdicts, room - fixed, len(verdicts))
    text = opening + _HEADER + rows
    if shown < len(verdicts):
        text += (
            f"\n_Table truncated: {len(verdicts) - shown} of {len(verdicts)} verdicts not shown"
            " (comment size limit); the JSON results and JUnit report have them all._\n"
        )
    return text + "\n" + closing


def _footer(result: RunResult) -> str:
    facts = [
        f"started {escape_cell(result.started_at)}",
        f"took {fmt.quantity(result.duration_s, 's')}",
    ]
    if result.commit:
        facts.insert(0, f"commit {code_span(result.commit)}")
    if result.branch:
        facts.insert(1 if result.commit else 0, f"branch {code_span(result.branch)}")
    facts.append(
        f"baseline {code_span(result.baseline_path)}" if result.baseline_path else "no baseline"
    )
    if result.skipped_checks:
        facts.append("skipped checks: " + ", ".join(map(code_span, result.skipped_checks)))
    environment = " · ".join(
        f"{escape_cell(key)} {escape_cell(value)}" for key, value in result.environment.items()
    )
    text = "\n---\n<sub>" + " · ".join(facts)
    if environment:
        text += f"<br>{environment}"
    return text + "</sub>\n"
