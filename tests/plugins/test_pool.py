"""The pool check: live settings, minimums, the held burst, SQLite fixes, PostgreSQL headroom."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine
from sqlalchemy.pool import StaticPool

from perfci.checks.pool import Findings, LiveSettings, PoolOptions, engine_settings, live_settings
from perfci.checks.pool.burst import CheckoutGate
from perfci.checks.pool.sqlite import WriteTrace
from tests.plugins.softfactory import SoftFactoryProject, explain

WRITE_PROBE = {
    "request": "POST /api/coocook/bookings",
    # Chef 97 and user 2 appear in none of the endpoints other checks read.
    "json": {"chef_id": 97, "user_id": 2, "booking_date": "2026-03-01"},
    "headers": {"Authorization": "Bearer softfactory-dev-token"},
}
ENDPOINTS = ["GET /api/coocook/chefs?per_page=10", "GET /api/coocook/chefs/1", "GET /api/products"]


# The seed report's recommendations, configured as minimums (none by default).
SEED_MINIMUMS: dict[str, Any] = {
    "min_size": 20,
    "min_overflow": 40,
    "require_pre_ping": True,
    "require_sqlite_fixes": True,
}


def settings(
    engine_url: str, options: PoolOptions | None = None, **engine_options: Any
) -> tuple[dict[str, Any], Findings]:
    engine = create_engine(engine_url, **engine_options)
    try:
        found = engine_settings(engine.pool, options or PoolOptions(**SEED_MINIMUMS))
    finally:
        engine.dispose()
    return {m.name: m.value for m in found.measurements}, found


def test_settings_come_from_the_live_pool(tmp_path: Path) -> None:
    measured, below = settings(
        f"sqlite:///{tmp_path / 'a.db'}", pool_size=5, max_overflow=10, pool_timeout=7
    )
    assert measured == {
        "pool/engine/class": "QueuePool",
        "pool/engine/pre_ping": 0.0,
        "pool/engine/recycle": -1.0,
        "pool/engine/size": 5,
        "pool/engine/max_overflow": 10,
        "pool/engine/timeout": 7.0,
    }
    assert below.problems == (
        "pre_ping is off (stale connections fail the request using them)",
        "pool size 5 < 20",
        "max_overflow 10 < 40",
    )
    measurement = below.measurement("pool/engine/below_minimum")
    assert measurement.value == 3
    assert [e.text for e in measurement.evidence][1] == "pool size 5 < 20"


def test_a_default_pool_is_below_no_minimum_unless_one_is_configured(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    # Flask-SQLAlchemy's defaults: 5 + 10 connections, no pre-ping.
    measured, below = settings(url, PoolOptions(), pool_size=5, max_overflow=10)
    assert measured["pool/engine/size"] == 5
    assert below.problems == ()
    assert below.measurement("pool/engine/below_minimum").value == 0
    _, below = settings(url, PoolOptions(min_size=8), pool_size=5, max_overflow=10)
    assert below.problems == ("pool size 5 < 8",)


def test_the_reports_pool_meets_the_minimums(tmp_path: Path) -> None:
    _, below = settings(
        f"sqlite:///{tmp_path / 'a.db'}", pool_size=20, max_overflow=40, pool_pre_ping=True
    )
    assert below.problems == ()


def test_live_settings_reads_what_create_engine_was_given(tmp_path: Path) -> None:
    # The one reader of SQLAlchemy's private pool attributes: a rename there fails here.
    engine = create_engine(
        f"sqlite:///{tmp_path / 'a.db'}",
        pool_size=3,
        max_overflow=4,
        pool_timeout=5,
        pool_recycle=60,
        pool_pre_ping=True,
    )
    try:
        assert live_settings(engine.pool) == LiveSettings(
            pre_ping=True, recycle=60.0, max_overflow=4, timeout=5.0
        )
    finally:
        engine.dispose()
    assert live_settings(create_engine("sqlite://", poolclass=StaticPool).pool).timeout is None


def test_findings_join_without_touching_either_side() -> None:
    first, second = Findings(problems=("a",)), Findings(notes=("n",))
    joined = first + second
    assert (joined.problems, joined.notes) == (("a",), ("n",))
    assert (first.notes, second.problems) == ((), ())


def test_in_memory_sqlite_is_not_a_misconfiguration() -> None:
    measured, below = settings("sqlite://", poolclass=StaticPool)
    assert measured["pool/engine/class"] == "StaticPool"
    assert "pool/engine/size" not in measured
    assert below.problems == ()
    assert "size and pre-ping minimums do not apply" in below.notes[0]


def test_minimums_can_be_switched_off(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'a.db'}", pool_size=1)
    options = PoolOptions(min_size=None, min_overflow=None, require_pre_ping=False)
    below = engine_settings(engine.pool, options)
    engine.dispose()
    assert below.problems == ()


def test_the_gate_releases_when_the_burst_is_full() -> None:
    gate = CheckoutGate(target=3, settle=30.0)
    threads = [threading.Thread(target=gate.checkout) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert (gate.peak, gate.filled, gate.released) == (3, True, True)


def test_the_gate_releases_when_the_pool_gives_no_more() -> None:
    gate = CheckoutGate(target=5, settle=0.05)
    threads = [threading.Thread(target=gate.checkout) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert (gate.peak, gate.filled, gate.released) == (2, False, True)
    gate.checkin()
    assert gate.out == 1


@pytest.mark.parametrize(
    ("statements", "begin", "immediate"),
    [
        (
            ["BEGIN IMMEDIATE", "SELECT 1", "INSERT INTO t VALUES (1)", "COMMIT"],
            "BEGIN IMMEDIATE",
            True,
        ),
        (["SELECT 1", "BEGIN ", "INSERT INTO t VALUES (1)", "COMMIT"], "BEGIN", False),
        (
            ["BEGIN", "SELECT 1", "COMMIT", "BEGIN IMMEDIATE", "update t set a = 1"],
            "BEGIN IMMEDIATE",
            True,
        ),
        (["BEGIN", "SELECT 1", "COMMIT", "INSERT INTO t VALUES (1)"], None, False),
        (["SELECT 1"], None, False),
    ],
)
def test_the_begin_of_the_first_write_is_found(
    statements: list[str], begin: str | None, immediate: bool
) -> None:
    trace = WriteTrace(status=201, statements=statements)
    assert (trace.begin, trace.immediate) == (begin, immediate)


def test_option_errors_are_config_errors() -> None:
    with pytest.raises(ValueError, match="expected 'METHOD /path'"):
        PoolOptions.model_validate({"write_probe": {"request": "POST /a extra"}})
    with pytest.raises(ValueError, match="burst"):
        PoolOptions.model_validate({"burst": -1})


# --- end to end: the optimized API passes, each fault fails -----------------------------


def test_small_pool_and_no_wal_fail_the_gate_and_optimized_passes(
    softfactory: SoftFactoryProject,
) -> None:
    softfactory.configure(
        {"pool": {"write_probe": WRITE_PROBE, **SEED_MINIMUMS}}, endpoints=ENDPOINTS
    )
    softfactory.baseline()
    passing = softfactory.gate()
    assert passing.exit_code == 0, explain(passing)
    assert softfactory.results()["verdicts"]

    small = softfactory.gate("small_pool")
    assert small.exit_code == 1, explain(small)
    failing = softfactory.failing()
    for name in (
        "pool/engine/size",
        "pool/engine/max_overflow",
        "pool/engine/pre_ping",
        "pool/burst/peak_checkouts",
    ):
        assert failing.get(name) == "regression", (name, failing)
        assert name in small.stdout
    assert failing.get("pool/engine/below_minimum") == "budget_violation", failing
    assert "pool size 5 < 20" in small.stdout

    no_wal = softfactory.gate("no_wal")
    assert no_wal.exit_code == 1, explain(no_wal)
    failing = softfactory.failing()
    for name in ("pool/sqlite/journal_mode", "pool/sqlite/begin_immediate"):
        assert failing.get(name) == "regression", (name, failing)
        assert name in no_wal.stdout
    # Its own budget (max 0) fails it too, baseline or not.
    assert failing.get("pool/sqlite/missing_fixes") == "budget_violation", failing
    assert "not BEGIN IMMEDIATE" in no_wal.stdout


def test_configured_minimums_fail_even_when_the_baseline_was_made_on_the_bad_pool(
    softfactory: SoftFactoryProject,
) -> None:
    # No budget in perfci.yaml: the pool check holds the minimums the project configured.
    softfactory.configure({"pool": {"burst": 0, **SEED_MINIMUMS}}, endpoints=ENDPOINTS)
    made = softfactory.run("baseline", "update", env={"PERFCI_FAULTS": "small_pool"})
    assert made.exit_code == 0, explain(made)
    gated = softfactory.gate("small_pool")
    assert gated.exit_code == 1, explain(gated)
    assert softfactory.failing() == {"pool/engine/below_minimum": "budget_violation"}


def test_pool_without_minimums_passes_a_default_pool_against_its_own_baseline(
    softfactory: SoftFactoryProject,
) -> None:
    """`pool: {}` on a default Flask-SQLAlchemy pool (5 + 10, no pre-ping, rollback journal)."""
    softfactory.configure({"pool": {"write_probe": WRITE_PROBE}}, endpoints=ENDPOINTS)
    faults = {"PERFCI_FAULTS": "small_pool,no_wal"}
    made = softfactory.run("baseline", "update", env=faults)
    assert made.exit_code == 0, explain(made)
    gated = softfactory.gate("small_pool,no_wal")
    assert gated.exit_code == 0, explain(gated)
    # A change is still caught against the baseline: WAL lost since it was made.
    made = softfactory.run("baseline", "update", env={"PERFCI_FAULTS": "small_pool"})
    assert made.exit_code == 0, explain(made)
    regressed = softfactory.gate("small_pool,no_wal")
    assert regressed.exit_code == 1, explain(regressed)
    failing = softfactory.failing()
    assert failing.get("pool/sqlite/journal_mode") == "regression", failing
    assert failing.get("pool/sqlite/begin_immediate") == "regression", failing
    assert "pool/sqlite/missing_fixes" not in failing  # no fix was required


@pytest.mark.postgres
def test_postgres_headroom_and_small_pool(
    softfactory: SoftFactoryProject, postgres_url: str
) -> None:
    # One worker: 2 x (20 + 40) = 120 connections would exceed a default server's 97, which
    # the check reports as a budget violation (test_postgres_pool_larger_than_the_server).
    softfactory.configure(
        {"pool": {"burst": 12}},
        endpoints=ENDPOINTS,
        target_config={"SQLALCHEMY_DATABASE_URI": postgres_url},
        server={"workers": 1},
    )
    softfactory.baseline()
    passing = softfactory.gate()
    assert passing.exit_code == 0, explain(passing)
    measured = {
        v["name"]: v["current"]["value"] for v in softfactory.results()["verdicts"] if v["current"]
    }
    engine = create_engine(postgres_url)
    with engine.connect() as connection:
        limit = int(connection.exec_driver_sql("SHOW max_connections").scalar_one())
        reserved = int(
            connection.exec_driver_sql("SHOW superuser_reserved_connections").scalar_one()
        )
    engine.dispose()
    # One gunicorn worker with a pool of 20 + 40.
    assert measured["pool/postgres/connection_headroom"] == limit - reserved - (20 + 40)
    assert measured["pool/burst/peak_checkouts"] == 12
    assert not any(name.startswith("pool/sqlite/") for name in measured)

    small = softfactory.gate("small_pool")
    assert small.exit_code == 1, explain(small)
    failing = softfactory.failing()
    assert failing["pool/engine/size"] == "regression"
    assert "pool/engine/size" in small.stdout


@pytest.mark.postgres
def test_postgres_pool_larger_than_the_server(
    softfactory: SoftFactoryProject, postgres_url: str
) -> None:
    """Two workers x (20 + 40) connections do not fit a default max_connections of 100."""
    softfactory.configure(
        {"pool": {"burst": 0}},
        endpoints=ENDPOINTS,
        target_config={"SQLALCHEMY_DATABASE_URI": postgres_url},
        server={"workers": 2},
        extra={"baselines": {"required": False}},
    )
    gated = softfactory.gate()
    assert gated.exit_code == 1, explain(gated)
    assert softfactory.failing() == {"pool/engine/below_minimum": "budget_violation"}
    assert "2 workers × (20 + 40) = 120 connections" in gated.stdout
