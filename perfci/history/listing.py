"""``perfci history`` as text: one line per run, newest first."""

from __future__ import annotations

from collections.abc import Sequence

from perfci.history.store import RunSummary
from perfci.reporters import format as fmt
from perfci.verdict.model import Outcome

_STATUS = {0: "PASSED", 1: "FAILED"}
_ORDER = list(Outcome)


def render_runs(runs: Sequence[RunSummary], store: str) -> str:
    """A table of runs, or a sentence saying the store is empty."""
    if not runs:
        return f"no runs recorded in {store}\n"
    rows = [("id", "started", "suite", "commit", "branch", "status", "verdicts")]
    for run in runs:
        rows.append(
            (
                str(run.id),
                run.started_at.replace("T", " ")[:19],
                run.suite,
                (run.commit or fmt.DASH)[:10],
                run.branch or fmt.DASH,
                _STATUS.get(run.exit_code, "ERROR"),
                tally(run),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    lines = [
        "  ".join([*(cell.ljust(width) for cell, width in zip(row, widths, strict=False)), row[-1]])
        for row in rows
    ]
    return "\n".join(line.rstrip() for line in lines) + "\n"


def tally(run: RunSummary) -> str:
    """The verdict counts, failures first: "2 REGRESSION, 40 pass"."""
    ordered = sorted(run.counts, key=lambda o: (not o.fails, _ORDER.index(o)))
    return ", ".join(f"{run.counts[o]} {fmt.word(o)}" for o in ordered) or "no verdicts"
