"""The history store's server side: schema 3-4 migrations, projects, tokens (SQLite, PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Column, Index, MetaData, Table, create_engine, inspect

from perfci.history import HistoryError, HistoryStore, schema
from perfci.history.migrations import LATEST, current_version
from perfci.history.store import NoSuchProject, Upload
from perfci.server.tokens import PREFIX, digest, new_token
from tests.history.factory import make_run

NEW_COLUMNS = {"project_id", "pr", "ci_url", "committed_at"}


def _create_schema_2(url: str) -> None:
    """The tables as perfci wrote them at schema 2 (before perfci server), with one run."""
    old = MetaData()
    columns: list[Column[object]] = [
        Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable, unique=c.unique)
        for c in schema.runs.columns
        if c.name not in NEW_COLUMNS
    ]
    runs = Table(
        schema.runs.name, old, *columns, Index("ix_perfci_runs_suite_started", "suite", "started")
    )
    Table(  # without ``statistic`` (schema 4)
        schema.measurements.name,
        old,
        *(
            Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable)
            for c in schema.measurements.columns
            if c.name != "statistic"
        ),
        Index("ix_perfci_measurements_run", "run_id"),
    )
    for table in (schema.verdicts, schema.schema_versions):
        table.to_metadata(old)
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            old.create_all(conn)
            now = dt.datetime.now(dt.UTC)
            for version in (1, 2):
                conn.execute(
                    old.tables["perfci_schema"]
                    .insert()
                    .values(version=version, description="old", applied_at=now)
                )
            conn.execute(
                runs.insert().values(
                    uid="a" * 32,
                    suite="s",
                    started_at=now.isoformat(),
                    started=now,
                    recorded_at=now,
                    duration_s=1.0,
                    exit_code=0,
                    environment="{}",
                    checks="[]",
                    skipped_checks="[]",
                    unmatched_rules="[]",
                )
            )
            assert current_version(conn) == 2
    finally:
        engine.dispose()


def test_a_schema_2_store_is_migrated_and_keeps_its_runs(server_db: str) -> None:
    _create_schema_2(server_db)
    with HistoryStore(server_db) as store:
        (old,) = store.runs()
        assert old.upload is None
        token = new_token()
        project = store.create_project("p", digest(token))
        run_id = store.record(make_run(0), upload=Upload(project.id, pr=3))
        assert run_id is not None
        assert [r.id for r in store.project_runs(project.id)] == [run_id]
        assert len(store.runs()) == 2  # the local history lists both
    engine = create_engine(server_db)
    try:
        inspector = inspect(engine)
        assert {c["name"] for c in inspector.get_columns("perfci_runs")} >= NEW_COLUMNS
        assert {"perfci_projects", "perfci_tokens"} <= set(inspector.get_table_names())
        indexes = {i["name"] for i in inspector.get_indexes("perfci_runs")}
        assert {"ix_perfci_runs_project", "ix_perfci_runs_project_branch"} <= indexes
        assert "statistic" in {c["name"] for c in inspector.get_columns("perfci_measurements")}
        assert "read_only" in {c["name"] for c in inspector.get_columns("perfci_tokens")}
        with engine.connect() as conn:
            assert current_version(conn) == LATEST == 5
    finally:
        engine.dispose()


def test_tokens_are_stored_as_digests_and_can_be_revoked(server_db: str) -> None:
    token = new_token()
    assert token.startswith(PREFIX) and len(token) > 40 and token != new_token()
    with HistoryStore(server_db) as store:
        project = store.create_project("p", digest(token), public=True, default_branch="trunk")
        assert (project.public, project.default_branch) == (True, "trunk")
        with pytest.raises(HistoryError, match="exists"):
            store.create_project("p", digest(new_token()))
        second = new_token()
        info = store.add_token("p", digest(second))
        assert store.token_project(digest(token)) == project.id
        assert store.token_project(digest(second)) == project.id
        assert store.token_project(digest("pci_guess")) is None
        assert [t.id for t in store.tokens("p")] == [info.id - 1, info.id]
        assert store.revoke_token("p", info.id)
        assert store.token_project(digest(second)) is None
        assert store.token_project(digest(token)) == project.id
        with pytest.raises(NoSuchProject):
            store.tokens("nothing")
    engine = create_engine(server_db)
    try:
        with engine.connect() as conn:
            stored = [row.digest for row in conn.execute(schema.tokens.select())]
    finally:
        engine.dispose()
    assert token not in stored and second not in stored
    assert digest(token) in stored
