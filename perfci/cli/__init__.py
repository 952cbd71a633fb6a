"""The ``perfci`` command line: ``main`` and its signals.

The command group is ``perfci.cli.app``, one module per command beside it
(``run``, ``compare``, ``noise``, ``baseline``, ``plugins``, ``history``,
``report``, ``github``); what they share is in ``options``. Commands parse
options, call the gate pipeline (``perfci.gate``) and print: the CLI is the
only layer that prints. ``main`` imports the commands itself, so that Ctrl-C
while perfci is still importing is one line too.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Sequence
from types import FrameType
from typing import NoReturn

from perfci.errors import ExitCode, PerfciError


class Interrupted(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so every ``finally`` (server stop) runs."""


def _on_sigterm(_signum: int, _frame: FrameType | None) -> None:
    raise Interrupted()


def _stopped(stop: BaseException) -> NoReturn:
    terminated = isinstance(stop, Interrupted) or isinstance(stop.__context__, Interrupted)
    cause = "terminated (SIGTERM)" if terminated else "interrupted"
    sys.stderr.write(f"perfci: {cause}; everything perfci started was stopped\n")
    sys.exit(143 if terminated else 130)


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """Entry point: one line per user error, the documented exit code, no traceback."""
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        import click

        from perfci.cli.app import cli
    except KeyboardInterrupt as stop:  # Ctrl-C (or SIGTERM) while still importing
        _stopped(stop)
    try:
        code = cli.main(
            args=list(argv) if argv is not None else None, prog_name="perfci", standalone_mode=False
        )
    except PerfciError as error:
        click.echo(f"perfci: {error}", err=True)
        sys.exit(int(error.exit_code))
    except (click.exceptions.Abort, KeyboardInterrupt) as stop:
        # click turns Ctrl-C into Abort; our SIGTERM handler raises Interrupted under it.
        _stopped(stop)
    except click.ClickException as error:
        # One line, like every other user error: the command, the problem, where help is.
        where = error.ctx.command_path if isinstance(error, click.UsageError) and error.ctx else ""
        message = error.format_message().rstrip(".")
        message = message[:1].lower() + message[1:]
        hint = f" (see '{where} --help')" if where else ""
        click.echo(f"{where or 'perfci'}: {message}{hint}", err=True)
        sys.exit(ExitCode.USAGE)
    sys.exit(code if isinstance(code, int) else 0)
