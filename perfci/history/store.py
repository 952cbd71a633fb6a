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
import hmac
import json
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
    and_,
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
from perfci.measurement import MEDIAN, Measurement
from perfci.result import STATUSES, RunResult, status_of, unmeasured
from perfci.verdict.model import Judgement, Outcome, Verdict

DEFAULT_PATH = Path(".perfci") / "history.db"
BUSY_TIMEOUT_S = 30.0  # how long a SQLite writer waits for another one before failing
CONNECT_TIMEOUT_S = 10  # PostgreSQL
_CHUNK = 500  # ids per IN (...) list
BASELINE_SCAN = 200  # candidates a baseline that must have measured given checks is sought in


class HistoryError(PerfciError):
    """The history store cannot be opened, read or written."""


class NoSuchProject(HistoryError):
    """No ``perfci server`` project has that name."""


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
    upload: Upload | None = None  # what perfci server was told about it (None: local run)
    recorded_at: dt.datetime | None = None

    @property
    def status(self) -> str:
        """``passed`` (exit 0), ``failed`` (1) or ``error`` (anything else)."""
        return status_of(self.exit_code)


@dataclass(frozen=True)
class Upload:
    """A run's facts beyond its results, given by the uploader to ``perfci server``."""

    project_id: int
    pr: int | None = None
    ci_url: str | None = None
    committed_at: dt.datetime | None = None  # the commit's own time (baselines by commit)


@dataclass(frozen=True)
class StoredRun:
    """A run as stored: its id and uid in the store and the result itself."""

    id: int
    uid: str
    recorded_at: dt.datetime
    result: RunResult
    upload: Upload | None = None


@dataclass(frozen=True)
class Project:
    """A ``perfci server`` project: runs uploaded with one of its tokens."""

    id: int
    name: str
    public: bool
    default_branch: str
    created_at: dt.datetime


@dataclass(frozen=True)
class TokenInfo:
    """A token as listed: never the token itself (only its digest is stored)."""

    id: int
    project: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None
    read_only: bool = False


@dataclass(frozen=True)
class TokenGrant:
    """What a valid token gives: its project, and whether only to read."""

    project_id: int
    read_only: bool


@dataclass(frozen=True)
class TrendPoint:
    """One run's value of one metric (``value`` is None for a text fact)."""

    run_id: int
    started_at: str
    commit: str | None
    branch: str | None
    exit_code: int
    value: float | None
    unit: str
    direction: str = "lower"  # the measurement's direction slug: lower, higher, equal
    # The metric's verdict in that run, when it was judged: outcome slug and numbers.
    outcome: str | None = None
    baseline: float | None = None
    threshold: float | None = None
    change: float | None = None

    @property
    def status(self) -> str:
        return status_of(self.exit_code)


def _stored_number(text: str | None, key: str | None = None) -> float | None:
    """A number stored as JSON (``key`` of a stored object): None for null, text, NaN."""
    if not text:
        return None
    try:
        value = loads(text)
    except ValueError:
        return None
    if key is not None:
        value = value.get(key) if isinstance(value, dict) else None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


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
        upload: Upload | None = None,
    ) -> int | None:
        """Store one run in one transaction; return its id, or None when ``uid`` is already here.

        ``upload`` files the run under a ``perfci server`` project.
        """
        self.open()
        uid = uid or uuid.uuid4().hex
        recorded_at = recorded_at or dt.datetime.now(dt.UTC)
        with self._errors("record the run"), self._writer.begin() as conn:
            if conn.execute(select(schema.runs.c.id).where(schema.runs.c.uid == uid)).first():
                return None
            run_id = _insert_run(conn, result, uid, recorded_at, upload)
        return run_id

    def record_many(
        self, runs: Sequence[tuple[RunResult, Upload | None]], *, recorded_at: dt.datetime
    ) -> list[int]:
        """Store many runs in one transaction (a bulk load: benchmarks, imports); their ids.

        Every run gets a new uid; ``recorded_at`` (UTC) is the time of each.
        """
        self.open()
        with self._errors("record the runs"), self._writer.begin() as conn:
            return [
                _insert_run(conn, result, uuid.uuid4().hex, recorded_at, upload)
                for result, upload in runs
            ]

    @property
    def engine(self) -> Engine:
        """The store's SQLAlchemy engine (for tools that watch its SQL: perfci gating itself)."""
        return self._engine

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
            return _summaries(conn, list(conn.execute(query)))

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

    # -- perfci server: projects and tokens ----------------------------------

    def create_project(
        self, name: str, digest: str, *, public: bool = False, default_branch: str = "main"
    ) -> Project:
        """A new project with its first token (``digest``: SHA-256 hex); HistoryError if taken."""
        self.open()
        now = dt.datetime.now(dt.UTC)
        with self._errors("create the project"), self._writer.begin() as conn:
            table = schema.projects
            if conn.execute(select(table.c.id).where(table.c.name == name)).first():
                raise HistoryError(f"history store {self.display}: project {name!r} exists")
            inserted = conn.execute(
                table.insert().values(
                    name=name, public=int(public), default_branch=default_branch, created_at=now
                )
            )
            project_id = int(_key(inserted.inserted_primary_key))
            conn.execute(
                schema.tokens.insert().values(project_id=project_id, digest=digest, created_at=now)
            )
        return Project(project_id, name, public, default_branch, now)

    def projects(self) -> list[Project]:
        """Every project, by name."""
        self.open()
        with self._errors("list projects"), self._engine.connect() as conn:
            rows = conn.execute(select(schema.projects).order_by(schema.projects.c.name))
            return [_project(row) for row in rows]

    def project(self, name: str) -> Project:
        """The project called ``name``; HistoryError when there is none."""
        self.open()
        with self._errors("read the project"), self._engine.connect() as conn:
            row = conn.execute(
                select(schema.projects).where(schema.projects.c.name == name)
            ).first()
        if row is None:
            raise NoSuchProject(f"history store {self.display}: no project {name!r}")
        return _project(row)

    def add_token(self, project: str, digest: str, *, read_only: bool = False) -> TokenInfo:
        """Store one more token of ``project`` (its SHA-256 hex digest); a ``read_only`` one
        reads a private project and never writes."""
        found = self.project(project)
        now = dt.datetime.now(dt.UTC)
        with self._errors("add a token"), self._writer.begin() as conn:
            inserted = conn.execute(
                schema.tokens.insert().values(
                    project_id=found.id, digest=digest, created_at=now, read_only=int(read_only)
                )
            )
        return TokenInfo(int(_key(inserted.inserted_primary_key)), project, now, None, read_only)

    def tokens(self, project: str) -> list[TokenInfo]:
        """The tokens of ``project`` (revoked ones too), oldest first."""
        found = self.project(project)
        table = schema.tokens
        with self._errors("list tokens"), self._engine.connect() as conn:
            rows = conn.execute(
                select(table).where(table.c.project_id == found.id).order_by(table.c.id)
            )
            return [
                TokenInfo(
                    row.id,
                    project,
                    _utc(row.created_at),
                    None if row.revoked_at is None else _utc(row.revoked_at),
                    bool(row.read_only),
                )
                for row in rows
            ]

    def revoke_token(self, project: str, token_id: int) -> bool:
        """Revoke token ``token_id`` of ``project``; False when it has no such valid token."""
        found = self.project(project)
        table = schema.tokens
        with self._errors("revoke the token"), self._writer.begin() as conn:
            done = conn.execute(
                table.update()
                .where(
                    table.c.id == token_id,
                    table.c.project_id == found.id,
                    table.c.revoked_at.is_(None),
                )
                .values(revoked_at=dt.datetime.now(dt.UTC))
            )
        return bool(done.rowcount)

    def token_project(self, digest: str) -> int | None:
        """The id of the project whose valid token has this digest, else None."""
        grant = self.token_grant(digest)
        return None if grant is None else grant.project_id

    def token_grant(self, digest: str) -> TokenGrant | None:
        """The project and scope of the valid token with this digest, else None.

        The row is found by the digest (an index lookup reveals nothing of the
        token) and the digests are compared again in constant time.
        """
        self.open()
        table = schema.tokens
        with self._errors("check the token"), self._engine.connect() as conn:
            row = conn.execute(
                select(table.c.project_id, table.c.digest, table.c.read_only).where(
                    table.c.digest == digest, table.c.revoked_at.is_(None)
                )
            ).first()
        if row is None or not hmac.compare_digest(str(row.digest), digest):
            return None
        return TokenGrant(int(row.project_id), bool(row.read_only))

    # -- perfci server: a project's runs ------------------------------------

    def newest_runs(self, names: Sequence[str]) -> dict[str, RunSummary]:
        """The newest run on each named project's default branch, by project name (absent:
        none yet), in three queries whatever the number of projects (the projects page)."""
        self.open()
        if not names:
            return {}
        runs, projects = schema.runs, schema.projects
        newest = (
            select(func.max(runs.c.id))
            .where(runs.c.project_id == projects.c.id, runs.c.branch == projects.c.default_branch)
            .scalar_subquery()
        )
        query = select(projects.c.name, newest).where(projects.c.name.in_(list(names)))
        with self._errors("list runs"), self._engine.connect() as conn:
            found = {run_id: name for name, run_id in conn.execute(query) if run_id is not None}
            rows = list(conn.execute(select(runs).where(runs.c.id.in_(found)))) if found else []
            return {found[s.id]: s for s in _summaries(conn, rows)}

    def token_project_name(self, digest: str) -> str | None:
        """The name of the project whose valid token has this digest, else None (one query,
        the digests compared again in constant time, as ``token_project``)."""
        self.open()
        tokens, projects = schema.tokens, schema.projects
        query = (
            select(projects.c.name, tokens.c.digest)
            .join(projects, projects.c.id == tokens.c.project_id)
            .where(tokens.c.digest == digest, tokens.c.revoked_at.is_(None))
        )
        with self._errors("check the token"), self._engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None or not hmac.compare_digest(str(row.digest), digest):
            return None
        return str(row.name)

    def project_runs(
        self,
        project_id: int,
        *,
        branch: str | None = None,
        status: str | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        before: int | None = None,
        limit: int = 50,
        pr: int | None = None,
    ) -> list[RunSummary]:
        """A project's runs, newest upload first; ``before`` (a run id) is the keyset cursor.

        ``since``/``until`` bound the run's start (UTC); ``status`` is one of ``STATUSES``;
        ``pr`` keeps the runs uploaded for that pull request.
        """
        self.open()
        query = _project_query(project_id, branch=branch, status=status)
        runs = schema.runs
        if pr is not None:
            query = query.where(runs.c.pr == pr)
        if since is not None:
            query = query.where(runs.c.started >= _utc(since))
        if until is not None:
            query = query.where(runs.c.started < _utc(until))
        if before is not None:
            query = query.where(runs.c.id < before)
        query = query.order_by(runs.c.id.desc()).limit(limit)
        with self._errors("list runs"), self._engine.connect() as conn:
            return _summaries(conn, list(conn.execute(query)))

    def project_history(
        self, project_id: int, *, branch: str | None, before: int, limit: int
    ) -> list[StoredRun]:
        """Up to ``limit`` runs of ``branch`` uploaded before run ``before``, in full, oldest
        first (a run page's trends), in one query per table."""
        self.open()
        runs = schema.runs
        query = (
            _project_query(project_id, branch=branch)
            .where(runs.c.id < before)
            .order_by(runs.c.id.desc())
            .limit(limit)
        )
        with self._errors("read runs"), self._engine.connect() as conn:
            rows = list(conn.execute(query))
            rows.reverse()
            return _load(conn, rows)

    def project_run(self, project_id: int, run_id: int) -> StoredRun | None:
        """Run ``run_id`` if it belongs to the project, else None."""
        self.open()
        query = select(schema.runs).where(
            schema.runs.c.id == run_id, schema.runs.c.project_id == project_id
        )
        with self._errors("read the run"), self._engine.connect() as conn:
            rows = list(conn.execute(query))
            return _load(conn, rows)[0] if rows else None

    def baseline_run(
        self,
        project: Project,
        *,
        branch: str | None = None,
        commit: str | None = None,
        suite: str | None = None,
        checks: Sequence[str] = (),
    ) -> StoredRun | None:
        """The run to compare with: the newest passing run on ``branch``, or for ``commit``
        the newest passing run of the default branch at or before it. Runs uploaded
        with a pull request number are never baselines.

        "At or before" orders by the commit's time (given at upload): the runs
        of ``commit`` itself when there are any, else runs of commits no newer
        than the newest time recorded for it. With ``suite``, only that suite's
        runs qualify; with ``checks``, only runs that measured every one of them
        (``result.unmeasured``), looked for among the newest ``BASELINE_SCAN``
        candidates (a run's check lists are JSON, filtered here). None when
        nothing qualifies.
        """
        self.open()
        runs = schema.runs
        # A pull request's run is never a branch's baseline, whatever branch it claims.
        query = _project_query(project.id, status="passed").where(runs.c.pr.is_(None))
        if suite is not None:
            query = query.where(runs.c.suite == suite)
        with self._errors("find the baseline"), self._engine.connect() as conn:
            if commit is None:
                query = query.where(runs.c.branch == (branch or project.default_branch))
                return _first_measuring(conn, query.order_by(runs.c.id.desc()), checks)
            query = query.where(runs.c.branch == project.default_branch)
            moment = conn.execute(
                select(func.max(runs.c.committed_at)).where(
                    runs.c.project_id == project.id, runs.c.commit == commit
                )
            ).scalar()
            own = query.where(runs.c.commit == commit).order_by(runs.c.id.desc())
            found = _first_measuring(conn, own, checks)
            if found is not None or moment is None:
                return found
            earlier = query.where(runs.c.committed_at <= moment).order_by(
                runs.c.committed_at.desc(), runs.c.id.desc()
            )
            return _first_measuring(conn, earlier, checks)

    def trend(
        self, project_id: int, metric: str, *, branch: str | None = None, limit: int = 100
    ) -> list[TrendPoint]:
        """The newest ``limit`` values of ``metric`` in a project's runs (of ``branch``),
        oldest first."""
        self.open()
        runs, table, judged = schema.runs, schema.measurements, schema.verdicts
        query = (
            select(
                runs.c.id,
                runs.c.started_at,
                runs.c.commit,
                runs.c.branch,
                runs.c.exit_code,
                table.c.value_number,
                table.c.unit,
                table.c.direction,
                judged.c.outcome,
                judged.c.baseline,
                judged.c.threshold,
                judged.c.change,
            )
            .join(table, table.c.run_id == runs.c.id)
            .outerjoin(judged, and_(judged.c.run_id == runs.c.id, judged.c.name == metric))
            .where(runs.c.project_id == project_id, table.c.name == metric)
            # The measurement's run_id, not runs.id: the same value, but only this order
            # is the (name, run_id) index's, so SQLite walks it backwards and stops at
            # ``limit`` instead of sorting every run's value of the metric (a temp b-tree).
            .order_by(table.c.run_id.desc())
            .limit(limit)
        )
        if branch:
            query = query.where(runs.c.branch == branch)
        with self._errors("read the trend"), self._engine.connect() as conn:
            rows = list(conn.execute(query))
        rows.reverse()
        return [
            TrendPoint(
                run_id=row.id,
                started_at=row.started_at,
                commit=row.commit,
                branch=row.branch,
                exit_code=row.exit_code,
                value=row.value_number,
                unit=row.unit,
                direction=row.direction,
                outcome=row.outcome,
                baseline=_stored_number(row.baseline, "value"),
                threshold=_stored_number(row.threshold),
                change=_stored_number(row.change),
            )
            for row in rows
        ]

    def project_branches(self, project_id: int) -> list[str]:
        """The branches a project's runs were uploaded from, sorted."""
        self.open()
        runs = schema.runs
        query = (
            select(runs.c.branch)
            .where(runs.c.project_id == project_id, runs.c.branch.is_not(None))
            .distinct()
            .order_by(runs.c.branch)
        )
        with self._errors("list branches"), self._engine.connect() as conn:
            return [str(branch) for branch in conn.execute(query).scalars()]

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
    """A column the store wrote itself (``_dumps``, after the results were validated):
    the standard decoder, without the strict one's walks for hostile input, which took
    half the time to read a stored run back."""
    return None if text is None else json.loads(text)


def _utc(moment: dt.datetime) -> dt.datetime:
    """SQLite hands datetimes back naive: they were stored as UTC."""
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def _parse_started(started_at: str, fallback: dt.datetime) -> dt.datetime:
    try:
        return _utc(dt.datetime.fromisoformat(started_at))
    except ValueError:
        return fallback


def _insert_run(
    conn: Connection,
    result: RunResult,
    uid: str,
    recorded_at: dt.datetime,
    upload: Upload | None = None,
) -> int:
    recorded_at = _utc(recorded_at)
    uploaded: dict[str, Any] = {}
    if upload is not None:
        uploaded = {
            "project_id": upload.project_id,
            "pr": upload.pr,
            "ci_url": upload.ci_url,
            "committed_at": None if upload.committed_at is None else _utc(upload.committed_at),
        }
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
            **uploaded,
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
        "statistic": m.statistic,
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


def _key(key: Any) -> int:
    if key is None:  # every backend perfci supports returns the new id
        raise RuntimeError("the database returned no id for the new row")
    return int(key[0])


def _project(row: Row[Any]) -> Project:
    return Project(row.id, row.name, bool(row.public), row.default_branch, _utc(row.created_at))


def _project_query(
    project_id: int, *, branch: str | None = None, status: str | None = None
) -> Select[Any]:
    runs = schema.runs
    query = select(runs).where(runs.c.project_id == project_id)
    if branch is not None:
        query = query.where(runs.c.branch == branch)
    if status == "passed":
        query = query.where(runs.c.exit_code == 0)
    elif status == "failed":
        query = query.where(runs.c.exit_code == 1)
    elif status == "error":
        query = query.where(runs.c.exit_code.not_in((0, 1)))
    elif status is not None:
        raise ValueError(f"status is one of {', '.join(STATUSES)}, not {status!r}")
    return query


def _summaries(conn: Connection, rows: Sequence[Row[Any]]) -> list[RunSummary]:
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
            upload=_upload(row),
            recorded_at=_utc(row.recorded_at),
        )
        for row in rows
    ]


def _first_measuring(
    conn: Connection, query: Select[Any], checks: Sequence[str]
) -> StoredRun | None:
    """The first run of the ordered ``query`` that measured every one of ``checks``,
    among its first ``BASELINE_SCAN`` rows (only their check lists are read), in full."""
    runs = schema.runs
    if checks:
        candidates = query.with_only_columns(runs.c.id, runs.c.checks, runs.c.skipped_checks).limit(
            BASELINE_SCAN
        )
        found = next(
            (
                row.id
                for row in conn.execute(candidates)
                if not unmeasured(checks, _loads(row.checks), _loads(row.skipped_checks))
            ),
            None,
        )
        if found is None:
            return None
        query = select(runs).where(runs.c.id == found)
    rows = list(conn.execute(query.limit(1)))
    return _load(conn, rows)[0] if rows else None


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
        stored.append(StoredRun(row.id, row.uid, _utc(row.recorded_at), result, _upload(row)))
    return stored


def _upload(row: Row[Any]) -> Upload | None:
    if row.project_id is None:
        return None
    committed = row.committed_at
    return Upload(
        project_id=row.project_id,
        pr=row.pr,
        ci_url=row.ci_url,
        committed_at=None if committed is None else _utc(committed),
    )


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
            "statistic": row.statistic or MEDIAN,
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
