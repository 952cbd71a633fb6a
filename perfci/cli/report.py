"""``perfci report --html PATH``: the HTML report of a recorded run and the runs before it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from perfci.cli.history import open_store, store_options
from perfci.cli.options import CONTEXT_SETTINGS
from perfci.config.load import find_config, read_config
from perfci.errors import ConfigError
from perfci.history.record import REPORT_RUNS
from perfci.history.store import HistoryError
from perfci.reporters import write_report
from perfci.reporters.html.page import render_html


@click.command("report", context_settings=CONTEXT_SETTINGS)
@click.option(
    "--html",
    "html_path",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Write the self-contained HTML report here.",
)
@store_options
@click.option("--suite", help="Suite to report (default: suite in perfci.yaml, else the newest).")
@click.option("--run", "run_id", type=int, help="Report this run id (default: the newest).")
@click.option(
    "--runs",
    type=click.IntRange(min=1),
    default=REPORT_RUNS,
    show_default=True,
    help="How many runs the trend charts show.",
)
def report(
    html_path: Path,
    config_path: Path | None,
    history_url: str | None,
    suite: str | None,
    run_id: int | None,
    runs: int,
) -> int:
    """Write the HTML report of the newest recorded run (or --run ID) with its trends.

    \b
    Example (in a workflow, after `perfci history import history.json`):
      perfci report --html perfci-report.html
    """
    suite = suite or _configured_suite(config_path, history_url)
    with open_store(config_path, history_url) as store:
        if run_id is not None:
            target = store.get(run_id)
            suite = target.result.suite
        history = store.history(suite=suite, limit=None if run_id is not None else runs)
        if run_id is not None:
            ids = [r.id for r in history]
            history = history[: ids.index(run_id) + 1][-runs:] if run_id in ids else [target]
        if not history:
            where = f" of suite {suite}" if suite else ""
            raise HistoryError(f"history store {store.display}: no runs{where} to report")
    generated = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    write_report(html_path, render_html([r.result for r in history], generated_at=generated))
    click.echo(f"perfci: wrote the HTML report of {len(history)} run(s) to {html_path}")
    return 0


def _configured_suite(config_path: Path | None, history_url: str | None) -> str | None:
    """The suite named in perfci.yaml; None without one (with --history, any suite will do)."""
    try:
        path = config_path or find_config()
    except ConfigError:
        if history_url:
            return None
        raise
    model, _ = read_config(path)
    return model.suite
