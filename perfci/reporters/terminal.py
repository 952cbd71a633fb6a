"""The terminal report: a table of every verdict, the evidence behind failures, a summary line."""

from __future__ import annotations

from io import StringIO

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from perfci.reporters import format as fmt
from perfci.result import RunResult
from perfci.safetext import no_workflow_commands, printable
from perfci.verdict.model import Outcome, Verdict

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
    result: RunResult, *, color: bool, width: int = 120, passes: bool = True
) -> str:
    """Render ``result`` for a terminal; ANSI colour only when ``color`` is true.

    The output does not depend on the environment (``NO_COLOR``, ``COLUMNS``,
    ``TERM``): the caller decides ``color`` and ``width``. With ``passes``
    false, passing verdicts are counted in one line instead of listed.
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
    listed = verdicts if passes else [v for v in verdicts if v.outcome is not Outcome.PASS]
    if listed:
        console.print(_table(listed))
    hidden = len(verdicts) - len(listed)
    if hidden:
        console.print(
            _text(f"{fmt.label(Outcome.PASS)}: {hidden} more (--verbose lists them)", "green")
        )
    for verdict in verdicts:
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
    for name, value in fmt.details(verdict):
        text.append(f"  {printable(name)}: ", style="dim")
        first, *rest = fmt.lines(printable(value))
        text.append(f"{first}\n")
        for line in rest:  # a multi-line note stays inside the verdict's indented block
            text.append(f"    {line}\n")
    evidence = verdict.current.evidence if verdict.current else ()
    if not evidence and verdict.baseline is not None:
        evidence = verdict.baseline.evidence
    for item in evidence:
        text.append(f"  {printable(item.label)}:\n", style="dim")
        for line in fmt.lines(printable(item.text)):
            text.append(f"    {line}\n")
    text.rstrip()
    return text
