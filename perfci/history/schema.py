"""The history tables, in SQLAlchemy Core: one row per run, measurement and verdict.

``perfci server`` keeps its projects and their write tokens (SHA-256 digests
only) here too; a run uploaded to the server belongs to one project and
carries its pull request and CI run URL. A local history's runs have no project.

These definitions are the schema at the newest version (``migrations.LATEST``).
Lists and mappings (samples, evidence, budgets) are JSON text, not a JSON
column type: JSON text stores infinities the same way on SQLite and PostgreSQL.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

#: The largest value an ``Integer`` column holds on every backend (PostgreSQL's
#: ``integer``): run ids, PR numbers. Ids and numbers taken from a request are
#: bounded by it before they reach a query (a larger one is an error there).
MAX_INTEGER = 2**31 - 1

schema_versions = Table(
    "perfci_schema",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("description", String(200), nullable=False),
    Column("applied_at", DateTime(timezone=True), nullable=False),
)

projects = Table(
    "perfci_projects",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("public", Integer, nullable=False),  # 1: anyone may read its runs
    Column("default_branch", String(255), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

tokens = Table(
    "perfci_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("project_id", Integer, ForeignKey(projects.c.id, ondelete="CASCADE"), nullable=False),
    Column("digest", String(64), nullable=False, unique=True),  # SHA-256 hex of the token
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("read_only", Integer, nullable=False, server_default="0"),  # 1: reads, never writes
    Column("revoked_at", DateTime(timezone=True)),  # NULL: valid
)

runs = Table(
    "perfci_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    # Stable across stores: an imported run keeps its uid, so importing twice adds nothing.
    Column("uid", String(32), nullable=False, unique=True),
    Column("suite", String(200), nullable=False),
    Column("started_at", String(40), nullable=False),  # as the run wrote it (ISO 8601)
    Column("started", DateTime(timezone=True), nullable=False),  # parsed, UTC, for ordering
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("duration_s", Float, nullable=False),
    Column("exit_code", Integer, nullable=False),
    Column("commit", String(64)),
    Column("branch", String(255)),
    Column("baseline_path", Text),
    Column("environment", Text, nullable=False),  # JSON object
    Column("checks", Text, nullable=False),  # JSON list
    Column("skipped_checks", Text, nullable=False),  # JSON list
    Column("unmatched_rules", Text, nullable=False),  # JSON list
    # Uploaded to perfci server (schema 3); NULL in a local history.
    Column("project_id", Integer, ForeignKey(projects.c.id, ondelete="CASCADE")),
    Column("pr", Integer),
    Column("ci_url", Text),
    Column("committed_at", DateTime(timezone=True)),  # the commit's time: baselines by commit
    Index("ix_perfci_runs_suite_started", "suite", "started"),
    Index("ix_perfci_runs_project", "project_id", "id"),
    Index("ix_perfci_runs_project_branch", "project_id", "branch", "id"),
)

measurements = Table(
    "perfci_measurements",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("run_id", Integer, ForeignKey(runs.c.id, ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),  # order within the run
    Column("name", Text, nullable=False),
    Column("value_number", Float),  # numeric values
    Column("value_text", Text),  # text facts (direction 'equal')
    Column("unit", String(40), nullable=False),
    Column("direction", String(16), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("samples", Text, nullable=False),  # JSON list
    Column("calibration", Text, nullable=False),  # JSON list
    Column("evidence", Text, nullable=False),  # JSON list of {label, text}
    Column("environment", Text),  # JSON object; NULL: none (and rows from schema 1)
    Column("statistic", String(16)),  # Measurement.statistic; NULL: median (rows before 4)
    Index("ix_perfci_measurements_run", "run_id"),
    Index("ix_perfci_measurements_name", "name"),
    Index("ix_perfci_measurements_name_run", "name", "run_id"),  # a metric's trend
)

verdicts = Table(
    "perfci_verdicts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("run_id", Integer, ForeignKey(runs.c.id, ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("name", Text, nullable=False),
    Column("outcome", String(40), nullable=False),
    Column("mode", String(16), nullable=False),
    Column("reason", Text, nullable=False),
    # The judged measurement: NULL when it is the run's own measurement of that name
    # (the usual case, stored once), else its JSON; 'missing' verdicts have none.
    Column("current", Text),
    Column("has_current", Integer, nullable=False),
    Column("baseline", Text),  # JSON measurement
    Column("change", Text),  # JSON numbers: SQLite would turn a NaN float into NULL
    Column("threshold", Text),
    Column("p_value", Text),
    Column("budget", Text),  # JSON {pattern, max, min, unit, source}
    Column("acknowledged", Text),  # JSON {pattern, reason, expires, source}
    Column("notes", Text, nullable=False),  # JSON list
    Index("ix_perfci_verdicts_run", "run_id"),
)
