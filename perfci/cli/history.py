"""``perfci history``: list, prune, export and import recorded runs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from perfci.cli.options import CONTEXT_SETTINGS, config_option
from perfci.history.jsonio import export_history, import_history
from perfci.history.listing import render_runs
from perfci.history.store import HistoryStore, resolve_url
from perfci.project import read_project


def open_store(config_path: Path | None, url: str | None) -> HistoryStore:
    """The store named by ``--history``, else by perfci.yaml (found as ``perfci run`` finds it)."""
    if url:
        return HistoryStore(resolve_url(url, Path.cwd()))
    config = read_project(config_path)
    assert config is not None  # required: a missing perfci.yaml raised
    return HistoryStore(resolve_url(config.model.history.url, config.root))


def store_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--history URL`` and ``--config PATH``: which store."""
    func = click.option(
        "--history",
        "history_url",
        metavar="URL",
        help="SQLAlchemy URL of the store (default: history.url in perfci.yaml).",
    )(func)
    return config_option(func)


@click.group("history", context_settings=CONTEXT_SETTINGS, invoke_without_command=True)
@store_options
@click.pass_context
def history(ctx: click.Context, config_path: Path | None, history_url: str | None) -> int:
    """List the recorded runs (newest first); see the subcommands to trim or move them.

    \b
    Examples:
      perfci history                         the last 20 runs
      perfci history prune --keep 100        keep the newest 100 runs of each suite
      perfci history export history.json     carry the history as a CI artifact
      perfci history import history.json     and bring it back in the next run
    """
    ctx.obj = {"config_path": config_path, "history_url": history_url}
    if ctx.invoked_subcommand is None:
        return int(ctx.invoke(list_runs) or 0)
    return 0


def _store(config_path: Path | None, history_url: str | None) -> HistoryStore:
    """Options given after the subcommand win over those given after ``history``."""
    group = click.get_current_context().obj or {}
    return open_store(
        config_path or group.get("config_path"), history_url or group.get("history_url")
    )


@history.command("list", context_settings=CONTEXT_SETTINGS)
@store_options
@click.option("--suite", help="Only this suite.")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
def list_runs(
    config_path: Path | None = None,
    history_url: str | None = None,
    suite: str | None = None,
    limit: int = 20,
) -> int:
    """List the recorded runs, newest first."""
    with _store(config_path, history_url) as store:
        text = render_runs(store.runs(suite=suite, limit=limit), store.display)
    click.echo(text, nl=False)
    return 0


@history.command("prune", context_settings=CONTEXT_SETTINGS)
@store_options
@click.option(
    "--keep",
    type=click.IntRange(min=0),
    required=True,
    metavar="N",
    help="Runs to keep per suite (the newest).",
)
@click.option("--suite", help="Prune only this suite.")
def prune(config_path: Path | None, history_url: str | None, keep: int, suite: str | None) -> int:
    """Delete all but the newest N runs of each suite."""
    with _store(config_path, history_url) as store:
        removed = store.prune(keep, suite=suite)
        click.echo(f"perfci: removed {removed} run(s) from {store.display}, kept the newest {keep}")
    return 0


@history.command("export", context_settings=CONTEXT_SETTINGS)
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@store_options
@click.option("--suite", help="Export only this suite.")
def export(path: Path, config_path: Path | None, history_url: str | None, suite: str | None) -> int:
    """Write every recorded run to a JSON file (e.g. a workflow artifact)."""
    with _store(config_path, history_url) as store:
        count = export_history(store, path, suite=suite)
    click.echo(f"perfci: exported {count} run(s) to {path}")
    return 0


@history.command("import", context_settings=CONTEXT_SETTINGS)
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@store_options
def import_(path: Path, config_path: Path | None, history_url: str | None) -> int:
    """Add the runs of an exported JSON file that the store does not have yet."""
    with _store(config_path, history_url) as store:
        added, present = import_history(store, path)
        click.echo(
            f"perfci: imported {added} run(s) into {store.display} ({present} already there)"
        )
    return 0
