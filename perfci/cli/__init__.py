"""The ``perfci`` command line: ``main``, signals, and the command group.

One module per command beside this one (``run``, ``compare``, ``noise``,
``baseline``, ``plugins``); what they share is in ``options``. Commands
parse options, call the gate pipeline (``perfci.gate``) and print: the CLI
is the only layer that prints.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Sequence
from types import FrameType
from typing import NoReturn

import click

from perfci import __version__
from perfci.cli.baseline import baseline
from perfci.cli.compare import compare
from perfci.cli.github import github
from perfci.cli.history import history
from perfci.cli.noise import noise
from perfci.cli.options import CONTEXT_SETTINGS
from perfci.cli.plugins import plugins
from perfci.cli.report import report
from perfci.cli.run import run
from perfci.errors import ExitCode, PerfciError


class Interrupted(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so every ``finally`` (server stop) runs."""


def _on_sigterm(_signum: int, _frame: FrameType | None) -> None:
    raise Interrupted()


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """Entry point: one line per user error, the documented exit code, no traceback."""
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        code = cli.main(
            args=list(argv) if argv is not None else None, prog_name="perfci", standalone_mode=False
        )
    except PerfciError as error:
        click.echo(f"perfci: {error}", err=True)
        sys.exit(int(error.exit_code))
    except (click.exceptions.Abort, KeyboardInterrupt) as stop:
        # click turns Ctrl-C into Abort; our SIGTERM handler raises Interrupted under it.
        terminated = isinstance(stop, Interrupted) or isinstance(stop.__context__, Interrupted)
        cause = "terminated (SIGTERM)" if terminated else "interrupted"
        click.echo(f"perfci: {cause}; the target server and workers were stopped", err=True)
        sys.exit(143 if terminated else 130)
    except click.ClickException as error:
        error.show()
        sys.exit(ExitCode.USAGE)
    sys.exit(code if isinstance(code, int) else 0)


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
      perfci run                      gate this commit against baselines/
      perfci run --quick              deterministic checks only (seconds)
      perfci baseline update          measure and store a new baseline
      perfci compare base.json head.json

    \b
    Exit codes: 0 pass, 1 regression or budget violation, 2 usage or
    configuration error, 3 target failed to start or a check crashed,
    4 publishing results failed, 130/143 interrupted.
    """


for command in (run, compare, noise, baseline, plugins, github, history, report):
    cli.add_command(command)
