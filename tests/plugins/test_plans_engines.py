"""Query-plan shapes on SQLite, PostgreSQL and MariaDB: the same query, the same verdict.

A small shop schema, seeded and ANALYZEd (PostgreSQL, MariaDB) at a size where
the planners choose real plans; each statement is recorded as the driver
sends it and explained by the indexes check's Explainer with default
planner settings.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import (
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    func,
    select,
    text,
    union,
)
from sqlalchemy.engine import Engine

from perfci.checks.indexes import (
    Explainer,
    Indexes,
    IndexesOptions,
    RowCounts,
    distinct_selects,
    findings,
)
from perfci.checks.indexes.plans import Problem
from perfci.checks.indexes.schema import (
    missing_requirements,
    parse_requirement,
    read_schema,
    unindexed_foreign_keys,
)
from perfci.recorder import QueryRecorder
from perfci.testing import run_context
from perfci.verdict import judge
from perfci.verdict.model import Rules

ROWS = 4000
metadata = MetaData()
orders = Table(
    "orders",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("customer_id", Integer, nullable=False),
    Column("status", String(20), nullable=False),
    Column("email", String(100), nullable=False),
    Index("ix_orders_customer_status", "customer_id", "status"),
    Index("ix_orders_email", "email"),
)
notes = Table(
    "notes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("order_id", Integer, nullable=False),
    Column("body", String(50), nullable=False),
)


@pytest.fixture
def shop(database_url: str) -> Iterator[Engine]:
    engine = create_engine(database_url)
    metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(
            orders.insert(),
            [
                {
                    "id": i,
                    "customer_id": i % 400,
                    "status": f"s{i % 200}",
                    "email": f"User{i}@example.com",
                }
                for i in range(1, ROWS + 1)
            ],
        )
        connection.execute(
            notes.insert(),
            [{"id": i, "order_id": i, "body": f"note {i}"} for i in range(1, ROWS + 1)],
        )
    explainer = Explainer(engine)
    explainer.analyze()
    yield engine
    engine.dispose()


SHAPES: dict[str, tuple[Any, int]] = {
    # statement, full scans expected on every engine
    "indexed equality": (select(orders.c.id).where(orders.c.customer_id == 7), 0),
    "primary key order, LIMIT": (select(orders).order_by(orders.c.id).limit(10), 0),
    "composite index by a non-leading column": (
        select(orders.c.id, orders.c.email).where(orders.c.status == "s7"),
        1,
    ),
    "unindexed filter under primary key order, LIMIT": (
        select(notes).where(notes.c.body == "note 3999").order_by(notes.c.id).limit(10),
        1,
    ),
    "non-sargable filter on an indexed column": (
        select(orders.c.id).where(func.lower(orders.c.email) == "user7@example.com"),
        1,
    ),
    "no filter, no LIMIT": (select(notes.c.body), 1),
    "leading comment": (
        text("/* app:list */ SELECT id FROM notes WHERE body = :body").bindparams(body="x"),
        1,
    ),
    # Rendered "(SELECT ... LIMIT ..) UNION (SELECT ... LIMIT ..)" on PostgreSQL and MariaDB;
    # SQLite takes no parentheses, so there it is the subquery form.
    "compound of LIMITed selects": (
        lambda sqlite: union(
            *(
                part.subquery().select() if sqlite else part
                for part in (
                    select(orders.c.id)
                    .where(func.lower(orders.c.email) == "user3999@example.com")
                    .order_by(orders.c.id)
                    .limit(2),
                    select(notes.c.id).where(notes.c.body == "x").order_by(notes.c.id).limit(2),
                )
            )
        ),
        2,
    ),
}


@pytest.mark.parametrize("shape", list(SHAPES))
def test_plan_shapes_agree_on_every_engine(shop: Engine, shape: str) -> None:
    statement, expected = SHAPES[shape]
    if callable(statement):
        statement = statement(shop.dialect.name == "sqlite")
    recorder = QueryRecorder(shop)
    try:
        with recorder.record() as recording, shop.connect() as connection:
            connection.execute(statement).all()
    finally:
        recorder.close()
    selects = distinct_selects(recording.selects())
    assert len(selects) == 1, "the statement must be explained"
    if shape == "compound of LIMITed selects" and shop.dialect.name != "sqlite":
        assert selects[0].sql.startswith("(SELECT")
    plan = Explainer(shop).explain(selects[0])
    rows = RowCounts(shop, {"orders": ROWS, "notes": ROWS})
    found = findings([(selects[0], plan)], Problem.FULL_SCAN, rows, min_rows=100)
    assert sum(len(f.lines) for f in found) == expected, plan.text()


def test_a_partial_index_serves_no_foreign_key(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE ppl (id INTEGER PRIMARY KEY, email VARCHAR(50))"))
            connection.execute(
                text(
                    "CREATE TABLE kids (id INTEGER PRIMARY KEY, gone INTEGER,"
                    " ppl_id INTEGER REFERENCES ppl(id), ppl2_id INTEGER REFERENCES ppl(id))"
                )
            )
            connection.execute(text("CREATE INDEX ix_kids_ppl2 ON kids (ppl2_id)"))
            if engine.dialect.name != "mysql":  # MariaDB has no partial indexes
                connection.execute(
                    text("CREATE INDEX ix_kids_ppl ON kids (ppl_id) WHERE gone IS NULL")
                )
        schema = read_schema(engine)
        unindexed = [fk.label for fk in unindexed_foreign_keys(schema)]
        if engine.dialect.name == "mysql":
            assert unindexed == []  # InnoDB indexes every foreign key itself
        else:
            assert unindexed == ["kids(ppl_id) → ppl(id)"]
            assert parse_requirement("ix_kids_ppl").met_by(schema.indexes)
    finally:
        engine.dispose()


def test_an_expression_index_is_found_by_name(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE ppl (id INTEGER PRIMARY KEY, email VARCHAR(50))"))
            if engine.dialect.name == "mysql":
                pytest.skip("MariaDB has no expression indexes")
            connection.execute(text("CREATE INDEX ix_ppl_lower_email ON ppl (lower(email))"))
        schema = read_schema(engine)
        required = [parse_requirement("ix_ppl_lower_email"), parse_requirement("ix_gone")]
        assert [r.text for r in missing_requirements(schema, required)] == ["ix_gone"]
    finally:
        engine.dispose()


def shop_app(engine: Engine, scanned: str) -> Flask:
    """``GET /list``: a query that scans ``scanned`` (orders or notes)."""
    app = Flask("shop")

    @app.get("/list")
    def listing() -> dict[str, Any]:
        if scanned == "orders":
            statement = select(orders.c.id).where(orders.c.status == "s7")
        else:
            statement = select(notes.c.id).where(notes.c.body == "note 7")
        with engine.connect() as connection:
            return {"ids": list(connection.scalars(statement))}

    return app


def test_a_new_table_scanned_fails_even_when_the_count_is_unchanged(
    shop: Engine, tmp_path: Path
) -> None:
    measured = {}
    for scanned in ("orders", "notes"):
        with run_context(
            shop_app(shop, scanned), tmp_path, endpoints=["GET /list"], engine=shop
        ) as ctx:
            options = IndexesOptions(foreign_keys=False)
            measured[scanned] = list(Indexes().collect(ctx, options))
    judgement = judge(measured["notes"], measured["orders"], Rules(today=dt.date(2026, 1, 1)))
    outcomes = {v.name: v.outcome.value for v in judgement.verdicts}
    news = next(v for v in judgement.verdicts if v.name == "indexes/table:notes/full_scans").notes
    assert news[-1].startswith("new compared with the baseline:\nwhere: GET /list: ")
    assert outcomes["indexes/GET /list/full_scans"] == "pass"  # 1 → 1
    assert outcomes["indexes/table:notes/full_scans"] == "regression"  # 0 → 1, named
    assert outcomes["indexes/table:orders/full_scans"] == "improvement"
    where = next(m for m in measured["notes"] if m.name == "indexes/table:notes/full_scans")
    assert where.evidence[0].text.startswith("GET /list: ")
