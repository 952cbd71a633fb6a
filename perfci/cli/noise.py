"""``perfci noise``: how much each timing metric moves between identical runs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from perfci.cli.options import CONTEXT_SETTINGS, config_option, open_project
from perfci.cli.options import progress as progress_lines
from perfci.errors import ConfigError
from perfci.measurement import Measurement
from perfci.noise import noise_rows, render_noise
from perfci.runner import MeasureSession, build_rules, select_checks


@click.command(context_settings=CONTEXT_SETTINGS)
@config_option
@click.option(
    "--repeat",
    type=click.IntRange(2, 100),
    default=5,
    show_default=True,
    help="How many times to run the timing checks.",
)
@click.option(
    "--only", multiple=True, metavar="CHECK", help="Measure only this check (repeatable)."
)
def noise(config_path: Path | None, repeat: int, only: tuple[str, ...]) -> int:
    """Measure how much the timing metrics move between identical runs.

    Runs the timing checks REPEAT times on one built target and prints, per
    metric, the coefficient of variation and the smallest change a gate can
    detect at that noise. A metric whose detectable change is above its
    threshold is reported "too noisy to judge" by `perfci run` unless its
    threshold rule says strict: true. Exit 0 whatever the noise.
    """
    config, host = open_project(config_path)
    checks = host.checks()
    selection = select_checks(config, checks, only=only)
    timing = [name for name in selection.run if not checks[name].deterministic]
    if not timing:
        raise ConfigError("perfci noise: no timing check selected (latency, load, ...)")
    rules = build_rules(config, today=dt.date.today(), skipped=selection.skipped)
    progress = progress_lines()
    repeats: list[list[Measurement]] = []
    with MeasureSession(config, host, progress=progress) as session:
        for index in range(repeat):
            progress(f"repeat {index + 1}/{repeat}")
            repeats.append(session.collect(timing))
    click.echo(render_noise(noise_rows(repeats, rules), repeat), nl=False)
    return 0
