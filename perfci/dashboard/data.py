"""What the dashboard reads: the ``DashboardData`` protocol and the shapes it returns.

The dashboard never touches a database: the perfci server hands the blueprint
an object with these methods (an adapter over its history store), the tests an
in-memory one. Every string in these shapes came from an upload and is
untrusted: the pages escape all of it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from perfci.result import STATUSES, RunResult, status_of

__all__ = [
    "STATUSES",
    "DashboardData",
    "ProjectInfo",
    "RunRecord",
    "RunRow",
    "TrendEntry",
    "status_of",
]


@dataclass(frozen=True)
class ProjectInfo:
    """A project as the dashboard shows it."""

    name: str
    default_branch: str = "main"
    public: bool = True  # the dashboard shows public projects only (it has no login)


@dataclass(frozen=True)
class RunRow:
    """A run as listed (no measurements): one line of the runs page."""

    id: int
    started_at: str  # ISO 8601, UTC, as in the results file
    commit: str | None
    branch: str | None
    exit_code: int
    counts: Mapping[str, int] = field(default_factory=dict)  # outcome slug -> verdicts
    suite: str = ""
    duration_s: float = 0.0
    pr: int | None = None
    ci_url: str | None = None

    @property
    def status(self) -> str:
        return status_of(self.exit_code)


@dataclass(frozen=True)
class RunRecord:
    """One run in full: its measurements, verdicts and environment (what ``perfci run --json``
    writes, decoded once by the data source, not again by every page)."""

    id: int
    result: RunResult
    pr: int | None = None
    ci_url: str | None = None
    recorded_at: str | None = None  # ISO 8601, when the server received it


@dataclass(frozen=True)
class TrendEntry:
    """One run's value of one metric and, when that run judged it, the verdict's numbers."""

    run_id: int
    started_at: str
    commit: str | None
    branch: str | None
    exit_code: int
    value: float | None  # None: a text fact or not finite
    unit: str
    direction: str = "lower"  # the measurement's direction slug: lower, higher, equal
    outcome: str | None = None  # the metric's verdict slug in that run (None: not judged)
    baseline: float | None = None
    threshold: float | None = None
    change: float | None = None

    @property
    def status(self) -> str:
        return status_of(self.exit_code)


class DashboardData(Protocol):
    """The reads the dashboard needs; ``project`` is always a project's name.

    A method that finds nothing returns None or an empty sequence; a storage
    failure raises (the server's error handler answers it).
    """

    def projects(self) -> Sequence[ProjectInfo]:
        """Every project, by name."""
        ...

    def project(self, name: str) -> ProjectInfo | None:
        """The project called ``name``, None when there is none."""
        ...

    def branches(self, project: str) -> Sequence[str]:
        """The branches the project's runs were uploaded from, by name."""
        ...

    def runs(
        self,
        project: str,
        *,
        branch: str | None = None,
        status: str | None = None,
        pr: int | None = None,
        before: int | None = None,
        limit: int = 50,
    ) -> Sequence[RunRow]:
        """Runs newest upload first (descending id); ``before`` is a run id (keyset cursor);
        ``status`` is one of ``STATUSES``; ``pr`` keeps the runs uploaded for that PR."""
        ...

    def run(self, project: str, run_id: int) -> RunRecord | None:
        """Run ``run_id`` if it belongs to the project."""
        ...

    def newest(self, projects: Sequence[str]) -> Mapping[str, RunRow]:
        """The newest run on each project's default branch, by project name (a project
        without one is absent), in a number of queries that does not grow with them."""
        ...

    def baseline(
        self, project: str, *, branch: str, suite: str | None = None, checks: Sequence[str] = ()
    ) -> RunRecord | None:
        """The newest passing run on ``branch`` (what a PR on it is gated against); with
        ``suite`` and ``checks``, the newest of that suite that measured every one of them
        (``perfci.result.unmeasured``), as ``perfci run --baseline-from server`` picks."""
        ...

    def trend(
        self, project: str, metric: str, *, branch: str, limit: int = 100
    ) -> Sequence[TrendEntry]:
        """The newest ``limit`` values of ``metric`` on ``branch``, oldest first."""
        ...
