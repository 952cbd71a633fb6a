"""``perfci plugins``: every registered plugin with its source, version and checks."""

from __future__ import annotations

from pathlib import Path

import click

from perfci.cli.options import CONTEXT_SETTINGS, config_option
from perfci.project import load_plugins, read_project
from perfci.safetext import for_terminal


@click.command(context_settings=CONTEXT_SETTINGS)
@config_option
def plugins(config_path: Path | None) -> int:
    """List every registered plugin with its source, version and checks (and what each measures).

    Built-ins, plugins installed through the `perfci` entry-point group, and
    the local plugin directories perfci.yaml lists under plugins.paths.
    """
    config = read_project(config_path, required=False)
    host = load_plugins(config.model, config.path) if config else load_plugins(None, None)
    described = host.checks()
    for info in host.plugins():
        checks = ", ".join(info.checks) or "-"
        line = f"{info.name:<20} {info.source:<12} {info.version:<10} checks: {checks}"
        click.echo(for_terminal(f"{line}  ({info.location})"))
        for name in info.checks:
            if name in described and described[name].description:
                click.echo(for_terminal(f"  {name}: {described[name].description}"))
    return 0
