"""``perfci run``: measure the target and gate it (stored baseline or ``--against REF``)."""

from __future__ import annotations

import datetime as dt
from contextlib import AbstractContextManager
from pathlib import Path

import click

from perfci.abtest import against_ref
from perfci.baseline import baseline_path
from perfci.cli.options import (
    CONTEXT_SETTINGS,
    baselines_option,
    config_option,
    echo,
    open_project,
    outputs,
    report_options,
    verbose_option,
)
from perfci.cli.options import baselines_dir as baselines_dir_of
from perfci.cli.options import progress as progress_lines
from perfci.cli.upload import remote_baseline, run_uploader
from perfci.errors import UsageError
from perfci.gate import Gate, Measurer, finish, run_gate, stored_baseline
from perfci.history.record import configured_url
from perfci.safetext import for_terminal


@click.command(context_settings=CONTEXT_SETTINGS)
@verbose_option
@config_option
@baselines_option
@click.option("--only", multiple=True, metavar="CHECK", help="Run only this check (repeatable).")
@click.option(
    "--quick", is_flag=True, help="Run only the deterministic checks: no timing, no load."
)
@report_options
@click.option(
    "--html",
    "html_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the self-contained HTML report (verdicts, evidence, trend charts).",
)
@click.option(
    "--github",
    "to_github",
    is_flag=True,
    help="Publish to GitHub at the end (status, PR comment, summary, annotations); "
    "see `perfci github publish`.",
)
@click.option(
    "--against",
    metavar="REF",
    help="Gate against REF (branch, tag, commit or 'merge-base') measured in this same run, "
    "interleaved with the working tree, instead of the stored baseline.",
)
@click.option(
    "--rounds",
    type=click.IntRange(1, 50),
    help="With --against: interleaved rounds of the timing checks (default: timing.rounds, 3).",
)
@click.option(
    "--upload",
    "to_server",
    is_flag=True,
    help="Upload the judged run to the perfci server (section `server`); a failed upload "
    "is one warning and changes nothing.",
)
@click.option(
    "--baseline-from",
    type=click.Choice(["file", "server"]),
    help="Compare with the baseline file (default) or with the newest passing run of "
    "baselines.branch on the perfci server (default: baselines.from).",
)
def run(
    verbose: bool,
    config_path: Path | None,
    baselines_dir: Path | None,
    only: tuple[str, ...],
    quick: bool,
    json_path: Path | None,
    markdown_path: Path | None,
    junit_path: Path | None,
    html_path: Path | None,
    to_github: bool,
    against: str | None,
    rounds: int | None,
    to_server: bool,
    baseline_from: str | None,
) -> int:
    """Measure the target and gate it against the stored baseline (or a git ref).

    Deterministic metrics (statements, plans, pool settings, cache hits,
    bytes) are compared exactly; timing metrics need both the effect size
    and statistical significance, and are reported as "too noisy to judge"
    when the machine's noise hides a change of the threshold's size.

    \b
    Examples:
      perfci run --only n_plus_one --only indexes --junit perfci.xml
      perfci run --against merge-base      # base and head interleaved, no baseline file
      perfci run --against origin/main --rounds 5 --markdown report.md
      perfci run --baseline-from server --upload   # the team's perfci server
    """
    if against is not None and baseline_from is not None:
        raise UsageError("--baseline-from and --against exclude each other")
    config, host = open_project(config_path)
    gate = Gate.plan(config, host, only=only, quick=quick)
    selection = gate.selection
    progress = progress_lines()
    started_at = dt.datetime.now(dt.UTC)
    measurer: AbstractContextManager[Measurer]
    if against is not None:
        checks = host.checks()
        measurer = against_ref(
            config,
            [name for name in selection.run if checks[name].deterministic],
            against,
            rounds=rounds,
            progress=progress,
            relay=lambda line: click.echo(f"perfci {for_terminal(line)}", err=True),
        )
    elif (baseline_from or config.model.baselines.from_) == "server":
        measurer = stored_baseline(gate, remote_baseline(config), progress=progress)
    else:
        path = baseline_path(baselines_dir_of(config, baselines_dir), config.model.suite)
        measurer = stored_baseline(gate, path, progress=progress)
    with measurer as source:
        result = run_gate(gate, source, started_at=started_at, progress=progress)
    return finish(
        result,
        outputs(
            json_path,
            markdown_path,
            junit_path,
            html_path=html_path,
            github=to_github,
            history_url=configured_url(config.model, config.path.resolve().parent),
            upload=run_uploader(config) if to_server else None,
            verbose=verbose,
        ),
        host,
        echo,
    )
