"""The exit codes and the one exception type for errors a user can cause."""

from __future__ import annotations

from enum import IntEnum


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
        return f"{self.where}: {self.message}" if self.where else self.message


class ConfigError(PerfciError):
    """The configuration, a baseline, a results file or the command line is wrong."""

    exit_code = ExitCode.USAGE


class TargetError(PerfciError):
    """The target application could not be imported, seeded, started or reached."""

    exit_code = ExitCode.TARGET


class CheckCrashed(PerfciError):
    """A check plugin raised: the run cannot be judged."""

    exit_code = ExitCode.TARGET


class CheckSkipped(PerfciError):
    """A check cannot run on this machine (a tool is missing); the message says how to fix it."""


class PublishError(PerfciError):
    """Publishing results (status, comment) failed; the gate's own verdict stands."""

    exit_code = ExitCode.PUBLISH
