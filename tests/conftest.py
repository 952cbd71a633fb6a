"""Fixtures shared by the whole suite: the real PostgreSQL, MariaDB and Redis services.

On a developer's machine without the services those tests are skipped; in CI
(``PERFCI_REQUIRE_SERVICES=1``, set by .ci/run) a missing service fails them.
"""

from __future__ import annotations

import os
import signal
import uuid
from collections.abc import Iterator

import pytest

POSTGRES_URL = os.environ.get(
    "PERFCI_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
MARIADB_URL = os.environ.get(
    "PERFCI_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/test?charset=utf8mb4"
)
REDIS_URL = os.environ.get("PERFCI_REDIS_URL", "redis://127.0.0.1:6379/0")


def _service_missing(what: str, error: Exception) -> None:
    message = f"{what} is not reachable ({type(error).__name__}: {error})"
    if os.environ.get("PERFCI_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{message}; PERFCI_REQUIRE_SERVICES=1 makes this a failure")
    pytest.skip(message)


def _fresh_database(url: str, what: str, create: str, drop: str) -> Iterator[str]:
    """Create a uniquely named database on the server at ``url``, yield its URL, drop it.

    ``create`` and ``drop`` are statements with a ``{name}`` placeholder.
    """
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin_url = make_url(url)
    try:
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as error:  # any connection failure means "service missing"
        _service_missing(f"{what} at {admin_url.render_as_string(hide_password=True)}", error)
    name = f"perfci_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(create.format(name=name)))
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(drop.format(name=name)))
        admin.dispose()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """The URL of a fresh, empty PostgreSQL database, dropped after the test."""
    yield from _fresh_database(
        POSTGRES_URL,
        "PostgreSQL",
        'CREATE DATABASE "{name}"',
        'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
    )


@pytest.fixture
def mariadb_url() -> Iterator[str]:
    """The URL of a fresh, empty MariaDB (or MySQL) database, dropped after the test."""
    yield from _fresh_database(
        MARIADB_URL,
        "MariaDB",
        "CREATE DATABASE `{name}` CHARACTER SET utf8mb4",
        "DROP DATABASE IF EXISTS `{name}`",
    )


@pytest.fixture
def redis_url() -> str:
    """The URL of the Redis server; each test should use its own key prefix."""
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except Exception as error:  # any connection failure means "service missing"
        _service_missing(f"Redis at {REDIS_URL}", error)
    finally:
        client.close()
    return REDIS_URL


@pytest.fixture
def unique_prefix() -> str:
    """A key prefix no other test uses (for Redis caches)."""
    return f"perfci-test-{uuid.uuid4().hex[:8]}:"


def pytest_configure(config: pytest.Config) -> None:
    """Ctrl-C is an interrupt here whatever the caller did: a shell that starts the suite in
    the background (``.ci/run &``) ignores SIGINT, every child inherits that, and the tests
    that press Ctrl-C on perfci, its workers and gunicorn would see nothing happen."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
