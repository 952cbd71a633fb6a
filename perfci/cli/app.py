"""The ``perfci`` command group and its commands (imported by ``perfci.cli.main``)."""

from __future__ import annotations

import click

from perfci import __version__
from perfci.cli.baseline import baseline
from perfci.cli.compare import compare
from perfci.cli.github import github
from perfci.cli.history import history
from perfci.cli.init import init
from perfci.cli.noise import noise
from perfci.cli.options import CONTEXT_SETTINGS
from perfci.cli.plugins import plugins
from perfci.cli.report import report
from perfci.cli.run import run
from perfci.cli.server import server
from perfci.cli.upload import upload_command


@click.group(context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, "--version", prog_name="perfci")
def cli() -> None:
    """perfci: fail the build when a Flask + SQLAlchemy service gets slower.

    perfci reads perfci.yaml, runs check plugins against the target app
    (queries per request, N+1 shapes, query plans, pool settings, cache hits,
    payload bytes, latency, load), compares each measurement with the stored
    baseline and fails when one is more than 10% worse.

    \b
    Typical use:
      perfci init                     a starter perfci.yaml for the app here
      perfci run                      gate this commit against baselines/
      perfci run --quick              deterministic checks only (seconds)
      perfci baseline update          measure and store a new baseline
      perfci compare base.json head.json

    \b
    Exit codes: 0 pass, 1 regression or budget violation, 2 usage or
    configuration error, 3 target failed to start or a check crashed,
    4 publishing results failed, 130/143 interrupted.
    """


for command in (
    init,
    run,
    compare,
    noise,
    baseline,
    plugins,
    github,
    history,
    report,
    upload_command,
    server,
):
    cli.add_command(command)
