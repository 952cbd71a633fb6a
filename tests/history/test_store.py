"""The history store: round trips, ordering, listing, pruning, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import replace
from pathlib import Path

import pytest

from perfci.history import HistoryError, HistoryStore, default_url, resolve_url
from perfci.measurement import Direction, Measurement
from perfci.result import RunResult
from perfci.verdict.model import AckRule, Judgement, Mode, Outcome, Verdict
from tests.history.factory import REGRESSED, make_run
from tests.reporters.builders import make_result, sample_verdicts


def test_round_trip_is_exact(store: HistoryStore, history_runs: list[RunResult]) -> None:
    for run in history_runs:
        store.record(run)
    stored = store.history()
    assert [s.result for s in stored] == history_runs
    assert len({s.uid for s in stored}) == len(history_runs)


def test_round_trip_of_every_outcome(store: HistoryStore) -> None:
    """Infinite changes, budgets, acknowledgements, text facts and missing metrics survive."""
    result = make_result(sample_verdicts())
    run_id = store.record(result)
    assert run_id is not None
    back = store.get(run_id).result
    assert back == result
    by_name = {v.name: v for v in back.verdicts}
    assert by_name["indexes/GET /api/bookings/full_scans"].change == math.inf
    assert by_name["payload/GET /api/campaigns/bytes"].acknowledged == AckRule(
        "payload/GET /api/campaigns/*",
        reason="campaign descriptions now included (#42)",
        expires=dt.date(2027, 1, 31),
        source="perfci.yaml:31",
    )
    budget = by_name["latency/GET /api/coocook/chefs/p95"].budget
    assert budget is not None and budget.source == "perfci.yaml:14"


def test_a_verdict_judging_another_measurement_keeps_it(store: HistoryStore) -> None:
    """Normally a verdict's current value is the run's measurement, stored once; not always."""
    own = Measurement("c/s/m", 5, "count", Direction.LOWER)
    judged = Measurement("c/s/m", 6, "count", Direction.LOWER)
    verdict = Verdict("c/s/m", Outcome.NEW, Mode.EXACT, "new", current=judged)
    result = RunResult("s", (own,), Judgement((verdict,)), 0, "2026-01-01T00:00:00+00:00", 1.0)
    run_id = store.record(result)
    assert run_id is not None
    assert store.get(run_id).result == result


def test_history_is_oldest_first_and_limited(
    store: HistoryStore, history_runs: list[RunResult]
) -> None:
    for run in reversed(history_runs):  # recorded out of order: ordered by start time
        store.record(run)
    assert [s.result.started_at for s in store.history()] == [r.started_at for r in history_runs]
    newest = store.history(limit=2)
    assert [s.result for s in newest] == history_runs[-2:]


def test_runs_lists_newest_first_with_counts(
    store: HistoryStore, history_runs: list[RunResult]
) -> None:
    for run in history_runs:
        store.record(run)
    store.record(make_run(9, suite="other"))
    listed = store.runs(suite="default")
    assert [r.started_at for r in listed] == [r.started_at for r in reversed(history_runs)]
    assert listed[0].counts[Outcome.REGRESSION] == 1
    assert listed[0].exit_code == 1
    assert Outcome.REGRESSION not in listed[1].counts
    assert len(store.runs(limit=3)) == 3
    assert store.suites() == ["default", "other"]


def test_recording_a_uid_twice_adds_nothing(store: HistoryStore) -> None:
    run = make_run(0)
    assert store.record(run, uid="abc") is not None
    assert store.record(run, uid="abc") is None
    assert len(store.runs()) == 1


def test_prune_keeps_the_newest_per_suite(
    store: HistoryStore, history_runs: list[RunResult]
) -> None:
    for run in history_runs:
        store.record(run)
    for index in range(3):
        store.record(make_run(index, suite="other"))
    assert store.prune(2) == 4 + 1
    kept = store.history(suite="default")
    assert [s.result for s in kept] == history_runs[-2:]
    assert len(store.runs(suite="other")) == 2
    assert store.prune(0, suite="other") == 2
    assert store.runs(suite="other") == []
    assert len(store.history(suite="default")) == 2  # untouched


def test_prune_removes_measurements_and_verdicts(store: HistoryStore) -> None:
    from sqlalchemy import func, select

    from perfci.history import schema

    for index in range(3):
        store.record(make_run(index))
    store.prune(1)
    with store._engine.connect() as conn:
        for table in (schema.measurements, schema.verdicts):
            run_ids = set(conn.execute(select(table.c.run_id).distinct()).scalars())
            assert run_ids == {store.runs()[0].id}
        assert conn.execute(select(func.count()).select_from(schema.runs)).scalar() == 1


def test_get_unknown_run_is_a_clear_error(store: HistoryStore) -> None:
    with pytest.raises(HistoryError, match="no run with id 42"):
        store.get(42)


def test_nan_and_missing_values_survive(store: HistoryStore) -> None:
    verdict = Verdict(
        name="c/s/m",
        outcome=Outcome.NOISY,
        mode=Mode.BASELINE,
        reason="noisy",
        current=Measurement("c/s/m", 1.5, "ms", Direction.LOWER),
        change=math.nan,
        p_value=None,
    )
    assert verdict.current is not None
    result = RunResult(
        "s", (verdict.current,), Judgement((verdict,)), 0, "2026-01-01T00:00:00Z", 1.0
    )
    run_id = store.record(result)
    assert run_id is not None
    back = store.get(run_id).result.verdicts[0]
    assert back.change is not None and math.isnan(back.change)
    assert replace(back, change=None) == replace(verdict, change=None)


def test_default_url_is_under_dot_perfci(tmp_path: Path) -> None:
    assert default_url(tmp_path) == f"sqlite:///{tmp_path.resolve()}/.perfci/history.db"
    assert resolve_url(None, tmp_path) == resolve_url("", tmp_path) == default_url(tmp_path)


def test_relative_sqlite_path_starts_at_the_project(tmp_path: Path) -> None:
    assert (
        resolve_url("sqlite:///data/h.db", tmp_path) == f"sqlite:///{tmp_path.resolve()}/data/h.db"
    )
    assert resolve_url("sqlite:////abs/h.db", tmp_path) == "sqlite:////abs/h.db"
    url = "postgresql+psycopg://u:secret@db/perf"
    assert resolve_url(url, tmp_path) == url


def test_default_store_is_created_with_its_directory(tmp_path: Path) -> None:
    with HistoryStore(default_url(tmp_path)) as store:
        store.record(make_run(0))
    assert (tmp_path / ".perfci" / "history.db").is_file()


def test_sqlite_store_uses_wal(sqlite_url: str) -> None:
    with HistoryStore(sqlite_url) as store, store._engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000


def test_the_regressed_run_reads_back_with_its_evidence(
    store: HistoryStore, history_runs: list[RunResult]
) -> None:
    for run in history_runs:
        store.record(run)
    latest = store.history()[-1].result
    verdict = next(v for v in latest.verdicts if v.name == REGRESSED)
    assert verdict.outcome is Outcome.REGRESSION
    assert verdict.current is not None
    assert [e.label for e in verdict.current.evidence] == ["sql", "note"]
