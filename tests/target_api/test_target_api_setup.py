"""Configuration, seeding, the index migration and the gunicorn configuration."""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
from flask import Flask
from sqlalchemy import inspect, select
from sqlalchemy.pool import QueuePool

from target_api import create_app, db, migrations
from target_api.config import DEFAULT_API_TOKEN, normalize_database_url
from target_api.models import Base
from target_api.seed import BASE_COUNTS, main, scaled_counts, seed_database

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgres://u@h/d", "postgresql+psycopg://u@h/d"),
        ("postgresql://u@h/d", "postgresql+psycopg://u@h/d"),
        ("postgresql+psycopg://u@h/d", "postgresql+psycopg://u@h/d"),
        ("sqlite:///x.db", "sqlite:///x.db"),
    ],
)
def test_database_urls_are_normalised(url: str, expected: str) -> None:
    assert normalize_database_url(url) == expected


def test_config_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    default = create_app()
    assert default.config["SQLALCHEMY_DATABASE_URI"].endswith("/softfactory.db")
    assert default.config["API_TOKEN"] == DEFAULT_API_TOKEN
    assert default.config["CACHE_TYPE"] == "SimpleCache"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/env.db")
    monkeypatch.setenv("API_TOKEN", "from-env")
    monkeypatch.setenv("PERFCI_SLOW_CPU_MS", "12.5")
    from_env = create_app()
    assert from_env.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/env.db"
    assert from_env.config["API_TOKEN"] == "from-env"
    assert from_env.config["SLOW_CPU_MS"] == 12.5
    overridden = create_app({"API_TOKEN": "from-config"})
    assert overridden.config["API_TOKEN"] == "from-config"
    with pytest.raises(ValueError, match="SLOW_CPU_MS"):
        create_app({"SLOW_CPU_MS": "fast"})


def test_redis_cache_when_url_set(tmp_path: Path, redis_url: str, unique_prefix: str) -> None:
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/r.db",
            "CACHE_REDIS_URL": redis_url,
            "CACHE_KEY_PREFIX": unique_prefix,
        }
    )
    assert app.config["CACHE_TYPE"] == "RedisCache"


def table_digest(app: Flask) -> str:
    digest = hashlib.sha256()
    with app.app_context(), db.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            for row in connection.execute(select(table).order_by(*table.primary_key)):
                digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


def test_seed_is_deterministic(make_app: Callable[..., Flask]) -> None:
    app = make_app(seed=False)
    counts = seed_database(app, 0.02)
    assert counts == {**scaled_counts(0.02), "products": 12}
    first = table_digest(app)
    assert seed_database(app, 0.02) == counts
    assert table_digest(app) == first
    seed_database(app, 0.03)
    assert table_digest(app) != first


def test_default_scale_is_production_sized() -> None:
    assert BASE_COUNTS["chefs"] >= 1000
    assert BASE_COUNTS["bookings"] >= 10_000
    with pytest.raises(ValueError, match="scale"):
        scaled_counts(0)


def index_names(app: Flask) -> set[str]:
    with app.app_context():
        inspector = inspect(db.engine)
        return {
            str(index["name"])
            for table in inspector.get_table_names()
            for index in inspector.get_indexes(table)
        }


def test_migration_adds_missing_indexes_idempotently(make_app: Callable[..., Flask]) -> None:
    bare = make_app(FAULTS="missing_indexes")
    declared = {
        str(index.name) for table in Base.metadata.tables.values() for index in table.indexes
    }
    assert not declared & index_names(bare)
    with bare.app_context():
        assert set(migrations.apply(db.engine)) == declared
        assert migrations.apply(db.engine) == []
    assert declared <= index_names(bare)


def test_seed_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path}/cli.db"
    assert main(["--scale", "0.02", "--database-url", url]) == 0
    assert "chefs=40" in capsys.readouterr().out
    assert migrations.main(["--database-url", url]) == 0
    assert "created 0 object(s)" in capsys.readouterr().out


def test_flask_seed_command(tmp_path: Path) -> None:
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/flask.db"})
    result = app.test_cli_runner().invoke(args=["seed", "--scale", "0.02"])
    assert result.exit_code == 0, result.output
    assert "bookings=800" in result.output


def test_post_fork_disposes_inherited_connections(
    make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    import runpy
    import weakref

    from target_api import db_tuning

    settings = runpy.run_path(str(REPO / "target_api" / "gunicorn_conf.py"))
    assert settings["workers"] >= 1
    assert settings["preload_app"] is True
    assert settings["max_requests_jitter"] > 0
    app = make_app(seed=False)
    with app.app_context():
        # Only this app's engine: other tests' live pools must not be touched.
        monkeypatch.setattr(db_tuning, "_engines", weakref.WeakSet([db.engine]))
        pooled = db.engine.raw_connection()
        driver_connection = pooled.dbapi_connection
        pooled.close()  # back into the pool, still open
        assert _checked_in() == 1
        settings["post_fork"](None, None)
        assert _checked_in() == 0  # the engine's pool now (disposing replaces it)
    # In a forked worker the parent still owns it; here the test is the parent.
    assert driver_connection is not None
    driver_connection.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.slow
def test_under_gunicorn_writes_are_seen_by_every_worker(tmp_path: Path) -> None:
    """Two workers with separate in-process caches: a write through one is fresh in both."""
    url = f"sqlite:///{tmp_path}/served.db"
    assert main(["--scale", "0.02", "--database-url", url]) == 0
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "API_TOKEN": "served-token"}
    env.pop("PERFCI_FAULTS", None)
    command = [
        sys.executable, "-m", "gunicorn", "-c", "target_api/gunicorn_conf.py",
        "--bind", f"127.0.0.1:{port}", "--workers", "2", "--threads", "2",
        "--keep-alive", "0", "target_api:create_app()",
    ]  # fmt: skip
    server = subprocess.Popen(
        command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if requests.get(base + "/health", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.05)
        chefs_url = base + "/api/coocook/chefs"
        chef = requests.get(chefs_url, timeout=5).json()["chefs"][0]
        # Warm both workers' caches (new connection per request: the kernel spreads them).
        for _ in range(10):
            requests.get(chefs_url, timeout=5)
        created = requests.post(
            base + "/api/coocook/bookings",
            json={"chef_id": chef["id"], "user_id": 1, "booking_date": "2026-02-02"},
            headers={"Authorization": "Bearer served-token"},
            timeout=5,
        )
        assert created.status_code == 201
        counts = {
            requests.get(chefs_url, timeout=5).json()["chefs"][0]["booking_count"]
            for _ in range(10)
        }
        assert counts == {chef["booking_count"] + 1}
        assert requests.get(base + "/api/coocook/chefs?per_page=x", timeout=5).status_code == 400
    finally:
        server.terminate()
        _, stderr = server.communicate(timeout=30)
    assert b"Traceback" not in stderr


def _checked_in() -> int:
    pool = db.engine.pool
    assert isinstance(pool, QueuePool)
    return pool.checkedin()
