"""``perfci compare BASE HEAD``: judge two results (or baseline) files, nothing measured."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from perfci.cli.options import (
    CONTEXT_SETTINGS,
    config_option,
    echo,
    outputs,
    report_options,
    verbose_option,
)
from perfci.gate import compare_files, finish
from perfci.plugin.manager import PluginHost
from perfci.project import read_project
from perfci.runner import build_rules
from perfci.verdict.model import Rules


@click.command(context_settings=CONTEXT_SETTINGS)
@click.argument("base", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("head", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@config_option
@report_options
@verbose_option
def compare(
    verbose: bool,
    base: Path,
    head: Path,
    config_path: Path | None,
    json_path: Path | None,
    markdown_path: Path | None,
    junit_path: Path | None,
) -> int:
    """Judge HEAD against BASE: two results files (`perfci run --json`) or baselines.

    Thresholds, budgets and acknowledgements come from perfci.yaml when one is
    found; otherwise the default 10% threshold applies. Rules about checks
    that neither file measured (a `--quick` run's latency budgets) are
    excused, as `perfci run` excuses them.

    \b
    Example:
      perfci compare main-results.json pr-results.json --markdown comment.md
    """
    config = read_project(config_path, required=False)
    if config is not None:
        rules = build_rules(config, today=dt.date.today())
        suite, configured = config.model.suite, tuple(config.model.checks)
    else:
        rules, suite, configured = Rules(today=dt.date.today()), "compare", ()
    result = compare_files(base, head, rules, suite=suite, configured=configured)
    report_to = outputs(json_path, markdown_path, junit_path, verbose=verbose)
    return finish(result, report_to, PluginHost(), echo)
