"""Schema versions: a fresh store is created, an old one migrated, a newer one refused."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Column, Connection, Integer, create_engine, inspect, select, text

from perfci.history import HistoryError, HistoryStore, schema
from perfci.history.migrations import LATEST, MIGRATIONS, Migration, current_version, migrate
from tests.history.factory import LATENCY, make_run


def _version(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return current_version(conn)
    finally:
        engine.dispose()


def test_a_fresh_store_gets_every_table_and_the_latest_version(store_url: str) -> None:
    assert _version(store_url) == 0
    with HistoryStore(store_url):
        pass
    assert _version(store_url) == LATEST
    engine = create_engine(store_url)
    try:
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert {"perfci_schema", "perfci_runs", "perfci_measurements", "perfci_verdicts"} <= tables


def test_reopening_applies_nothing_twice(store_url: str) -> None:
    with HistoryStore(store_url) as store:
        store.record(make_run(0))
    with HistoryStore(store_url) as store:
        assert len(store.runs()) == 1
    engine = create_engine(store_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(schema.schema_versions.c.version)).scalars().all()
    finally:
        engine.dispose()
    assert rows == [m.version for m in MIGRATIONS]


def _add_note_column(conn: Connection) -> None:
    conn.execute(text("ALTER TABLE perfci_runs ADD COLUMN note VARCHAR(200)"))
    conn.execute(text("UPDATE perfci_runs SET note = 'migrated'"))


def test_an_older_store_is_migrated_and_keeps_its_runs(store_url: str) -> None:
    with HistoryStore(store_url) as store:
        store.record(make_run(0))
    upgraded = (*MIGRATIONS, Migration(LATEST + 1, "a note per run", _add_note_column))
    store = HistoryStore(store_url)  # its engine: BEGIN IMMEDIATE on SQLite, as in real use
    try:
        with store._writer.begin() as conn:
            assert migrate(conn, upgraded) == LATEST + 1
        with store._engine.connect() as conn:
            assert conn.execute(text("SELECT note FROM perfci_runs")).scalar() == "migrated"
            assert current_version(conn) == LATEST + 1
    finally:
        store.close()
    with pytest.raises(HistoryError, match="newer than this perfci understands"):
        HistoryStore(store_url).__enter__()


def test_measurements_from_before_schema_4_read_as_medians(store_url: str) -> None:
    """Schema 4 adds ``statistic``: a store from before gets the column, its rows median."""
    run = make_run(0)
    with HistoryStore(store_url) as store:
        run_id = store.record(run)
    assert run_id is not None
    engine = create_engine(store_url)
    try:
        with engine.begin() as conn:  # back to schema 3: no column, no version row
            conn.execute(text("ALTER TABLE perfci_measurements DROP COLUMN statistic"))
            conn.execute(text("DELETE FROM perfci_schema WHERE version >= 4"))
    finally:
        engine.dispose()
    assert _version(store_url) == 3
    with HistoryStore(store_url) as store:
        assert _version(store_url) == LATEST
        old = {m.name: m for m in store.get(run_id).result.measurements}
        assert old[LATENCY].statistic == "median"  # the store never knew it was a p95
        new_id = store.record(make_run(1))
        assert new_id is not None
        new = {m.name: m for m in store.get(new_id).result.measurements}
    assert new[LATENCY].statistic == "p95"
    assert {m.statistic for m in run.measurements} == {"median", "p95"}


def test_a_failing_migration_changes_nothing(store_url: str) -> None:
    with HistoryStore(store_url) as store:
        store.record(make_run(0))

    def broken(conn: Connection) -> None:
        conn.execute(text("ALTER TABLE perfci_runs ADD COLUMN half_done INTEGER"))
        raise RuntimeError("migration bug")

    store = HistoryStore(store_url)
    try:
        with pytest.raises(RuntimeError), store._writer.begin() as conn:
            migrate(conn, (*MIGRATIONS, Migration(LATEST + 1, "broken", broken)))
        with store._engine.connect() as conn:
            assert current_version(conn) == LATEST
            columns = {c["name"] for c in inspect(conn).get_columns("perfci_runs")}
        assert "half_done" not in columns  # transactional DDL rolled it back
    finally:
        store.close()


def test_a_newer_store_is_refused_with_a_clear_error(store_url: str) -> None:
    with HistoryStore(store_url):
        pass
    engine = create_engine(store_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                schema.schema_versions.insert().values(
                    version=99, description="from the future", applied_at=dt.datetime.now(dt.UTC)
                )
            )
    finally:
        engine.dispose()
    with pytest.raises(HistoryError) as raised, HistoryStore(store_url):
        pass
    message = str(raised.value)
    assert "schema is version 99, newer than this perfci understands" in message
    assert "\n" not in message


def test_version_table_definition_is_stable() -> None:
    """Migrations find the version in this table: renaming it would orphan every store."""
    assert schema.schema_versions.name == "perfci_schema"
    assert isinstance(schema.schema_versions.c.version.type, Integer)
    assert isinstance(schema.schema_versions.c.version, Column)


def test_tokens_from_before_schema_5_stay_write_tokens(store_url: str) -> None:
    """Schema 5 adds ``read_only`` to the server's tokens: the tokens there keep writing."""
    with HistoryStore(store_url) as store:
        store.create_project("p", "a" * 64)
    engine = create_engine(store_url)
    try:
        with engine.begin() as conn:  # back to schema 4: no column, no version row
            conn.execute(text("ALTER TABLE perfci_tokens DROP COLUMN read_only"))
            conn.execute(text("DELETE FROM perfci_schema WHERE version = 5"))
    finally:
        engine.dispose()
    assert _version(store_url) == 4
    with HistoryStore(store_url) as store:
        assert _version(store_url) == LATEST
        grant = store.token_grant("a" * 64)
        assert grant is not None and not grant.read_only
        store.add_token("p", "b" * 64, read_only=True)
        assert [t.read_only for t in store.tokens("p")] == [False, True]
