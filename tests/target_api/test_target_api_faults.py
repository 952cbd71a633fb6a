"""Each fault profile puts its bottleneck back, and the default has none of them."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import text
from sqlalchemy.pool import QueuePool, StaticPool

from target_api import create_app, db, faults, queries


def chef_list_statements(app: Flask, counter_for: Callable[[Flask], Any], per_page: int) -> int:
    counter = counter_for(app)
    client = app.test_client()
    url = f"/api/coocook/chefs?per_page={per_page}"
    return int(counter.count_during(lambda: client.get(url, headers={"Cache-Control": "no-cache"})))


def test_unknown_fault_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"unknown fault 'n_plus_on'.*did you mean 'n_plus_one'"):
        create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db", "FAULTS": "n_plus_on"})


def test_faults_from_environment_list_or_string(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path}/x.db"
    monkeypatch.setenv("PERFCI_FAULTS", "no_cache, slow")
    assert create_app({"SQLALCHEMY_DATABASE_URI": url}).config["FAULTS"] == {"no_cache", "slow"}
    # The config mapping wins over the environment.
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "FAULTS": ["fat_payload"]})
    assert app.config["FAULTS"] == {"fat_payload"}
    monkeypatch.delenv("PERFCI_FAULTS")
    assert create_app({"SQLALCHEMY_DATABASE_URI": url}).config["FAULTS"] == frozenset()


def test_n_plus_one_statements_grow_with_page_size(
    make_app: Callable[..., Flask], counter_for: Callable[[Flask], Any]
) -> None:
    healthy = make_app()
    assert chef_list_statements(healthy, counter_for, 5) == 1
    assert chef_list_statements(healthy, counter_for, 20) == 1
    faulty = make_app(seed=False, FAULTS="n_plus_one")
    small = chef_list_statements(faulty, counter_for, 5)
    large = chef_list_statements(faulty, counter_for, 20)
    assert large - small == 15  # one lazy load per extra chef


def test_n_plus_one_is_a_real_lazy_load(make_app: Callable[..., Flask]) -> None:
    from sqlalchemy import event
    from sqlalchemy.orm import ORMExecuteState

    app = make_app(FAULTS="n_plus_one")
    lazy: list[object] = []

    def on_execute(state: ORMExecuteState) -> None:
        if state.lazy_loaded_from is not None:
            lazy.append(state.lazy_loaded_from)

    with app.app_context():
        session_class = db.session.session_factory.class_
    event.listen(session_class, "do_orm_execute", on_execute)
    try:
        app.test_client().get("/api/coocook/chefs?per_page=4")
    finally:
        event.remove(session_class, "do_orm_execute", on_execute)
    assert len(lazy) == 4


def explain(app: Flask, sql: str) -> str:
    with app.app_context(), db.engine.connect() as connection:
        rows = connection.execute(text("EXPLAIN QUERY PLAN " + sql)).all()
    return " | ".join(row[-1] for row in rows)


def compiled(app: Flask, statement: Any) -> str:
    bound = statement.params(**{k: v for k, v in PLAN_PARAMS.items() if k in str(statement)})
    with app.app_context():
        return str(bound.compile(db.engine, compile_kwargs={"literal_binds": True}))


PLAN_PARAMS = {"cuisine": "Korean", "user_id": 3, "limit": 12, "offset": 0}


@pytest.mark.parametrize(
    ("statement", "table"),
    [(queries.chefs_page(True, False), "chefs"), (queries.bookings_page(True), "bookings")],
)
def test_missing_indexes_makes_filters_scan(
    sqlite_backend: Any, statement: Any, table: str, tmp_path: Path
) -> None:
    from target_api.seed import seed_database

    healthy = create_app(sqlite_backend.config)
    seed_database(healthy, 0.02)
    sql = compiled(healthy, statement)
    assert f"SCAN {table}" not in explain(healthy, sql)

    faulty = create_app(
        {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/bare.db", "FAULTS": "missing_indexes"}
    )
    seed_database(faulty, 0.02)
    plan = explain(faulty, sql)
    assert f"SCAN {table}" in plan
    with faulty.app_context(), db.engine.connect() as connection:
        names = connection.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'idx_%'"
        ).all()
    assert names == []


def test_every_foreign_key_leads_an_index() -> None:
    from target_api.models import Base

    for table in Base.metadata.tables.values():
        leading = {next(iter(index.columns)).name for index in table.indexes}
        for fk in table.foreign_keys:
            assert fk.parent.name in leading, f"{table.name}.{fk.parent.name} has no index"


def test_no_cache_never_hits(make_app: Callable[..., Flask]) -> None:
    client = make_app(FAULTS="no_cache").test_client()
    assert [client.get("/api/products").headers["X-Cache"] for _ in range(3)] == ["MISS"] * 3
    assert client.application.config["CACHE_TYPE"] == "NullCache"


def pool_of(app: Flask) -> Any:
    with app.app_context():
        return db.engine.pool


def test_small_pool_and_tuned_pool(make_app: Callable[..., Flask]) -> None:
    tuned = pool_of(make_app(seed=False))
    assert isinstance(tuned, QueuePool)
    assert (tuned.size(), tuned._max_overflow, tuned._pre_ping) == (20, 40, True)
    assert tuned._recycle == 3600
    small = pool_of(make_app(seed=False, FAULTS="small_pool"))
    assert (small.size(), small._max_overflow, small._pre_ping) == (5, 10, False)


def test_memory_sqlite_works_with_a_static_pool() -> None:
    from target_api.seed import seed_database

    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert isinstance(pool_of(app), StaticPool)
    seed_database(app, 0.02)
    assert app.test_client().get("/api/coocook/chefs").status_code == 200


def journal_mode(app: Flask) -> str:
    with app.app_context(), db.engine.connect() as connection:
        return str(connection.exec_driver_sql("PRAGMA journal_mode").scalar())


def test_wal_by_default_and_rollback_journal_under_no_wal(
    sqlite_backend: Any, tmp_path: Path
) -> None:
    app = create_app(sqlite_backend.config)
    assert journal_mode(app) == "wal"
    with app.app_context(), db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
    faulty = create_app(
        {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/j.db", "FAULTS": "no_wal"}
    )
    assert journal_mode(faulty) == "delete"


def test_writes_begin_immediate_unless_no_wal(auth: dict[str, str], tmp_path: Path) -> None:
    from target_api.seed import seed_database

    begun: list[str] = []
    original = sqlite3.Connection.execute

    class Spy(sqlite3.Connection):
        def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
            if sql.startswith("BEGIN"):
                begun.append(sql)
            return original(self, sql, *args)

    for fault, expected in (("", "BEGIN IMMEDIATE"), ("no_wal", None)):
        app = create_app(
            {
                "FAULTS": fault,
                "API_TOKEN": "test-token",
                # A file per mode: leaving WAL needs the database to itself.
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/{fault or 'tuned'}.db",
                "SQLALCHEMY_ENGINE_OPTIONS": {
                    "connect_args": {"factory": Spy, "check_same_thread": False}
                },
            }
        )
        seed_database(app, 0.02)
        begun.clear()
        chef = app.test_client().get("/api/coocook/chefs").get_json()["chefs"][0]
        response = app.test_client().post(
            "/api/coocook/bookings",
            json={"chef_id": chef["id"], "user_id": 1, "booking_date": "2026-01-02"},
            headers=auth,
        )
        assert response.status_code == 201
        if expected:
            assert expected in begun
        else:
            assert not any("IMMEDIATE" in sql for sql in begun)
        with app.app_context():
            db.engine.dispose()


def test_fat_payload_serializes_everything_uncompressed(make_app: Callable[..., Flask]) -> None:
    app = make_app(FAULTS="fat_payload")
    response = app.test_client().get("/api/coocook/chefs", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in response.headers
    chef = response.get_json()["chefs"][0]
    assert {"bio", "created_at", "is_active", "user_id", "booking_count"} <= set(chef)
    lean = make_app(seed=False).test_client().get("/api/coocook/chefs")
    assert len(lean.get_data()) * 3 < len(response.get_data())


def test_slow_burns_cpu_on_api_requests_only(
    make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    import target_api.app as app_module

    burned: list[float] = []
    monkeypatch.setattr(app_module, "burn_cpu", burned.append)
    client = make_app(FAULTS="slow", SLOW_CPU_MS=7).test_client()
    client.get("/health")
    assert burned == []
    client.get("/api/products")
    assert burned == [7.0]


def test_burn_cpu_hashes_a_fixed_amount_not_a_clock_spin(monkeypatch: pytest.MonkeyPatch) -> None:
    # The work is a count of hashed blocks, whatever the clock says: a frozen
    # clock cannot make it return early or spin forever.
    monkeypatch.setattr(time, "thread_time", lambda: 0.0)
    blocks: list[bytes] = []

    class Counting:
        def update(self, data: bytes) -> None:
            blocks.append(data)

        def hexdigest(self) -> str:
            return "counted"

    monkeypatch.setattr("target_api.faults.hashlib.sha256", Counting)
    assert faults.burn_cpu(20) == "counted"
    assert len(blocks) == 20 * faults.HASH_BLOCKS_PER_MS
    assert faults.burn_cpu(0) == "counted" and len(blocks) == 20 * faults.HASH_BLOCKS_PER_MS


def test_burn_cpu_spends_cpu() -> None:
    # A lower bound on this thread's CPU time, with the deterministic digest as proof of work.
    before = time.thread_time()
    digest = faults.burn_cpu(20)
    assert time.thread_time() - before >= 0.005
    assert digest == faults.burn_cpu(20)


def test_faults_are_off_by_default(make_app: Callable[..., Flask]) -> None:
    assert make_app(seed=False).config["FAULTS"] == frozenset()
