"""The exit codes and the one exception type for errors a user can cause."""

from __future__ import annotations

from enum import IntEnum

from perfci.safetext import no_workflow_commands, one_line


class ExitCode(IntEnum):
    """Documented process exit codes (README "Exit codes")."""

    OK = 0
    REGRESSION = 1  # a regression, a budget violation or a missing metric
    USAGE = 2  # bad YAML, unknown key or check, unreadable baseline, rule matching nothing
    TARGET = 3  # the target could not be started, or a check crashed
    PUBLISH = 4  # the gate ran, but publishing its result (GitHub) failed


class PerfciError(Exception):
    """An error the user can fix: printed as one line, never as a traceback.

    ``where`` is a location such as ``perfci.yaml:14`` or a file path; it is
    printed before the message.
    """

    exit_code: ExitCode = ExitCode.USAGE

    def __init__(self, message: str, *, where: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.where = where

    def __str__(self) -> str:
        """One printable line: a message may quote a path, a value or a server's reply."""
        text = f"{self.where}: {self.message}" if self.where else self.message
        return no_workflow_commands(one_line(text))


class ConfigError(PerfciError):
    """The configuration, a baseline or a results file is wrong."""

    exit_code = ExitCode.USAGE


class UsageError(ConfigError):
    """The command line is wrong: an option's value, a git ref, a check name."""


class TargetError(PerfciError):
    """The target application could not be imported, seeded, started or reached."""

    exit_code = ExitCode.TARGET


class CheckCrashed(PerfciError):
    """A check plugin raised: the run cannot be judged."""

    exit_code = ExitCode.TARGET


class PublishError(PerfciError):
    """Publishing results (status, comment) failed; the gate's own verdict stands."""

    exit_code = ExitCode.PUBLISH


class ReportError(PerfciError):
    """A report file (``--json/--junit/--markdown/--html``) could not be written.

    The gate's own verdict stands and the terminal report still prints; a gate
    that passed exits with ``USAGE`` (the file the user asked for is missing).
    """

    exit_code = ExitCode.USAGE


class CheckSkipped(Exception):
    """Raised by a check that cannot measure this target (an engine it cannot read, no cache).

    The runner prints the message as one line and keeps every other check's
    results; a baseline metric the skipped check would have produced reads as
    missing, so the gate still fails if the baseline relied on it.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
