"""The built-in 'indexes' check: the plans of every SELECT the endpoints issue, and the schema.

Per endpoint, every distinct SELECT the request issued (recorded with its
bound parameters, the response cache bypassed) is explained on the live
database with those parameters, and its plan problems are counted (see
:mod:`perfci.checks.indexes.plans`): ``full_scans``, ``temp_btrees`` and
``automatic_indexes``. Tables with fewer than ``min_rows`` rows are ignored:
scanning a twelve-row catalogue is the right plan. Per schema:
``missing_required`` (``required_indexes`` not present) and
``unindexed_foreign_keys`` (foreign-key columns no index leads with).

SQLite is explained with ``EXPLAIN QUERY PLAN`` as the database stands; the
check never runs ANALYZE there (without statistics SQLite assumes large
tables, which is what production-sized data looks like; with statistics from
small test data it would choose scans). PostgreSQL is explained with
``EXPLAIN (FORMAT JSON)`` and the planner's default settings (``jit = off``
only), on the seeded data ANALYZEd once first (``analyze``) so that
autovacuum's timing cannot change the plans during a run; seed it big
enough for production-like plans. MariaDB/MySQL is
explained with ``ANALYZE FORMAT=JSON`` on MariaDB (the plan and the rows
each access really read; ``EXPLAIN FORMAT=JSON`` on MySQL) after ``ANALYZE
TABLE``. Any other
engine skips the check (:class:`perfci.CheckSkipped`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pydantic import Field, field_validator
from sqlalchemy import inspect
from sqlalchemy.engine import Engine
from typing_extensions import override

import perfci
from perfci import (
    BudgetRule,
    Check,
    CheckSkipped,
    Direction,
    Evidence,
    Measurement,
    RecordedQuery,
    RunContext,
    StatusLog,
    failed_requests_budget,
    select_endpoints,
)

from .._capture import CaptureOptions, capture
from .plans import (
    Plan,
    PlanLine,
    Problem,
    mysql_plan,
    postgres_plan,
    sqlite_plan,
    table_aliases,
)
from .schema import (
    missing_requirements,
    parse_requirement,
    read_schema,
    unindexed_foreign_keys,
)

#: Statements shown in the evidence of one metric.
EVIDENCE_STATEMENTS = 3

#: Metric name per plan problem.
METRICS = {
    Problem.FULL_SCAN: "full_scans",
    Problem.TEMP_BTREE: "temp_btrees",
    Problem.AUTOMATIC_INDEX: "automatic_indexes",
}


class IndexesOptions(CaptureOptions):
    """``checks.indexes`` in perfci.yaml."""

    min_rows: int = Field(
        default=100, ge=0, description="Plan problems on tables with fewer rows are ignored."
    )
    required_indexes: list[str] = Field(
        default_factory=list,
        description="Indexes that must exist: 'table(column, ...)' (an index leading with "
        "those columns) or an index name.",
    )
    foreign_keys: bool = Field(
        default=True, description="Check that every foreign key's columns lead some index."
    )
    allow_unindexed_foreign_keys: list[str] = Field(
        default_factory=list,
        description="Foreign keys accepted without an index, as 'table.column'.",
    )
    analyze: bool = Field(
        default=True,
        description="PostgreSQL and MariaDB: ANALYZE once before explaining, for stable plans.",
    )

    @field_validator("required_indexes")
    @classmethod
    def _parseable(cls, required: list[str]) -> list[str]:
        for text in required:
            parse_requirement(text)
        return required


class RowCounts:
    """Rows per table: the seeded counts, else ``COUNT(*)`` once per table."""

    def __init__(self, engine: Engine, seeded: dict[str, int]) -> None:
        self.engine = engine
        self.known = dict(seeded)

    def __getitem__(self, table: str) -> int:
        if table not in self.known:
            quoted = self.engine.dialect.identifier_preparer.quote(table)
            with self.engine.connect() as connection:
                count = connection.exec_driver_sql(f"SELECT COUNT(*) FROM {quoted}").scalar()
            self.known[table] = int(count or 0)
        return self.known[table]


class Explainer:
    """Explains recorded statements on the live database, remembering each answer."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        if self.dialect not in ("sqlite", "postgresql", "mysql"):
            raise CheckSkipped(
                f"cannot read {self.dialect} query plans "
                "(SQLite, PostgreSQL and MariaDB/MySQL only)"
            )
        self.tables = frozenset(inspect(engine).get_table_names())
        self._plans: dict[tuple[str, str], Plan] = {}

    def analyze(self) -> None:
        if self.dialect == "postgresql":
            with self.engine.begin() as connection:
                connection.exec_driver_sql("ANALYZE")
        elif self.dialect == "mysql":
            quote = self.engine.dialect.identifier_preparer.quote
            with self.engine.begin() as connection:
                for table in sorted(self.tables):
                    connection.exec_driver_sql(f"ANALYZE TABLE {quote(table)}").all()

    def explain(self, query: RecordedQuery) -> Plan:
        key = (query.sql, repr(query.params))
        if key not in self._plans:
            if self.dialect == "sqlite":
                self._plans[key] = self._sqlite(query)
            elif self.dialect == "mysql":
                self._plans[key] = self._mysql(query)
            else:
                self._plans[key] = self._postgres(query)
        return self._plans[key]

    def _sqlite(self, query: RecordedQuery) -> Plan:
        with self.engine.connect() as connection:
            rows = connection.exec_driver_sql(
                "EXPLAIN QUERY PLAN " + query.sql, query.params or ()
            ).all()
        aliases = table_aliases(query.sql, self.tables)
        return sqlite_plan(rows, tables=self.tables, aliases=aliases, sql=query.sql)

    def _mysql(self, query: RecordedQuery) -> Plan:
        with self.engine.connect() as connection:
            # MariaDB's ANALYZE runs the SELECT: the rows each access really read (r_rows)
            # show whether a LIMIT stopped a scan, where EXPLAIN only guesses.
            mariadb = getattr(self.engine.dialect, "is_mariadb", False)
            statement = ("ANALYZE" if mariadb else "EXPLAIN") + " FORMAT=JSON " + query.sql
            explained = connection.exec_driver_sql(statement, query.params or None).scalar()
            connection.rollback()
        aliases = table_aliases(query.sql.replace("`", ""), self.tables)
        return mysql_plan(json.loads(str(explained)), tables=self.tables, aliases=aliases)

    def _postgres(self, query: RecordedQuery) -> Plan:
        with self.engine.connect() as connection:
            # The planner's own settings: the plan production gets (jit only costs time).
            connection.exec_driver_sql("SET LOCAL jit = off")
            statement = "EXPLAIN (FORMAT JSON) " + query.sql
            if query.params:
                explained = connection.exec_driver_sql(statement, query.params).scalar()
            else:
                explained = connection.exec_driver_sql(statement).scalar()
            connection.rollback()
        if isinstance(explained, str):
            explained = json.loads(explained)
        return postgres_plan(explained)


@dataclass(frozen=True)
class Finding:
    """Plan problems of one kind in one statement."""

    sql: str
    lines: tuple[PlanLine, ...]


def findings(
    statements: Sequence[tuple[RecordedQuery, Plan]], kind: Problem, rows: RowCounts, min_rows: int
) -> list[Finding]:
    """The statements whose plans show ``kind`` on a table of at least ``min_rows`` rows.

    A temporary B-tree names no table: it counts when the statement reads
    some table of that size.
    """
    found = []
    for query, plan in statements:
        big = {t for t in plan.tables if rows[t] >= min_rows}
        lines = tuple(
            line
            for line in plan.problems(kind)
            if ((line.table in big) or (line.table is None and big))
            and not stopped_early(line, rows, min_rows)
        )
        if lines:
            found.append(Finding(query.sql, lines))
    return found


#: A scan a LIMIT stops before this share of the table is read is no full scan.
EARLY_STOP_SHARE = 0.1


def stopped_early(line: PlanLine, rows: RowCounts, min_rows: int) -> bool:
    """Whether a LIMIT stops the scan early: under ``min_rows`` rows, or a tenth of the table."""
    if line.table is None:
        return False
    total = rows[line.table]
    if line.estimate is not None:
        read = float(line.estimate)
    elif line.fraction is not None:
        read = line.fraction * total
    else:
        return False
    return read < min_rows or read < EARLY_STOP_SHARE * total


#: Per-table metrics: which tables are scanned and sorted, not only how often.
TABLE_METRICS = {Problem.FULL_SCAN: "full_scans", Problem.TEMP_BTREE: "temp_btrees"}


class TableTally:
    """Full scans and temp B-trees per table, over every endpoint.

    ``indexes/table:<t>/full_scans`` exists for every table of ``min_rows``
    rows, 0 when nothing scans it: a fix that removes one table's scan while a
    new query scans another keeps the per-endpoint count, but the other
    table's metric goes 0 → 1 and fails, naming the table. A temp B-tree is
    put on the tables its statement reads.
    """

    def __init__(self) -> None:
        self.counts: dict[tuple[str, Problem], int] = {}
        self.where: dict[tuple[str, Problem], list[str]] = {}

    def add(
        self,
        subject: str,
        kind: Problem,
        found: Sequence[Finding],
        statements: Sequence[tuple[RecordedQuery, Plan]],
    ) -> None:
        if kind not in TABLE_METRICS:
            return
        plans = {query.sql: plan for query, plan in statements}
        for finding in found:
            for line in finding.lines:
                tables = [line.table] if line.table else sorted(plans[finding.sql].tables)
                for table in tables:
                    key = (table, kind)
                    self.counts[key] = self.counts.get(key, 0) + 1
                    self.where.setdefault(key, []).append(f"{subject}: {line.text.strip()}")

    def measurements(self, check: str, tables: Sequence[str]) -> Iterable[Measurement]:
        for table in tables:
            for kind, metric in TABLE_METRICS.items():
                where = self.where.get((table, kind), [])
                listing = "\n".join(where[:EVIDENCE_STATEMENTS])
                if len(where) > EVIDENCE_STATEMENTS:
                    listing += f"\n… and {len(where) - EVIDENCE_STATEMENTS} more"
                yield Measurement(
                    f"{check}/table:{table}/{metric}",
                    self.counts.get((table, kind), 0),
                    "count",
                    Direction.LOWER,
                    evidence=(Evidence("where", listing),) if where else (),
                )


def findings_evidence(found: Sequence[Finding]) -> list[Evidence]:
    evidence: list[Evidence] = []
    for finding in found[:EVIDENCE_STATEMENTS]:
        evidence.append(Evidence("sql", finding.sql.strip()))
        evidence.append(Evidence("plan", "\n".join(line.text.strip() for line in finding.lines)))
    if len(found) > EVIDENCE_STATEMENTS:
        evidence.append(Evidence("note", f"and {len(found) - EVIDENCE_STATEMENTS} more statements"))
    return evidence


def distinct_selects(queries: Iterable[RecordedQuery]) -> list[RecordedQuery]:
    """One recorded example per distinct SELECT text (an N+1 is explained once)."""
    seen: dict[str, RecordedQuery] = {}
    for query in queries:
        if isinstance(query.params, list):
            continue  # executemany: never a SELECT worth explaining
        seen.setdefault(query.sql, query)
    return list(seen.values())


class Indexes(Check[IndexesOptions]):
    name = "indexes"
    description = "full scans, temp B-trees and automatic indexes in plans; required indexes"
    Options = IndexesOptions

    @override
    def budgets(self, options: IndexesOptions) -> Sequence[BudgetRule]:
        return [failed_requests_budget(self.name)]

    def collect(self, ctx: RunContext, options: IndexesOptions) -> Iterable[Measurement]:
        explainer = Explainer(ctx.engine)
        if options.analyze:
            explainer.analyze()
        rows = RowCounts(ctx.engine, dict(ctx.seeded))
        per_table = TableTally()
        for endpoint in select_endpoints(ctx, options):
            captured = capture(ctx, endpoint, options)
            statuses = StatusLog(endpoint)
            statuses.see(endpoint, captured.status, captured.body, captured.location)
            statements = [
                (query, explainer.explain(query))
                for query in distinct_selects(captured.recording.selects())
            ]
            note = []
            if not statements:
                note = [Evidence("note", "the request issued no SELECT")]
            if not captured.ok:
                note.append(Evidence("note", f"the response was {captured.status}"))
            for kind, metric in METRICS.items():
                found = findings(statements, kind, rows, options.min_rows)
                per_table.add(endpoint.subject, kind, found, statements)
                yield Measurement(
                    f"{self.name}/{endpoint.subject}/{metric}",
                    sum(len(f.lines) for f in found),
                    "count",
                    Direction.LOWER,
                    evidence=tuple(note + findings_evidence(found)),
                )
            yield statuses.measurement(self.name)
        big = sorted(t for t in explainer.tables if rows[t] >= options.min_rows)
        yield from per_table.measurements(self.name, big)
        yield from self.schema_measurements(ctx.engine, options)

    def schema_measurements(self, engine: Engine, options: IndexesOptions) -> list[Measurement]:
        schema = read_schema(engine)
        required = [parse_requirement(text) for text in options.required_indexes]
        missing = missing_requirements(schema, required)
        measurements = [
            Measurement(
                f"{self.name}/schema/missing_required",
                len(missing),
                "count",
                Direction.LOWER,
                evidence=_listing("missing indexes", [r.text for r in missing]),
            )
        ]
        if options.foreign_keys:
            unindexed = unindexed_foreign_keys(schema, options.allow_unindexed_foreign_keys)
            measurements.append(
                Measurement(
                    f"{self.name}/schema/unindexed_foreign_keys",
                    len(unindexed),
                    "count",
                    Direction.LOWER,
                    evidence=_listing("unindexed foreign keys", [fk.label for fk in unindexed]),
                )
            )
        return measurements


def _listing(label: str, items: Sequence[str]) -> tuple[Evidence, ...]:
    return (Evidence(label, "\n".join(items)),) if items else ()


@perfci.hookimpl
def perfci_checks() -> list[type[Check]]:
    return [Indexes]
