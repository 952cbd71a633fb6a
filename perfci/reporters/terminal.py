"""The terminal report: a table of verdicts, the evidence behind failures, a summary line.

By default a passing run stays short: passing verdicts are counted, and the
timings too noisy to judge are summed up in one line that says why and how to
get them judged. ``verbose`` lists every verdict with its evidence (the
JSON, Markdown and HTML reports always carry everything).
"""

from __future__ import annotations

from io import StringIO

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from perfci.measurement import Evidence, parse_counts
from perfci.reporters import format as fmt
from perfci.result import RunResult
from perfci.safetext import no_workflow_commands, printable
from perfci.verdict.model import Outcome, Verdict

#: The verdict engine's note listing evidence lines the baseline did not have; the
#: terminal marks those lines with "+" in the evidence instead of repeating them.
NEWS_NOTE = "new compared with the baseline"

# Outcomes counted instead of listed unless verbose: passes, and timings not judged.
_QUIET = frozenset({Outcome.PASS, Outcome.NOISY})

_STYLE: dict[Outcome, str] = {
    Outcome.REGRESSION: "bold red",
    Outcome.BUDGET: "bold red",
    Outcome.MISSING: "bold red",
    Outcome.NOISY: "yellow",
    Outcome.ACKNOWLEDGED: "magenta",
    Outcome.NEW: "cyan",
    Outcome.IMPROVEMENT: "green",
    Outcome.PASS: "green",
}


def render_terminal(
    result: RunResult, *, color: bool, width: int = 120, verbose: bool = True
) -> str:
    """Render ``result`` for a terminal; ANSI colour only when ``color`` is true.

    The output does not depend on the environment (``NO_COLOR``, ``COLUMNS``,
    ``TERM``): the caller decides ``color`` and ``width``. With ``verbose``
    false, passing verdicts are counted in one line and the timings too noisy
    to judge in another (why, and how to get them judged) instead of listed.
    """
    buffer = StringIO()
    console = Console(
        file=buffer,
        force_terminal=color,
        no_color=not color,
        color_system="standard" if color else None,
        width=width,
        highlight=False,
        markup=False,
        emoji=False,
        legacy_windows=False,
        _environ={},
    )
    verdicts = fmt.ordered(result.verdicts)
    listed = verdicts if verbose else [v for v in verdicts if v.outcome not in _QUIET]
    if listed:
        console.print(_table(listed))
    noisy = [v for v in verdicts if v.outcome is Outcome.NOISY]
    if noisy and not verbose:
        console.print(_text(noisy_summary(noisy), _STYLE[Outcome.NOISY]), soft_wrap=True)
    passed = sum(v.outcome is Outcome.PASS for v in verdicts)
    if passed and not verbose:
        console.print(
            _text(f"{fmt.label(Outcome.PASS)}: {passed} more (--verbose lists them)", "green")
        )
    for verdict in listed:
        if verdict.outcome in fmt.DETAILED:
            console.print(_details(verdict), soft_wrap=True)
    if result.judgement.unmatched_rules:
        console.print(Text("Rules that matched no measurement:", style="bold red"))
        for rule in result.judgement.unmatched_rules:
            console.print(_text(f"  {rule}"), soft_wrap=True)
    style = "bold green" if result.exit_code == 0 else "bold red"
    console.print()
    console.print(_text(fmt.summary(result), style), soft_wrap=True)
    # Rich pads every table cell to the column width; trailing blanks only get in the way.
    text = "".join(line.rstrip() + "\n" for line in buffer.getvalue().splitlines())
    return no_workflow_commands(text)


def noisy_summary(noisy: list[Verdict]) -> str:
    """One line for the timings not judged: how many, why, and how to get them judged."""
    across = sum(v.reason.startswith("not comparable across machines") for v in noisy)
    few = sum(any(n.startswith("only ") and "samples" in n for n in v.notes) for v in noisy)
    why = []
    if across:
        why.append(f"{across} against a baseline from another machine")
    if few:
        why.append(f"{few} with too few samples")
    if len(noisy) - across - few > 0:
        why.append(f"{len(noisy) - across - few} whose samples vary more than the threshold")
    count = f"{len(noisy)} timing{'s' if len(noisy) != 1 else ''}"
    return (
        f"{fmt.label(Outcome.NOISY)}: {count} not judged ({', '.join(why)}); "
        "to judge them: perfci run --against REF (base and head in one run), more samples "
        "(e.g. checks.latency.samples), or strict: true in a thresholds rule; "
        "--verbose and the reports show the evidence"
    )


def _text(text: str, style: str = "") -> Text:
    """Untrusted text (names, SQL, reasons) for rich: control characters removed first."""
    return Text(printable(text), style=style)


def _table(verdicts: list[Verdict]) -> Table:
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("check", no_wrap=True)
    table.add_column("metric", overflow="fold")
    table.add_column("baseline", justify="right", no_wrap=True)
    table.add_column("current", justify="right", no_wrap=True)
    table.add_column("change", justify="right", no_wrap=True)
    table.add_column("verdict", no_wrap=True)
    for verdict in verdicts:
        check, metric = fmt.split_name(verdict.name)
        style = _STYLE[verdict.outcome]
        table.add_row(
            _text(check),
            _text(metric),
            _text(fmt.measured(verdict.baseline)),
            _text(fmt.measured(verdict.current)),
            _text(fmt.change(verdict)),
            _text(fmt.label(verdict.outcome), style),
        )
    return table


def _details(verdict: Verdict) -> Text:
    text = Text()
    text.append("\n")
    text.append(fmt.label(verdict.outcome), style=_STYLE[verdict.outcome])
    text.append(f" {printable(verdict.name)}\n", style="bold")
    text.append(f"  {printable(verdict.reason)}\n")
    evidence = verdict.current.evidence if verdict.current else ()
    # The baseline's lines, to mark the new ones: only when the engine found some.
    seen: dict[str, set[str]] | None = None
    if evidence and verdict.baseline and any(n.startswith(NEWS_NOTE) for n in verdict.notes):
        seen = _baseline_lines(verdict.baseline.evidence)
    elif not evidence and verdict.baseline is not None:
        evidence = verdict.baseline.evidence
    for name, value in fmt.details(verdict):
        if seen is not None and name == "note" and value.startswith(NEWS_NOTE):
            value = f"{NEWS_NOTE}: the lines marked + below"
        text.append(f"  {printable(name)}: ", style="dim")
        first, *rest = fmt.lines(printable(value))
        text.append(f"{first}\n")
        for line in rest:  # a multi-line note stays inside the verdict's indented block
            text.append(f"    {line}\n")
    for item in evidence:
        text.append(f"  {printable(item.label)}:\n", style="dim")
        compared = seen is not None and item.label != "note" and parse_counts(item) is None
        before = seen.get(item.label, set()) if seen is not None else set()
        for line in fmt.lines(printable(item.text)):
            if compared and line.strip() and line.strip() not in before:
                text.append(f"  + {line}\n", style="bold")
            else:
                text.append(f"    {line}\n")
    text.rstrip()
    return text


def _baseline_lines(evidence: tuple[Evidence, ...]) -> dict[str, set[str]]:
    """The baseline's evidence lines per label, stripped, as the verdict engine compares them."""
    lines: dict[str, set[str]] = {}
    for item in evidence:
        stripped = (line.strip() for line in printable(item.text).splitlines())
        lines.setdefault(item.label, set()).update(line for line in stripped if line)
    return lines
