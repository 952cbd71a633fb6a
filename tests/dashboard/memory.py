"""An in-memory ``DashboardData`` filled from real results files (``perfci run --json``).

The three files under ``data/`` were produced by perfci's dog-food gate
(``perfci run --quick --only n_plus_one --only indexes --only payload --json``):
one passing, one with ``PERFCI_FAULTS=fat_payload`` and one with
``PERFCI_FAULTS=n_plus_one,missing_indexes``. ``upload`` files a results dict
the way the server does: commit, branch, PR and CI link given beside it.
"""

from __future__ import annotations

import gzip
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from perfci.dashboard.data import ProjectInfo, RunRecord, RunRow, TrendEntry, status_of
from perfci.result import RunResult, unmeasured

DATA = Path(__file__).parent / "data"


def results(name: str) -> dict[str, Any]:
    """A results dict of ``data/<name>.json.gz``: ``main-pass``, ``main-fail``, ``pr-fail``."""
    with gzip.open(DATA / f"{name}.json.gz", "rt", encoding="utf-8") as handle:
        loaded: dict[str, Any] = json.load(handle)
    return loaded


@dataclass
class _Stored:
    project: str
    record: RunRecord
    results: dict[str, Any]  # the uploaded dict the record was decoded from


@dataclass
class MemoryData:
    """Projects and uploaded runs in dictionaries; ids count up from 1 in upload order."""

    _projects: dict[str, ProjectInfo] = field(default_factory=dict)
    _runs: list[_Stored] = field(default_factory=list)

    def add_project(self, name: str, *, default_branch: str = "main", public: bool = True) -> None:
        self._projects[name] = ProjectInfo(name, default_branch, public)

    def upload(
        self,
        project: str,
        data: Mapping[str, Any],
        *,
        branch: str,
        commit: str,
        pr: int | None = None,
        ci_url: str | None = None,
    ) -> int:
        """File ``data`` (a results dict) under ``project``; return the new run's id."""
        run_id = len(self._runs) + 1
        stored = {**data, "branch": branch, "commit": commit}
        record = RunRecord(
            run_id,
            RunResult.from_dict(stored),
            pr=pr,
            ci_url=ci_url,
            recorded_at=stored["started_at"],
        )
        self._runs.append(_Stored(project, record, stored))
        return run_id

    # -- DashboardData --------------------------------------------------------------

    def projects(self) -> Sequence[ProjectInfo]:
        return [self._projects[name] for name in sorted(self._projects)]

    def project(self, name: str) -> ProjectInfo | None:
        return self._projects.get(name)

    def branches(self, project: str) -> Sequence[str]:
        names = {s.results["branch"] for s in self._runs if s.project == project}
        return sorted(n for n in names if n)

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
        rows = []
        for stored in reversed(self._runs):
            record, results = stored.record, stored.results
            if stored.project != project or (before is not None and record.id >= before):
                continue
            if branch is not None and results["branch"] != branch:
                continue
            if status is not None and status_of(results["exit_code"]) != status:
                continue
            if pr is not None and record.pr != pr:
                continue
            rows.append(_row(record, results))
            if len(rows) == limit:
                break
        return rows

    def run(self, project: str, run_id: int) -> RunRecord | None:
        for stored in self._runs:
            if stored.project == project and stored.record.id == run_id:
                return stored.record
        return None

    def newest(self, projects: Sequence[str]) -> Mapping[str, RunRow]:
        found = {}
        for name in projects:
            info = self._projects.get(name)
            rows = self.runs(name, branch=info.default_branch, limit=1) if info else []
            if rows:
                found[name] = rows[0]
        return found

    def baseline(
        self, project: str, *, branch: str, suite: str | None = None, checks: Sequence[str] = ()
    ) -> RunRecord | None:
        for row in self.runs(project, branch=branch, status="passed", limit=len(self._runs)):
            record = self.run(project, row.id)
            assert record is not None
            result = record.result
            same_suite = suite is None or result.suite == suite
            measured = not unmeasured(checks, result.checks, result.skipped_checks)
            if row.pr is None and same_suite and measured:
                return record
        return None

    def trend(
        self, project: str, metric: str, *, branch: str, limit: int = 100
    ) -> Sequence[TrendEntry]:
        entries = []
        for row in self.runs(project, branch=branch, limit=limit):
            stored = next(s for s in self._runs if s.project == project and s.record.id == row.id)
            entry = _entry(stored.record, stored.results, metric)
            if entry is not None:
                entries.append(entry)
        return entries[::-1]


def _row(record: RunRecord, results: Mapping[str, Any]) -> RunRow:
    return RunRow(
        id=record.id,
        started_at=results["started_at"],
        commit=results["commit"],
        branch=results["branch"],
        exit_code=results["exit_code"],
        counts={k: v for k, v in results["counts"].items() if v},
        suite=results["suite"],
        duration_s=results["duration_s"],
        pr=record.pr,
        ci_url=record.ci_url,
    )


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _entry(record: RunRecord, results: Mapping[str, Any], metric: str) -> TrendEntry | None:
    measured = {m["name"]: m for m in results["measurements"]}
    if metric not in measured:
        return None
    m = measured[metric]
    verdict = {v["name"]: v for v in results["verdicts"]}.get(metric)
    baseline = (verdict or {}).get("baseline") or {}
    return TrendEntry(
        run_id=record.id,
        started_at=results["started_at"],
        commit=results["commit"],
        branch=results["branch"],
        exit_code=results["exit_code"],
        value=_number(m["value"]),
        unit=m["unit"],
        direction=m["direction"],
        outcome=verdict["outcome"] if verdict else None,
        baseline=_number(baseline.get("value")),
        threshold=_number((verdict or {}).get("threshold")),
        change=_number((verdict or {}).get("change")),
    )
