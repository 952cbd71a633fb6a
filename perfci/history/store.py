"""The history store: record runs, list them, load them back, prune them.

Any SQLAlchemy URL works; the default is a SQLite file under ``.perfci/``.
Concurrent runs lose nothing: on SQLite every write is one ``BEGIN IMMEDIATE``
transaction in WAL mode with a busy timeout (writers queue, readers never
block), on PostgreSQL every write is one transaction. Every failure of the
database (unreachable, locked past the timeout, not a database, a schema from
a newer perfci) surfaces as one ``HistoryError`` with a one-line message.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import re
import sqlite3
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from sqlalchemy import (
    Connection,
    Engine,
    Row,
    create_engine,
    delete,
    event,
    func,
    select,
)
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.sql import Select

from perfci.errors import PerfciError
from perfci.files import dumps, loads, make_directory
from perfci.history import schema
from perfci.history.migrations import LATEST, SchemaTooNew, current_version, migrate
from perfci.measurement import Measurement
from perfci.result import RunResult
from perfci.verdict.model import Judgement, Outcome, Verdict

DEFAULT_PATH = Path(".perfci") / "history.db"
BUSY_TIMEOUT_S = 30.0  # how long a SQLite writer waits for another one before failing
CONNECT_TIMEOUT_S = 10  # PostgreSQL
_CHUNK = 500  # ids per IN (...) list


class HistoryError(PerfciError):
    """The history store cannot be opened, read or written."""


def default_url(root: Path) -> str:
    """``sqlite:///<root>/.perfci/history.db``."""
    return URL.create("sqlite", database=str((root / DEFAULT_PATH).resolve())).render_as_string()


def resolve_url(url: str | None, root: Path) -> str:
    """The configured URL, the default when empty; a relative SQLite path starts at ``root``."""
    if not url:
        return default_url(root)
    parsed = parse_url(url)
    database = parsed.database
    if parsed.get_backend_name() == "sqlite" and database and not _in_memory(database):
        path = Path(database)
        if not path.is_absolute():
            parsed = parsed.set(database=str((root / path).resolve()))
    return parsed.render_as_string(hide_password=False)


def parse_url(url: str) -> URL:
    """``make_url`` with every way it fails (a port that is not a number too) a HistoryError."""
    try:
        parsed = make_url(url)
        port = parsed.port
    except (ArgumentError, ValueError) as error:
        reason = _first_line(str(error)) or type(error).__name__
        raise HistoryError(f"{_hide_password(url)!r} is not a SQLAlchemy URL: {reason}") from None
    if port is not None and not 0 < port < 65536:
        raise HistoryError(f"{_hide_password(url)!r}: port {port} is out of range")
    return parsed


def _hide_password(url: str) -> str:
    return re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1***@", url)


def _in_memory(database: str) -> bool:
    return database == ":memory:" or database.startswith("file:")


@dataclass(frozen=True)
class RunSummary:
    """One line of ``perfci history``: a run without its measurements."""

    id: int
    uid: str
    suite: str
    started_at: str
    commit: str | None
    branch: str | None
    exit_code: int
    duration_s: float
    counts: Mapping[Outcome, int] = field(default_factory=dict)


@dataclass(frozen=True)
class StoredRun:
    """A run as stored: its id and uid in the store and the result itself."""

    id: int
    uid: str
    recorded_at: dt.datetime
    result: RunResult


class HistoryStore:
    """A connection to one history database. Use as a context manager, or call ``close``."""

    def __init__(self, url: str, *, busy_timeout_s: float = BUSY_TIMEOUT_S) -> None:
        self.url = url
        parsed = parse_url(url)
        self.display = parsed.render_as_string(hide_password=True)
        self._sqlite = parsed.get_backend_name() == "sqlite"
        with self._errors("open"):
            if self._sqlite:
                self._engine = self._sqlite_engine(parsed, busy_timeout_s)
            else:
                self._engine = create_engine(
                    parsed, pool_pre_ping=True, connect_args=_connect_args(parsed)
                )
        self._writer = self._engine.execution_options(perfci_write=True)
        self._migrated = False

    # -- lifecycle ----------------------------------------------------------

    def open(self) -> Self:
        """Create or migrate the schema (once per store object)."""
        if not self._migrated:
            with self._errors("open"):
                with self._engine.connect() as conn:
                    version = current_version(conn)
                if version != LATEST:  # only then take the write lock (migrate rechecks under it)
                    with self._writer.begin() as conn:
                        migrate(conn)
            self._migrated = True
        return self

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> Self:
        try:
            return self.open()
        except BaseException:
            self.close()
            raise

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- writing ------------------------------------------------------------

    def record(
        self,
        result: RunResult,
        *,
        uid: str | None = None,
        recorded_at: dt.datetime | None = None,
    ) -> int | None:
        """Store one run in one transaction; return its id, or None when ``uid`` is already here."""
        self.open()
        uid = uid or uuid.uuid4().hex
        recorded_at = recorded_at or dt.datetime.now(dt.UTC)
        with self._errors("record the run"), self._writer.begin() as conn:
            if conn.execute(select(schema.runs.c.id).where(schema.runs.c.uid == uid)).first():
                return None
            run_id = _insert_run(conn, result, uid, recorded_at)
        return run_id

    def prune(self, keep: int, *, suite: str | None = None) -> int:
        """Keep the newest ``keep`` runs of each suite (or of ``suite``); return how many went."""
        if keep < 0:
            raise ValueError("keep must be >= 0")
        self.open()
        runs = schema.runs
        with self._errors("prune"), self._writer.begin() as conn:
            every = select(runs.c.suite).distinct()
            suites = [suite] if suite else list(conn.execute(every).scalars())
            doomed: list[int] = []
            for name in suites:
                query = (
                    select(runs.c.id)
                    .where(runs.c.suite == name)
                    .order_by(runs.c.started.desc(), runs.c.id.desc())
                    .offset(keep)
                )
                doomed.extend(conn.execute(query).scalars())
            for chunk in _chunks(doomed):
                # Children first: SQLite enforces ON DELETE CASCADE only with a pragma.
                conn.execute(delete(schema.verdicts).where(schema.verdicts.c.run_id.in_(chunk)))
                conn.execute(
                    delete(schema.measurements).where(schema.measurements.c.run_id.in_(chunk))
                )
                conn.execute(delete(runs).where(runs.c.id.in_(chunk)))
        return len(doomed)

    # -- reading ------------------------------------------------------------

    def runs(self, *, suite: str | None = None, limit: int | None = None) -> list[RunSummary]:
        """Runs newest first, with their verdict counts."""
        self.open()
        query = _newest_first(suite, limit)
        with self._errors("list runs"), self._engine.connect() as conn:
            rows = list(conn.execute(query))
            counts = _counts(conn, [row.id for row in rows])
        return [
            RunSummary(
                id=row.id,
                uid=row.uid,
                suite=row.suite,
                started_at=row.started_at,
                commit=row.commit,
                branch=row.branch,
                exit_code=row.exit_code,
                duration_s=row.duration_s,
                counts=counts.get(row.id, {}),
            )
            for row in rows
        ]

    def suites(self) -> list[str]:
        self.open()
        with self._errors("list suites"), self._engine.connect() as conn:
            query = select(schema.runs.c.suite).distinct().order_by(schema.runs.c.suite)
            return list(conn.execute(query).scalars())

    def history(self, *, suite: str | None = None, limit: int | None = None) -> list[StoredRun]:
        """The newest ``limit`` runs (all when None) in full, oldest first: a trend's x axis."""
        self.open()
        query = _newest_first(suite, limit)
        with self._errors("read runs"), self._engine.connect() as conn:
            rows = list(conn.execute(query))
            rows.reverse()
            return _load(conn, rows)

    def get(self, run_id: int) -> StoredRun:
        self.open()
        with self._errors("read the run"), self._engine.connect() as conn:
            rows = list(conn.execute(select(schema.runs).where(schema.runs.c.id == run_id)))
            if not rows:
                raise HistoryError(f"history store {self.display}: no run with id {run_id}")
            return _load(conn, rows)[0]

    # -- internals ----------------------------------------------------------

    @contextlib.contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        """Turn any database failure into one HistoryError line naming the store."""
        try:
            yield
        except HistoryError:
            raise
        except SchemaTooNew as error:
            raise HistoryError(f"history store {self.display}: {error}") from None
        except SQLAlchemyError as error:
            reason = str(getattr(error, "orig", None) or error)
            raise HistoryError(
                f"history store {self.display}: cannot {action}: {_first_line(reason)}"
            ) from None
        except ImportError as error:  # the dialect's driver (MySQLdb, psycopg2) is not installed
            raise HistoryError(
                f"history store {self.display}: cannot {action}: its database driver is not "
                f"installed ({_first_line(str(error))})"
            ) from None
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise HistoryError(
                f"history store {self.display}: cannot {action}: "
                f"{_first_line(str(error)) or type(error).__name__}"
            ) from None

    @staticmethod
    def _sqlite_engine(url: URL, busy_timeout_s: float) -> Engine:
        database = url.database or ""
        if database and not _in_memory(database):
            make_directory(Path(database).parent)
        engine = create_engine(url, connect_args={"timeout": busy_timeout_s})

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
            # Let SQLAlchemy's "begin" event below issue BEGIN, not pysqlite's own
            # deferred one (the documented SQLAlchemy recipe for SQLite transactions).
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
                if database and not _in_memory(database):
                    _use_wal(cursor, busy_timeout_s)
                cursor.execute("PRAGMA foreign_keys = ON")
            finally:
                cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            # IMMEDIATE takes the write lock at BEGIN, so a writer waits its turn
            # (busy timeout) instead of failing when it upgrades a read lock.
            write = conn.get_execution_options().get("perfci_write", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        return engine


def _use_wal(cursor: Any, timeout_s: float) -> None:
    """Put the database file in WAL mode (once: the mode is stored in the file).

    Switching needs the file to itself, and SQLite answers a switch that
    races another connection's open with "database is locked" at once,
    without the busy handler (seen with six threads opening a new store).
    So: read the mode first (no lock needed), and retry the switch until
    ``timeout_s``.
    """
    deadline = time.monotonic() + timeout_s
    delay = 0.005
    while True:
        (mode,) = cursor.execute("PRAGMA journal_mode").fetchone()
        if str(mode).lower() == "wal":
            return
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() + delay > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.2)


def _connect_args(url: URL) -> dict[str, Any]:
    """A connect timeout for PostgreSQL, so an unreachable store fails in seconds, not minutes."""
    if (
        url.get_backend_name() == "postgresql"
        and url.get_driver_name() in ("psycopg", "psycopg2")
        and "connect_timeout" not in url.query
    ):
        return {"connect_timeout": CONNECT_TIMEOUT_S}
    return {}


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0].strip() if text.strip() else ""


def _chunks(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def _dumps(value: Any) -> str:
    return dumps(value, indent=None, sort_keys=True)


def _loads(text: str | None) -> Any:
    return None if text is None else loads(text)


def _utc(moment: dt.datetime) -> dt.datetime:
    """SQLite hands datetimes back naive: they were stored as UTC."""
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def _parse_started(started_at: str, fallback: dt.datetime) -> dt.datetime:
    try:
        return _utc(dt.datetime.fromisoformat(started_at))
    except ValueError:
        return fallback


def _insert_run(conn: Connection, result: RunResult, uid: str, recorded_at: dt.datetime) -> int:
    recorded_at = _utc(recorded_at)
    inserted = conn.execute(
        schema.runs.insert().values(
            uid=uid,
            suite=result.suite,
            started_at=result.started_at,
            started=_parse_started(result.started_at, recorded_at),
            recorded_at=recorded_at,
            duration_s=result.duration_s,
            exit_code=result.exit_code,
            commit=result.commit,
            branch=result.branch,
            baseline_path=result.baseline_path,
            environment=_dumps(dict(result.environment)),
            checks=_dumps(list(result.checks)),
            skipped_checks=_dumps(list(result.skipped_checks)),
            unmatched_rules=_dumps(list(result.judgement.unmatched_rules)),
        )
    )
    key = inserted.inserted_primary_key
    if key is None:  # every backend perfci supports returns the new id
        raise RuntimeError("the database returned no id for the new run")
    run_id = int(key[0])
    own = {m.name: m for m in result.measurements}
    if result.measurements:
        conn.execute(
            schema.measurements.insert(),
            [_measurement_row(run_id, i, m) for i, m in enumerate(result.measurements)],
        )
    if result.verdicts:
        conn.execute(
            schema.verdicts.insert(),
            [_verdict_row(run_id, i, v, own) for i, v in enumerate(result.verdicts)],
        )
    return run_id


def _measurement_row(run_id: int, position: int, m: Measurement) -> dict[str, Any]:
    text = isinstance(m.value, str)
    return {
        "run_id": run_id,
        "position": position,
        "name": m.name,
        "value_number": None if text else float(m.value),
        "value_text": m.value if text else None,
        "unit": m.unit,
        "direction": m.direction.value,
        "kind": m.kind.value,
        "samples": _dumps(list(m.samples)),
        "calibration": _dumps(list(m.calibration)),
        "evidence": _dumps([e.to_dict() for e in m.evidence]),
        "environment": _dumps(dict(m.environment)) if m.environment else None,
    }


def _verdict_row(
    run_id: int, position: int, v: Verdict, own: Mapping[str, Measurement]
) -> dict[str, Any]:
    mine = v.current is not None and own.get(v.name) == v.current
    return {
        "run_id": run_id,
        "position": position,
        "name": v.name,
        "outcome": v.outcome.value,
        "mode": v.mode.value,
        "reason": v.reason,
        "current": None if mine or v.current is None else _dumps(v.current.to_dict()),
        "has_current": int(v.current is not None),
        "baseline": None if v.baseline is None else _dumps(v.baseline.to_dict()),
        "change": _dumps(v.change),
        "threshold": _dumps(v.threshold),
        "p_value": _dumps(v.p_value),
        "budget": _dumps(v.budget.to_dict() if v.budget else None),
        "acknowledged": _dumps(v.acknowledged.to_dict() if v.acknowledged else None),
        "notes": _dumps(list(v.notes)),
    }


def _newest_first(suite: str | None, limit: int | None) -> Select[Any]:
    """Runs newest first, of one suite or all, at most ``limit`` of them."""
    runs = schema.runs
    query = select(runs).order_by(runs.c.started.desc(), runs.c.id.desc())
    if suite:
        query = query.where(runs.c.suite == suite)
    if limit is not None:
        query = query.limit(limit)
    return query


def _counts(conn: Connection, run_ids: Sequence[int]) -> dict[int, dict[Outcome, int]]:
    verdicts = schema.verdicts
    counts: dict[int, dict[Outcome, int]] = {}
    for chunk in _chunks(run_ids):
        query = (
            select(verdicts.c.run_id, verdicts.c.outcome, func.count())
            .where(verdicts.c.run_id.in_(chunk))
            .group_by(verdicts.c.run_id, verdicts.c.outcome)
        )
        for run_id, outcome, n in conn.execute(query):
            counts.setdefault(run_id, {})[Outcome(outcome)] = int(n)
    return counts


def _load(conn: Connection, rows: Sequence[Row[Any]]) -> list[StoredRun]:
    ids = [row.id for row in rows]
    measured: dict[int, list[Measurement]] = {i: [] for i in ids}
    judged: dict[int, list[Any]] = {i: [] for i in ids}
    for chunk in _chunks(ids):
        table = schema.measurements
        query = select(table).where(table.c.run_id.in_(chunk)).order_by(table.c.position)
        for m in conn.execute(query):
            measured[m.run_id].append(_measurement(m))
        table = schema.verdicts
        query = select(table).where(table.c.run_id.in_(chunk)).order_by(table.c.position)
        for v in conn.execute(query):
            judged[v.run_id].append(v)
    stored = []
    for row in rows:
        own = {m.name: m for m in measured[row.id]}
        result = RunResult(
            suite=row.suite,
            measurements=tuple(measured[row.id]),
            judgement=Judgement(
                verdicts=tuple(_verdict(v, own) for v in judged[row.id]),
                unmatched_rules=tuple(_loads(row.unmatched_rules)),
            ),
            exit_code=row.exit_code,
            started_at=row.started_at,
            duration_s=row.duration_s,
            commit=row.commit,
            branch=row.branch,
            environment=dict(_loads(row.environment)),
            baseline_path=row.baseline_path,
            checks=tuple(_loads(row.checks)),
            skipped_checks=tuple(_loads(row.skipped_checks)),
        )
        stored.append(StoredRun(row.id, row.uid, _utc(row.recorded_at), result))
    return stored


def _measurement(row: Row[Any]) -> Measurement:
    """The row as the one results decoder reads it (``Measurement.from_dict``)."""
    value: Any = row.value_text
    if value is None:
        value = "NaN" if row.value_number is None else float(row.value_number)
    return Measurement.from_dict(
        {
            "name": row.name,
            "value": value,
            "unit": row.unit,
            "direction": row.direction,
            "kind": row.kind,
            "samples": _loads(row.samples),
            "evidence": _loads(row.evidence),
            "calibration": _loads(row.calibration),
            "environment": _loads(row.environment) if row.environment else {},
        }
    )


def _verdict(row: Row[Any], own: Mapping[str, Measurement]) -> Verdict:
    """The row as the one results decoder reads it (``Verdict.from_dict``)."""
    verdict = Verdict.from_dict(
        {
            "name": row.name,
            "outcome": row.outcome,
            "mode": row.mode,
            "reason": row.reason,
            "current": _loads(row.current),
            "baseline": _loads(row.baseline),
            "change": _loads(row.change),
            "threshold": _loads(row.threshold),
            "p_value": _loads(row.p_value),
            "budget": _loads(row.budget),
            "acknowledged": _loads(row.acknowledged),
            "notes": _loads(row.notes),
        }
    )
    if row.current is None and row.has_current:
        verdict = dataclasses.replace(verdict, current=own.get(row.name))
    return verdict
