"""The store's bulk side (SQLite, PostgreSQL): many runs in one transaction, the engine."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from perfci.history import HistoryError, HistoryStore
from perfci.history.store import Upload
from perfci.server.tokens import digest
from tests.history.factory import make_run

MOMENT = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)


def test_record_many_stores_every_run_under_its_project(server_db: str) -> None:
    with HistoryStore(server_db) as store:
        project = store.create_project("bulk", digest("pci_x"), public=True)
        runs = [(make_run(i, regressed=i == 2), Upload(project.id, pr=i or None)) for i in range(4)]
        ids = store.record_many(runs, recorded_at=MOMENT)
        assert len(ids) == len(set(ids)) == 4
        listed = store.project_runs(project.id, limit=10)
        assert [r.id for r in listed] == sorted(ids, reverse=True)
        for run_id, (result, upload) in zip(ids, runs, strict=True):
            stored = store.project_run(project.id, run_id)
            assert stored is not None
            assert stored.result.to_dict() == result.to_dict()
            assert stored.upload == upload
            assert stored.recorded_at == MOMENT
        assert len({store.project_run(project.id, i).uid for i in ids}) == 4  # type: ignore[union-attr]


def test_record_many_is_one_transaction(server_db: str) -> None:
    """A run that cannot be stored leaves none of the batch behind."""
    with HistoryStore(server_db) as store:
        project = store.create_project("bulk", digest("pci_x"), public=True)
        missing = Upload(project.id + 1000)  # no such project: the foreign key refuses it
        runs = [(make_run(0), Upload(project.id)), (make_run(1), missing)]
        with pytest.raises(HistoryError, match="cannot record the runs"):
            store.record_many(runs, recorded_at=MOMENT)
        assert store.project_runs(project.id) == []


def test_engine_is_the_stores_own(server_db: str) -> None:
    with HistoryStore(server_db) as store:
        assert store.engine.url.render_as_string(hide_password=False) == server_db


def test_a_trend_walks_the_metric_index_without_sorting(tmp_path: Path) -> None:
    """SQLite plans the trend query as a backward walk of (name, run_id): no temp b-tree.

    (PostgreSQL derives the order from the join either way: at 10,000 runs its
    plan is a merge join of two backward index scans, docs/performance.md.)
    """
    url = f"sqlite:///{tmp_path / 'server.db'}"
    with HistoryStore(url) as store:
        project = store.create_project("bulk", digest("pci_x"), public=True)
        runs = [(make_run(i), Upload(project.id)) for i in range(3)]
        store.record_many(runs, recorded_at=MOMENT)
        metric = runs[0][0].measurements[0].name
        statements: list[tuple[str, Any]] = []

        def record(_c: Any, _cur: Any, sql: str, params: Any, _ctx: Any, _many: bool) -> None:
            statements.append((sql, params))

        event.listen(store.engine, "before_cursor_execute", record)
        points = store.trend(project.id, metric, limit=2)
        event.remove(store.engine, "before_cursor_execute", record)
        assert len(points) == 2
        assert points[0].run_id < points[1].run_id  # the newest two, oldest first
        (sql, params), *_ = [s for s in statements if "perfci_measurements" in s[0]]
        with store.engine.connect() as conn:
            plan = [row[-1] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params)]
    assert not any("TEMP B-TREE" in line for line in plan), plan
    assert any("ix_perfci_measurements_name_run" in line for line in plan), plan
