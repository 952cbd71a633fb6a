"""The dashboard's ``DashboardData`` over the server's history store.

``perfci.dashboard`` renders pages from small shapes of its own and never
touches a database; this adapter reads them from ``HistoryStore``, the same
queries the JSON API answers from.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from perfci.dashboard.data import ProjectInfo, RunRecord, RunRow, TrendEntry
from perfci.history.store import (
    HistoryStore,
    NoSuchProject,
    Project,
    RunSummary,
    StoredRun,
    TrendPoint,
)


def _info(project: Project) -> ProjectInfo:
    return ProjectInfo(project.name, project.default_branch, project.public)


def _row(run: RunSummary) -> RunRow:
    upload = run.upload
    return RunRow(
        id=run.id,
        started_at=run.started_at,
        commit=run.commit,
        branch=run.branch,
        exit_code=run.exit_code,
        counts={outcome.value: n for outcome, n in run.counts.items()},
        suite=run.suite,
        duration_s=run.duration_s,
        pr=upload.pr if upload else None,
        ci_url=upload.ci_url if upload else None,
    )


def _record(stored: StoredRun) -> RunRecord:
    upload = stored.upload
    return RunRecord(
        id=stored.id,
        result=stored.result,
        pr=upload.pr if upload else None,
        ci_url=upload.ci_url if upload else None,
        recorded_at=stored.recorded_at.isoformat(timespec="seconds"),
    )


def _entry(point: TrendPoint) -> TrendEntry:
    return TrendEntry(
        run_id=point.run_id,
        started_at=point.started_at,
        commit=point.commit,
        branch=point.branch,
        exit_code=point.exit_code,
        value=point.value,
        unit=point.unit,
        direction=point.direction,
        outcome=point.outcome,
        baseline=point.baseline,
        threshold=point.threshold,
        change=point.change,
    )


class StoreDashboardData:
    """``DashboardData`` read from a ``HistoryStore`` (every method: None or [] when the
    project does not exist)."""

    def __init__(self, store: HistoryStore) -> None:
        self.store = store

    def _project(self, name: str) -> Project | None:
        try:
            return self.store.project(name)
        except NoSuchProject:
            return None

    def projects(self) -> Sequence[ProjectInfo]:
        return [_info(p) for p in self.store.projects()]

    def project(self, name: str) -> ProjectInfo | None:
        found = self._project(name)
        return None if found is None else _info(found)

    def branches(self, project: str) -> Sequence[str]:
        found = self._project(project)
        return [] if found is None else self.store.project_branches(found.id)

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
        found = self._project(project)
        if found is None:
            return []
        summaries = self.store.project_runs(
            found.id, branch=branch, status=status, pr=pr, before=before, limit=limit
        )
        return [_row(s) for s in summaries]

    def newest(self, projects: Sequence[str]) -> Mapping[str, RunRow]:
        return {name: _row(s) for name, s in self.store.newest_runs(projects).items()}

    def run(self, project: str, run_id: int) -> RunRecord | None:
        found = self._project(project)
        stored = self.store.project_run(found.id, run_id) if found else None
        return None if stored is None else _record(stored)

    def baseline(
        self, project: str, *, branch: str, suite: str | None = None, checks: Sequence[str] = ()
    ) -> RunRecord | None:
        found = self._project(project)
        stored = (
            self.store.baseline_run(found, branch=branch, suite=suite, checks=checks)
            if found
            else None
        )
        return None if stored is None else _record(stored)

    def trend(
        self, project: str, metric: str, *, branch: str, limit: int = 100
    ) -> Sequence[TrendEntry]:
        found = self._project(project)
        if found is None:
            return []
        return [_entry(p) for p in self.store.trend(found.id, metric, branch=branch, limit=limit)]
