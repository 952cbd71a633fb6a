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

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from pydantic import Field, field_validator
from sqlalchemy import text
from sqlalchemy.pool import Pool, QueuePool, SingletonThreadPool, StaticPool

import perfci
from perfci import (
    BudgetRule,
    Check,
    Direction,
    Endpoint,
    EndpointConfig,
    EndpointOptions,
    Evidence,
    Measurement,
    RunContext,
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
    # Sent with every burst request so that the response cache does not answer it.
    bypass_headers: dict[str, str] = Field(default_factory=lambda: {"Cache-Control": "no-cache"})
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


@dataclass
class Findings:
    """Settings below a minimum, named for the evidence."""

    problems: list[str] = field(default_factory=list)

    def measurement(self, name: str, notes: Iterable[str] = ()) -> Measurement:
        evidence = [Evidence("below minimum", p) for p in self.problems]
        evidence += [Evidence("note", n) for n in notes]
        return Measurement(
            name, len(self.problems), "count", Direction.LOWER, evidence=tuple(evidence)
        )


class PoolCheck(Check[PoolOptions]):
    name = "pool"
    description = "pool settings, pool behaviour under a burst, SQLite/PostgreSQL connection limits"
    Options = PoolOptions

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
        below = Findings()
        notes: list[str] = []
        yield from engine_settings(pool, options, below, notes)
        if dialect == "postgresql" and isinstance(pool, QueuePool):
            yield from postgres_headroom(ctx, pool, options, below)
        yield below.measurement("pool/engine/below_minimum", notes)
        if options.burst and not isinstance(pool, SINGLE_CONNECTION_POOLS):
            yield from burst(ctx, options)
        if dialect == "sqlite" and not isinstance(pool, SINGLE_CONNECTION_POOLS):
            yield from sqlite_concurrency(ctx, options)


def engine_settings(
    pool: Pool, options: PoolOptions, below: Findings, notes: list[str]
) -> Iterator[Measurement]:
    """Class, size, overflow, timeout, recycle and pre-ping of the live pool."""
    kind = type(pool).__name__
    yield Measurement("pool/engine/class", kind, "", Direction.EQUAL)
    pre_ping = bool(pool._pre_ping)
    yield Measurement("pool/engine/pre_ping", float(pre_ping), "flag", Direction.HIGHER)
    # -1: never recycled. A change is a deliberate decision: update the baseline.
    yield Measurement("pool/engine/recycle", float(pool._recycle), "s", Direction.EQUAL)
    if isinstance(pool, SINGLE_CONNECTION_POOLS):
        notes.append(
            f"{kind}: one connection by design (in-memory SQLite); "
            "size and pre-ping minimums do not apply"
        )
        return
    if options.require_pre_ping and not pre_ping:
        below.problems.append("pre_ping is off (stale connections fail the request using them)")
    if not isinstance(pool, QueuePool):
        notes.append(f"{kind} keeps no connections: size minimums do not apply")
        return
    size, overflow = pool.size(), pool._max_overflow
    yield Measurement("pool/engine/size", size, "connections", Direction.HIGHER)
    yield Measurement("pool/engine/max_overflow", overflow, "connections", Direction.HIGHER)
    yield Measurement("pool/engine/timeout", float(pool._timeout), "s", Direction.EQUAL)
    if options.min_size is not None and size < options.min_size:
        below.problems.append(f"pool size {size} < {options.min_size}")
    if options.min_overflow is not None and 0 <= overflow < options.min_overflow:
        below.problems.append(f"max_overflow {overflow} < {options.min_overflow}")


def postgres_headroom(
    ctx: RunContext, pool: QueuePool, options: PoolOptions, below: Findings
) -> Iterator[Measurement]:
    """Connections left under ``max_connections`` when every worker's pool is full."""
    workers = options.workers or ctx.server_settings.workers
    with ctx.engine.connect() as connection:
        limit = int(connection.execute(text("SHOW max_connections")).scalar_one())
        reserved = int(connection.execute(text("SHOW superuser_reserved_connections")).scalar_one())
    # A negative max_overflow means unlimited: then no limit holds.
    per_worker = pool.size() + max(pool._max_overflow, 0)
    demand = workers * per_worker
    headroom = limit - reserved - demand
    evidence = Evidence(
        "note",
        f"{workers} workers × ({pool.size()} + {pool._max_overflow}) = {demand} connections; "
        f"max_connections {limit} − {reserved} reserved = {limit - reserved} available",
    )
    yield Measurement(
        "pool/postgres/connection_headroom", headroom, "connections", Direction.HIGHER,
        evidence=(evidence,),
    )  # fmt: skip
    if options.min_connection_headroom is not None and headroom < options.min_connection_headroom:
        below.problems.append(
            f"connection headroom {headroom} < {options.min_connection_headroom}: {evidence.text}"
        )


def burst(ctx: RunContext, options: PoolOptions) -> Iterator[Measurement]:
    """Peak connections out at once, pool timeouts and 5xx under ``options.burst`` requests."""
    endpoints = [e for e in select_endpoints(ctx, options) if e.method == "GET"]
    if not endpoints:
        return
    endpoints = [e.with_headers(options.bypass_headers) for e in endpoints]
    clear_caches(ctx)
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


def clear_caches(ctx: RunContext) -> None:
    """Empty every Flask-Caching backend, so the burst's requests all reach the database."""
    for backend in (ctx.app.extensions.get("cache") or {}).values():
        clear = getattr(backend, "clear", None)
        if callable(clear):
            clear()


def sqlite_concurrency(ctx: RunContext, options: PoolOptions) -> Iterator[Measurement]:
    """journal_mode, synchronous, busy_timeout; how writes begin; concurrent writers."""
    pragmas = _pool_sqlite.read_pragmas(ctx.engine)
    missing: list[str] = []
    yield Measurement("pool/sqlite/journal_mode", pragmas.journal_mode, "", Direction.EQUAL)
    yield Measurement("pool/sqlite/synchronous", pragmas.synchronous, "", Direction.EQUAL)
    yield Measurement("pool/sqlite/busy_timeout", pragmas.busy_timeout_ms, "ms", Direction.HIGHER)
    if pragmas.journal_mode != "wal":
        missing.append(f"journal_mode is {pragmas.journal_mode}, not wal")
    if pragmas.busy_timeout_ms < options.min_busy_timeout_ms:
        missing.append(
            f"busy_timeout {pragmas.busy_timeout_ms} ms < {options.min_busy_timeout_ms} ms"
        )
    notes: list[str] = []
    probe = write_probe(ctx, options)
    if probe is None:
        notes.append(
            "no write probe (checks.pool.write_probe, or a non-GET target endpoint): "
            "how writes begin was not checked"
        )
    else:
        yield from write_behaviour(ctx, probe, options, missing)
    evidence = [Evidence("missing", m) for m in missing] + [Evidence("note", n) for n in notes]
    yield Measurement(
        "pool/sqlite/missing_fixes", len(missing), "count", Direction.LOWER,
        evidence=tuple(evidence),
    )  # fmt: skip


def write_behaviour(
    ctx: RunContext, probe: Endpoint, options: PoolOptions, missing: list[str]
) -> Iterator[Measurement]:
    trace = _pool_sqlite.trace_write(ctx, probe)
    shown = Evidence("sql", "\n".join(s[:200] for s in trace.statements[:12]))
    if trace.begin is None:
        missing.append(f"{probe.subject} ran no write statement: how writes begin is unknown")
    elif not trace.immediate:
        missing.append(f"writes begin deferred ({trace.begin}), not BEGIN IMMEDIATE")
    yield Measurement(
        "pool/sqlite/begin_immediate", float(trace.immediate), "flag", Direction.HIGHER,
        evidence=(Evidence("note", f"{probe.subject} began with {trace.begin}"), shown),
    )  # fmt: skip
    ctx.progress(f"pool: {options.writers} concurrent writers")
    writers = _pool_sqlite.concurrent_writes(ctx, probe, options.writers)
    statuses = ", ".join(str(s) for s in writers.statuses)
    yield Measurement(
        "pool/sqlite/locked_errors", writers.locked, "count", Direction.LOWER,
        evidence=(
            Evidence("note", f"{options.writers} concurrent {probe.subject}: statuses {statuses}"),
            *(Evidence("error", m[:300]) for m in writers.messages),
        ),
    )  # fmt: skip


def write_probe(ctx: RunContext, options: PoolOptions) -> Endpoint | None:
    """The configured write probe, else the first target endpoint that is not a GET."""
    if options.write_probe is not None:
        probe = options.write_probe
        return Endpoint.parse(probe.request, json=probe.json_body, headers=probe.headers)
    return next((e for e in ctx.endpoints if e.method not in ("GET", "HEAD", "OPTIONS")), None)


@perfci.hookimpl
def perfci_checks() -> list[type[Check]]:
    return [PoolCheck]
