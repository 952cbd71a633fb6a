"""``perfci baseline update|show``: create or inspect the stored baseline."""

from __future__ import annotations

from pathlib import Path

import click

from perfci.baseline import baseline_path, load_baseline
from perfci.cli.options import CONTEXT_SETTINGS, baselines_option, config_option, open_project
from perfci.cli.options import baselines_dir as baselines_dir_of
from perfci.cli.options import progress as progress_lines
from perfci.gate import update_baseline
from perfci.project import read_project
from perfci.runner import select_checks


@click.group(context_settings=CONTEXT_SETTINGS)
def baseline() -> None:
    """Create or inspect the stored baseline (baselines/<suite>.json)."""


@baseline.command("update", context_settings=CONTEXT_SETTINGS)
@config_option
@baselines_option
@click.option(
    "--only",
    multiple=True,
    metavar="CHECK",
    help="Measure only this check; the others keep their stored values.",
)
@click.option("--quick", is_flag=True, help="Measure only the deterministic checks.")
def baseline_update(
    config_path: Path | None, baselines_dir: Path | None, only: tuple[str, ...], quick: bool
) -> int:
    """Measure the target and write its baseline atomically.

    With --only or --quick the stored measurements of the checks not run are
    kept, so a partial update never drops metrics.
    """
    config, host = open_project(config_path)
    path = baseline_path(baselines_dir_of(config, baselines_dir), config.model.suite)
    selection = select_checks(config, host.checks(), only=only, quick=quick)
    new = update_baseline(config, host, selection, path, progress=progress_lines())
    click.echo(f"perfci: wrote {len(new.measurements)} measurements to {path}")
    return 0


@baseline.command("show", context_settings=CONTEXT_SETTINGS)
@config_option
@baselines_option
def baseline_show(config_path: Path | None, baselines_dir: Path | None) -> int:
    """Print the stored baseline: commit, environment and every measurement."""
    config = read_project(config_path)
    assert config is not None  # required: a missing perfci.yaml raised
    stored = load_baseline(
        baseline_path(baselines_dir_of(config, baselines_dir), config.model.suite)
    )
    click.echo(f"suite {stored.suite}  commit {stored.commit or '?'}  created {stored.created_at}")
    click.echo(
        "environment " + ", ".join(f"{k}={v}" for k, v in sorted(stored.environment.items()))
    )
    for m in stored.measurements:
        click.echo(
            f"  {m.name}  {m.value} {m.unit}  ({m.kind.value}, {m.direction.value} is better)"
        )
    return 0
