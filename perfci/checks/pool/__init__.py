"""The built-in 'pool' check: the live connection pool, under a burst, per dialect.

Settings are read from the engine the target actually built
(``type(engine.pool)``, ``pool.size()``...), never from its configuration, so
an override anywhere (app factory, environment, ``SQLALCHEMY_ENGINE_OPTIONS``)
is seen. The seed report's minimums (20 + 40 connections, pre-ping on) are
counted in ``pool/engine/below_minimum``; SQLite file databases also get their
concurrency fixes checked (WAL, busy timeout, BEGIN IMMEDIATE for writes), and
PostgreSQL the connections all gunicorn workers may open against
``max_connections``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

from pydantic import Field, field_validator
from sqlalchemy import text
from sqlalchemy.pool import Pool, QueuePool, SingletonThreadPool, StaticPool
from typing_extensions import override

import perfci
from perfci import (
    BudgetRule,
    CacheBypass,
    Check,
    Direction,
    Endpoint,
    EndpointConfig,
    EndpointOptions,
    Evidence,
    Measurement,
    RunContext,
    bypass_cache_field,
    cache_bypass_headers,
    clear_response_caches,
    select_endpoints,
)

from . import burst as _pool_burst
from . import sqlite as _pool_sqlite

# Pools that hand every thread the same (or a per-thread) connection: an
# in-memory SQLite database cannot be shared any other way.
SINGLE_CONNECTION_POOLS = (StaticPool, SingletonThreadPool)


class PoolOptions(EndpointOptions):
    """``checks.pool`` in perfci.yaml. ``endpoints``: the burst's endpoints (default: all GETs)."""

    # The seed report's recommendation; null switches a minimum off.
    min_size: int | None = Field(default=20, ge=0)
    min_overflow: int | None = Field(default=40, ge=0)
    require_pre_ping: bool = True
    # PostgreSQL: connections left free when every worker's pool is full.
    min_connection_headroom: int | None = 0
    # gunicorn workers, each with its own pool; default target.server.workers.
    workers: int | None = Field(default=None, ge=1)
    # Concurrent in-process requests; 0 skips the burst.
    burst: int = Field(default=40, ge=0, le=500)
    # The burst's requests all reach the database: Cache-Control: no-cache, caches cleared.
    renamed: ClassVar[Mapping[str, str]] = {"bypass_headers": "bypass_cache"}
    bypass_cache: CacheBypass = bypass_cache_field(True)
    # The burst is released once no new connection was checked out for this long.
    settle_seconds: float = Field(default=2.0, gt=0, le=30)
    # SQLite: a write request (repeatable) used to see how writes begin and to
    # run concurrent writers; default the first non-GET target endpoint.
    write_probe: EndpointConfig | None = None
    writers: int = Field(default=8, ge=2, le=64)
    min_busy_timeout_ms: int = Field(default=1000, ge=0)

    @field_validator("write_probe")
    @classmethod
    def _parses(cls, probe: EndpointConfig | None) -> EndpointConfig | None:
        if probe is not None:
            Endpoint.parse(probe.request)  # ValueError names what is wrong
        return probe


@dataclass(frozen=True)
class Findings:
    """What one part of the check found: measurements, settings below a minimum, notes.

    Parts return their findings (they never fill a caller's list); ``+`` joins them.
    """

    measurements: tuple[Measurement, ...] = ()
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def __add__(self, other: Findings) -> Findings:
        return Findings(
            self.measurements + other.measurements,
            self.problems + other.problems,
            self.notes + other.notes,
        )

    def measurement(self, name: str, label: str = "below minimum") -> Measurement:
        """How many problems were found, each one (and every note) as evidence."""
        evidence = [Evidence(label, p) for p in self.problems]
        evidence += [Evidence("note", n) for n in self.notes]
        return Measurement(
            name, len(self.problems), "count", Direction.LOWER, evidence=tuple(evidence)
        )


@dataclass(frozen=True)
class LiveSettings:
    """The settings a live SQLAlchemy pool was built with (``None``: not a QueuePool)."""

    pre_ping: bool
    recycle: float
    max_overflow: int | None
    timeout: float | None


def live_settings(pool: Pool) -> LiveSettings:
    """Read what ``create_engine`` gave the pool: the one place that reads its private state.

    SQLAlchemy 2.0 has no public getter for these: ``Pool.__init__`` keeps
    ``_pre_ping`` and ``_recycle``, ``QueuePool.__init__`` keeps ``_max_overflow``
    and ``_timeout`` (``size()`` alone is public). A release that renames them
    breaks this function only, and tests/plugins/test_pool.py reads every field.
    """
    queue = pool if isinstance(pool, QueuePool) else None
    return LiveSettings(
        pre_ping=bool(pool._pre_ping),
        recycle=float(pool._recycle),
        max_overflow=None if queue is None else int(queue._max_overflow),
        timeout=None if queue is None else float(queue._timeout),
    )


class PoolCheck(Check[PoolOptions]):
    name = "pool"
    description = "pool settings, pool behaviour under a burst, SQLite/PostgreSQL connection limits"
    Options = PoolOptions

    @override
    def budgets(self, options: PoolOptions) -> Sequence[BudgetRule]:
        """Wrong at any value above zero, whatever the baseline was measured on."""
        return [
            BudgetRule(f"pool/{metric}", max=0)
            for metric in (
                "engine/below_minimum",
                "burst/timeouts",
                "burst/errors",
                "sqlite/missing_fixes",
                "sqlite/locked_errors",
            )
        ]

    def collect(self, ctx: RunContext, options: PoolOptions) -> Iterable[Measurement]:
        pool = ctx.engine.pool
        dialect = ctx.engine.dialect.name
        found = engine_settings(pool, options)
        if dialect == "postgresql" and isinstance(pool, QueuePool):
            found += postgres_headroom(ctx, pool, options)
        yield from found.measurements
        yield found.measurement("pool/engine/below_minimum")
        if options.burst and not isinstance(pool, SINGLE_CONNECTION_POOLS):
            yield from burst(ctx, options)
        if dialect == "sqlite" and not isinstance(pool, SINGLE_CONNECTION_POOLS):
            yield from sqlite_concurrency(ctx, options)


def engine_settings(pool: Pool, options: PoolOptions) -> Findings:
    """Class, size, overflow, timeout, recycle and pre-ping of the live pool."""
    kind = type(pool).__name__
    live = live_settings(pool)
    measured = [
        Measurement("pool/engine/class", kind, "", Direction.EQUAL),
        Measurement("pool/engine/pre_ping", float(live.pre_ping), "flag", Direction.HIGHER),
        # -1: never recycled. A change is a deliberate decision: update the baseline.
        Measurement("pool/engine/recycle", live.recycle, "s", Direction.EQUAL),
    ]
    if isinstance(pool, SINGLE_CONNECTION_POOLS):
        note = (
            f"{kind}: one connection by design (in-memory SQLite); "
            "size and pre-ping minimums do not apply"
        )
        return Findings(tuple(measured), notes=(note,))
    problems: list[str] = []
    if options.require_pre_ping and not live.pre_ping:
        problems.append("pre_ping is off (stale connections fail the request using them)")
    if not isinstance(pool, QueuePool) or live.max_overflow is None or live.timeout is None:
        note = f"{kind} keeps no connections: size minimums do not apply"
        return Findings(tuple(measured), tuple(problems), (note,))
    size, overflow = pool.size(), live.max_overflow
    measured += [
        Measurement("pool/engine/size", size, "connections", Direction.HIGHER),
        Measurement("pool/engine/max_overflow", overflow, "connections", Direction.HIGHER),
        Measurement("pool/engine/timeout", live.timeout, "s", Direction.EQUAL),
    ]
    if options.min_size is not None and size < options.min_size:
        problems.append(f"pool size {size} < {options.min_size}")
    if options.min_overflow is not None and 0 <= overflow < options.min_overflow:
        problems.append(f"max_overflow {overflow} < {options.min_overflow}")
    return Findings(tuple(measured), tuple(problems))


def postgres_headroom(ctx: RunContext, pool: QueuePool, options: PoolOptions) -> Findings:
    """Connections left under ``max_connections`` when every worker's pool is full."""
    workers = options.workers or ctx.server_settings.workers
    with ctx.engine.connect() as connection:
        limit = int(connection.execute(text("SHOW max_connections")).scalar_one())
        reserved = int(connection.execute(text("SHOW superuser_reserved_connections")).scalar_one())
    overflow = live_settings(pool).max_overflow or 0
    # A negative max_overflow means unlimited: then no limit holds.
    per_worker = pool.size() + max(overflow, 0)
    demand = workers * per_worker
    headroom = limit - reserved - demand
    evidence = Evidence(
        "note",
        f"{workers} workers × ({pool.size()} + {overflow}) = {demand} connections; "
        f"max_connections {limit} − {reserved} reserved = {limit - reserved} available",
    )
    measured = Measurement(
        "pool/postgres/connection_headroom", headroom, "connections", Direction.HIGHER,
        evidence=(evidence,),
    )  # fmt: skip
    problems: tuple[str, ...] = ()
    if options.min_connection_headroom is not None and headroom < options.min_connection_headroom:
        problems = (
            f"connection headroom {headroom} < {options.min_connection_headroom}: {evidence.text}",
        )
    return Findings((measured,), problems)


def burst(ctx: RunContext, options: PoolOptions) -> Iterator[Measurement]:
    """Peak connections out at once, pool timeouts and 5xx under ``options.burst`` requests."""
    endpoints = [e for e in select_endpoints(ctx, options) if e.method == "GET"]
    if not endpoints:
        return
    endpoints = [e.with_headers(cache_bypass_headers(options.bypass_cache)) for e in endpoints]
    if options.bypass_cache:
        clear_response_caches(ctx.app)
    ctx.progress(f"pool: burst of {options.burst} concurrent requests")
    result = _pool_burst.run_burst(ctx, endpoints, options.burst, options.settle_seconds)
    summary = Evidence(
        "note",
        f"{result.requests} concurrent requests over {len(endpoints)} endpoints; "
        f"peak {result.peak} connections checked out at once"
        + ("" if result.filled else " (the pool gave no more)"),
    )
    yield Measurement(
        "pool/burst/peak_checkouts", result.peak, "connections", Direction.HIGHER,
        evidence=(summary,),
    )  # fmt: skip
    yield Measurement(
        "pool/burst/timeouts", result.timeouts, "count", Direction.LOWER,
        evidence=tuple(Evidence("error", m) for m in result.timeout_messages),
    )  # fmt: skip
    yield Measurement(
        "pool/burst/errors", len(result.failures), "count", Direction.LOWER,
        evidence=tuple(Evidence("response", f) for f in result.failures[:5]),
    )  # fmt: skip


def sqlite_concurrency(ctx: RunContext, options: PoolOptions) -> Iterator[Measurement]:
    """journal_mode, synchronous, busy_timeout; how writes begin; concurrent writers."""
    pragmas = _pool_sqlite.read_pragmas(ctx.engine)
    yield Measurement("pool/sqlite/journal_mode", pragmas.journal_mode, "", Direction.EQUAL)
    yield Measurement("pool/sqlite/synchronous", pragmas.synchronous, "", Direction.EQUAL)
    yield Measurement("pool/sqlite/busy_timeout", pragmas.busy_timeout_ms, "ms", Direction.HIGHER)
    missing: list[str] = []
    if pragmas.journal_mode != "wal":
        missing.append(f"journal_mode is {pragmas.journal_mode}, not wal")
    if pragmas.busy_timeout_ms < options.min_busy_timeout_ms:
        missing.append(
            f"busy_timeout {pragmas.busy_timeout_ms} ms < {options.min_busy_timeout_ms} ms"
        )
    found = Findings(problems=tuple(missing))
    probe = write_probe(ctx, options)
    if probe is None:
        found += Findings(
            notes=(
                "no write probe (checks.pool.write_probe, or a non-GET target endpoint): "
                "how writes begin was not checked",
            )
        )
    else:
        found += write_behaviour(ctx, probe, options)
    yield from found.measurements
    yield found.measurement("pool/sqlite/missing_fixes", "missing")


def write_behaviour(ctx: RunContext, probe: Endpoint, options: PoolOptions) -> Findings:
    """How the probe's writes begin, and what concurrent writers of it run into."""
    trace = _pool_sqlite.trace_write(ctx, probe)
    shown = Evidence("sql", "\n".join(s[:200] for s in trace.statements[:12]))
    problems: tuple[str, ...] = ()
    if trace.begin is None:
        problems = (f"{probe.subject} ran no write statement: how writes begin is unknown",)
    elif not trace.immediate:
        problems = (f"writes begin deferred ({trace.begin}), not BEGIN IMMEDIATE",)
    begin = Measurement(
        "pool/sqlite/begin_immediate", float(trace.immediate), "flag", Direction.HIGHER,
        evidence=(Evidence("note", f"{probe.subject} began with {trace.begin}"), shown),
    )  # fmt: skip
    ctx.progress(f"pool: {options.writers} concurrent writers")
    writers = _pool_sqlite.concurrent_writes(ctx, probe, options.writers)
    statuses = ", ".join(str(s) for s in writers.statuses)
    locked = Measurement(
        "pool/sqlite/locked_errors", writers.locked, "count", Direction.LOWER,
        evidence=(
            Evidence("note", f"{options.writers} concurrent {probe.subject}: statuses {statuses}"),
            *(Evidence("error", m[:300]) for m in writers.messages),
        ),
    )  # fmt: skip
    return Findings((begin, locked), problems)


def write_probe(ctx: RunContext, options: PoolOptions) -> Endpoint | None:
    """The configured write probe, else the first target endpoint that is not a GET."""
    if options.write_probe is not None:
        probe = options.write_probe
        return Endpoint.parse(probe.request, json=probe.json_body, headers=probe.headers)
    return next((e for e in ctx.endpoints if e.method not in ("GET", "HEAD", "OPTIONS")), None)


@perfci.hookimpl
def perfci_checks() -> list[type[Check]]:
    return [PoolCheck]
