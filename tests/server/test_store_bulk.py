"""The store's bulk side (SQLite, PostgreSQL): many runs in one transaction, the engine."""

from __future__ import annotations

import datetime as dt

import pytest

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
