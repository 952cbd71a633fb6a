"""The 'indexes' check: plan parsing, schema facts, SQLite and PostgreSQL, through the gate."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from perfci.checks.indexes import Indexes, IndexesOptions, RowCounts, findings
from perfci.checks.indexes.plans import (
    Problem,
    mysql_plan,
    postgres_plan,
    sqlite_plan,
    table_aliases,
)
from perfci.checks.indexes.schema import (
    missing_requirements,
    parse_requirement,
    read_schema,
    unindexed_foreign_keys,
)
from perfci.measurement import Measurement
from perfci.target.context import RunContext
from perfci.target.endpoint import Endpoint
from perfci.target.recorder import RecordedQuery
from perfci.testing import run_context
from tests.plugins.softfactory import TEST_SCALE, SoftFactoryProject, explain

TABLES = frozenset({"chefs", "bookings", "products"})


def kinds(rows: list[tuple[int, int, int, str]], sql: str = "") -> list[tuple[str | None, Any]]:
    plan = sqlite_plan(rows, tables=TABLES, aliases=table_aliases(sql, TABLES))
    return [(line.table, line.problem) for line in plan.lines]


def test_sqlite_wording_since_3_36() -> None:
    rows = [
        (3, 0, 0, "SCAN chefs_1"),
        (5, 0, 0, "SEARCH b USING INDEX idx_bookings_chef_id (chef_id=?)"),
        (9, 0, 0, "SEARCH chefs USING INTEGER PRIMARY KEY (rowid=?)"),
        (12, 0, 0, "SCAN products USING COVERING INDEX idx_products_is_active"),
        (20, 0, 0, "USE TEMP B-TREE FOR ORDER BY"),
    ]
    sql = "SELECT * FROM chefs AS chefs_1 JOIN bookings b ON b.chef_id = chefs_1.id"
    assert kinds(rows, sql) == [
        ("chefs", Problem.FULL_SCAN),
        ("bookings", None),
        ("chefs", None),
        ("products", Problem.FULL_SCAN),  # the whole index, no constraint
        (None, Problem.TEMP_BTREE),
    ]


def test_sqlite_older_wording() -> None:
    rows = [
        (0, 0, 0, "SCAN TABLE chefs AS chefs_1"),
        (1, 0, 0, "SEARCH TABLE bookings USING INDEX idx_bookings_chef_id (chef_id=?)"),
        (2, 0, 0, "SCAN TABLE products USING COVERING INDEX idx_products_is_active"),
        (3, 0, 0, "USE TEMP B-TREE FOR LAST TERM OF ORDER BY"),
        (4, 0, 0, "USE TEMP B-TREE FOR GROUP BY"),
    ]
    assert kinds(rows) == [
        ("chefs", Problem.FULL_SCAN),
        ("bookings", None),
        ("products", Problem.FULL_SCAN),
        (None, Problem.TEMP_BTREE),
        (None, Problem.TEMP_BTREE),
    ]


def test_sqlite_transient_indexes_and_what_is_no_table() -> None:
    rows = [
        (2, 0, 0, "MATERIALIZE anon_1"),
        (4, 2, 0, "SCAN chefs"),
        (8, 0, 0, "SCAN anon_1"),
        (9, 0, 0, "SEARCH bookings USING AUTOMATIC COVERING INDEX (chef_id=?)"),
        (10, 0, 0, "SEARCH bookings USING AUTOMATIC PARTIAL COVERING INDEX (chef_id=?)"),
        (11, 0, 0, "BLOOM FILTER ON bookings (chef_id=?)"),
        (12, 0, 0, "SCAN CONSTANT ROW"),
        (13, 0, 0, "SOMETHING A FUTURE SQLITE SAYS"),
    ]
    assert kinds(rows) == [
        (None, None),
        ("chefs", Problem.FULL_SCAN),
        (None, None),  # a subquery, not a table
        ("bookings", Problem.AUTOMATIC_INDEX),
        ("bookings", Problem.AUTOMATIC_INDEX),
        ("bookings", Problem.AUTOMATIC_INDEX),
        (None, None),
        (None, None),
    ]
    plan = sqlite_plan(rows, tables=TABLES, aliases={})
    assert plan.lines[1].text == "  SCAN chefs"  # indented under its parent


@pytest.mark.parametrize(
    ("sql", "detail", "counted"),
    [
        # ORDER BY the integer primary key LIMIT n: the scan stops after n rows.
        ("SELECT * FROM chefs ORDER BY chefs.id LIMIT 10", "SCAN chefs", False),
        ("SELECT * FROM chefs ORDER BY rating LIMIT 10", "SCAN chefs USING INDEX r", False),
        # Without a LIMIT, or with a filter it must read past, the whole table.
        ("SELECT * FROM chefs ORDER BY chefs.id", "SCAN chefs", True),
        ("SELECT * FROM chefs WHERE x = 1 ORDER BY id LIMIT 10", "SCAN chefs", True),
        ("SELECT * FROM chefs", "SCAN chefs USING COVERING INDEX r", True),
        # A LIMIT inside a subquery does not stop the outer scan.
        ("SELECT * FROM chefs WHERE id IN (SELECT id FROM b LIMIT 3)", "SCAN chefs", True),
    ],
)
def test_sqlite_scans_a_limit_stops(sql: str, detail: str, counted: bool) -> None:
    plan = sqlite_plan([(2, 0, 0, detail)], tables=TABLES, aliases={}, sql=sql)
    assert bool(plan.problems(Problem.FULL_SCAN)) is counted


def test_sqlite_a_sort_means_the_limit_stops_nothing() -> None:
    rows = [(2, 0, 0, "SCAN chefs"), (9, 0, 0, "USE TEMP B-TREE FOR ORDER BY")]
    sql = "SELECT * FROM chefs ORDER BY rating LIMIT 10"
    plan = sqlite_plan(rows, tables=TABLES, aliases={}, sql=sql)
    assert len(plan.problems(Problem.FULL_SCAN)) == 1


def test_table_aliases_ignore_keywords_and_unknown_tables() -> None:
    sql = (
        "SELECT count(*) AS count_1 FROM chefs AS chefs_1 JOIN bookings ON bookings.x = 1 "
        "JOIN (SELECT 1) AS anon_1 ON 1, products p WHERE 1"
    )
    assert table_aliases(sql, TABLES) == {"chefs_1": "chefs", "p": "products"}


POSTGRES_PLAN = [
    {
        "Plan": {
            "Node Type": "Limit",
            "Plans": [
                {
                    "Node Type": "Sort",
                    "Sort Key": ["chefs.id"],
                    "Plans": [
                        {
                            "Node Type": "Seq Scan",
                            "Relation Name": "chefs",
                            "Alias": "chefs_1",
                            "Filter": "((cuisine_type)::text = 'Korean'::text)",
                        },
                        {
                            "Node Type": "Index Scan",
                            "Relation Name": "bookings",
                            "Alias": "bookings",
                            "Index Name": "pk_bookings",
                            "Filter": "(chef_id = 1)",
                        },
                        {
                            "Node Type": "Bitmap Heap Scan",
                            "Relation Name": "bookings",
                            "Alias": "bookings",
                            "Plans": [
                                {
                                    "Node Type": "Bitmap Index Scan",
                                    "Index Name": "idx_bookings_chef_id",
                                    "Index Cond": "(chef_id = chefs.id)",
                                }
                            ],
                        },
                    ],
                }
            ],
        }
    }
]


def test_postgres_plan() -> None:
    plan = postgres_plan(POSTGRES_PLAN)
    assert [(line.table, line.problem) for line in plan.lines] == [
        (None, None),
        (None, Problem.TEMP_BTREE),
        ("chefs", Problem.FULL_SCAN),
        ("bookings", Problem.FULL_SCAN),  # an index walked whole: only a Filter
        ("bookings", None),
        ("bookings", None),  # a Bitmap Index Scan with a condition
    ]
    assert plan.problems(Problem.FULL_SCAN)[0].text.strip() == (
        "Seq Scan on chefs chefs_1 (Filter: ((cuisine_type)::text = 'Korean'::text))"
    )
    assert plan.lines[1].text == "  Sort (Sort Key: chefs.id)"
    assert plan.tables == {"chefs", "bookings"}


def pg_node(kind: str, **fields: Any) -> dict[str, Any]:
    return {"Node Type": kind, **fields}


def test_postgres_full_scans_and_what_a_limit_stops() -> None:
    walk = pg_node(
        "Index Scan", **{"Relation Name": "chefs", "Index Name": "pk", "Plan Rows": 2000}
    )
    limited = pg_node("Limit", **{"Plan Rows": 10, "Plans": [walk]})
    (_limit, scan) = postgres_plan([{"Plan": limited}]).lines
    assert scan.problem is Problem.FULL_SCAN and scan.fraction == 10 / 2000
    counts = FixedCounts({"chefs": 2000})
    query = RecordedQuery("SELECT ...", (), "SELECT ...")
    plan = postgres_plan([{"Plan": limited}])
    assert findings([(query, plan)], Problem.FULL_SCAN, counts, min_rows=100) == []
    # A Sort between the Limit and the scan: the whole table is read and sorted.
    sort = pg_node("Sort", **{"Plans": [walk]})
    plan = postgres_plan([{"Plan": pg_node("Limit", **{"Plan Rows": 10, "Plans": [sort]})}])
    assert plan.lines[2].fraction is None
    assert len(findings([(query, plan)], Problem.FULL_SCAN, counts, min_rows=100)) == 1
    # A selective filter: the walk reads on (10 of 40 matching rows: a quarter of the table).
    filtered = pg_node(
        "Index Scan", **{"Relation Name": "chefs", "Filter": "(x = 1)", "Plan Rows": 40}
    )
    plan = postgres_plan([{"Plan": pg_node("Limit", **{"Plan Rows": 10, "Plans": [filtered]})}])
    assert len(findings([(query, plan)], Problem.FULL_SCAN, counts, min_rows=100)) == 1
    # An index walk with a condition, a Bitmap Index Scan without one.
    cond = pg_node("Index Only Scan", **{"Relation Name": "chefs", "Index Cond": "(id = 1)"})
    bare = pg_node("Bitmap Index Scan", **{"Index Name": "i"})
    heap = pg_node("Bitmap Heap Scan", **{"Relation Name": "bookings", "Plans": [bare]})
    plan = postgres_plan([{"Plan": pg_node("Append", **{"Plans": [cond, heap]})}])
    assert [(line.table, line.problem) for line in plan.lines] == [
        (None, None),
        ("chefs", None),
        ("bookings", None),
        ("bookings", Problem.FULL_SCAN),
    ]


MYSQL_PLAN = {
    "query_block": {
        "select_id": 1,
        "filesort": {
            "sort_key": "count(0) desc",
            "temporary_table": {
                "nested_loop": [
                    {"table": {"table_name": "c", "access_type": "ALL", "rows": 150}},
                    {
                        "table": {
                            "table_name": "bookings",
                            "access_type": "index",
                            "key": "idx_bookings_chef_id",
                            "rows": 2000,
                        }
                    },
                    {
                        "table": {
                            "table_name": "products",
                            "access_type": "index",
                            "key": "PRIMARY",
                            "rows": 10,
                        }
                    },
                    {
                        "table": {
                            "table_name": "chefs",
                            "access_type": "index",
                            "key": "PRIMARY",
                            "rows": 10,
                            "attached_condition": "chefs.cuisine_type = 'Korean'",
                        }
                    },
                    {"table": {"table_name": "<derived2>", "access_type": "ALL", "rows": 5}},
                    {
                        "table": {
                            "table_name": "products",
                            "access_type": "ALL",
                            "rows": 500,
                            "r_rows": 12,  # ANALYZE: a LIMIT stopped it after 12 rows
                            "attached_condition": "products.x = 1",
                        }
                    },
                    {"table": {"table_name": "bookings", "access_type": "ref", "rows": 1}},
                ]
            },
        },
    }
}


def test_mysql_plan() -> None:
    plan = mysql_plan(MYSQL_PLAN, tables=TABLES, aliases={"c": "chefs"})
    assert [(line.table, line.problem, line.estimate) for line in plan.lines] == [
        (None, Problem.TEMP_BTREE, None),  # filesort
        (None, Problem.TEMP_BTREE, None),  # temporary table
        ("chefs", Problem.FULL_SCAN, None),  # ALL
        ("bookings", Problem.FULL_SCAN, 2000),  # a whole index walked
        ("products", Problem.FULL_SCAN, 10),  # an unfiltered walk a LIMIT stops
        ("chefs", Problem.FULL_SCAN, None),  # filtered: reads on until 10 match
        (None, None, None),  # a derived table, not a table
        ("products", Problem.FULL_SCAN, 12),
        ("bookings", None, None),
    ]
    assert plan.lines[0].text == "filesort (sort key: count(0) desc)"
    assert plan.lines[2].text.strip() == "ALL on c"


def test_a_limit_stops_only_an_unfiltered_index_walk() -> None:
    query = RecordedQuery("SELECT ...", (), "SELECT ...")
    plan = mysql_plan(MYSQL_PLAN, tables=TABLES, aliases={"c": "chefs"})
    counts = FixedCounts({"chefs": 150, "bookings": 2000, "products": 500})
    (scans,) = findings([(query, plan)], Problem.FULL_SCAN, counts, min_rows=100)
    assert [line.table for line in scans.lines] == ["chefs", "bookings", "chefs"]


class FixedCounts(RowCounts):
    def __init__(self, counts: dict[str, int]) -> None:
        self.known = counts


def test_findings_ignore_small_tables() -> None:
    query = RecordedQuery("SELECT ...", (), "SELECT ...")
    rows = [
        (0, 0, 0, "SCAN chefs"),
        (1, 0, 0, "SCAN products"),
        (2, 0, 0, "USE TEMP B-TREE FOR ORDER BY"),
    ]
    plan = sqlite_plan(rows, tables=TABLES, aliases={})
    counts = FixedCounts({"chefs": 150, "products": 12})
    (scans,) = findings([(query, plan)], Problem.FULL_SCAN, counts, min_rows=100)
    assert [line.text for line in scans.lines] == ["SCAN chefs"]
    assert findings([(query, plan)], Problem.TEMP_BTREE, counts, min_rows=100)
    # A temp B-tree counts only when the statement reads a table of that size.
    assert not findings([(query, plan)], Problem.TEMP_BTREE, counts, min_rows=200)


# --- schema ---------------------------------------------------------------------------


@pytest.fixture
def schema_engine() -> Iterator[Engine]:
    engine = create_engine("sqlite://")
    with engine.begin() as connection:
        for statement in (
            "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT UNIQUE)",
            "CREATE TABLE chefs (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users(id))",
            "CREATE TABLE bookings (id INTEGER PRIMARY KEY,"
            " chef_id INTEGER REFERENCES chefs(id), user_id INTEGER REFERENCES users(id))",
            "CREATE INDEX idx_bookings_chef_status ON bookings (chef_id, id)",
            "CREATE TABLE profiles (user_id INTEGER PRIMARY KEY REFERENCES users(id))",
        ):
            connection.execute(text(statement))
    yield engine
    engine.dispose()


def test_foreign_keys_must_lead_an_index(schema_engine: Engine) -> None:
    schema = read_schema(schema_engine)
    # bookings.chef_id leads an index, profiles.user_id is the primary key.
    assert [fk.label for fk in unindexed_foreign_keys(schema)] == [
        "bookings(user_id) → users(id)",
        "chefs(user_id) → users(id)",
    ]
    assert len(unindexed_foreign_keys(schema, ["chefs.user_id"])) == 1


def test_required_indexes(schema_engine: Engine) -> None:
    schema = read_schema(schema_engine)
    required = [
        parse_requirement(text)
        for text in (
            "bookings(chef_id)",
            "bookings(chef_id, id)",
            "bookings(id)",  # the primary key
            "users(email)",  # a unique constraint
            "idx_bookings_chef_status",
            "bookings(user_id)",
            "bookings(id, chef_id)",
            "idx_gone",
        )
    ]
    missing = missing_requirements(schema, required)
    assert [r.text for r in missing] == ["bookings(user_id)", "bookings(id, chef_id)", "idx_gone"]


@pytest.mark.parametrize("bad", ["bookings()", "bookings(chef_id", "two words"])
def test_malformed_required_indexes_are_config_errors(bad: str) -> None:
    with pytest.raises(ValidationError, match="neither|at least one column"):
        IndexesOptions(required_indexes=[bad])


# --- in-process against target_api ------------------------------------------------

CHEF_LIST = Endpoint.parse("GET /api/coocook/chefs?cuisine=Korean&per_page=10")
PRODUCTS = Endpoint.parse("GET /api/products")


def target_context(tmp_path: Path, faults: str, database: str | None) -> Iterator[RunContext]:
    from target_api import create_app
    from target_api.extensions import db
    from target_api.seed import seed_database

    app = create_app(
        {
            "FAULTS": faults,
            "SQLALCHEMY_DATABASE_URI": database or f"sqlite:///{tmp_path / 'target.db'}",
            "CACHE_KEY_PREFIX": f"indexes-{tmp_path.name}:",
        }
    )
    seeded = seed_database(app, TEST_SCALE)
    with app.app_context():
        try:
            with run_context(app, tmp_path, endpoints=(CHEF_LIST, PRODUCTS), seeded=seeded) as ctx:
                yield ctx
        finally:
            db.engine.dispose()


def collect(ctx: RunContext, **options: Any) -> dict[str, Measurement]:
    measured = Indexes().collect(ctx, IndexesOptions.model_validate(options))
    return {m.name.removeprefix("indexes/"): m for m in measured}


def values(measured: dict[str, Measurement]) -> dict[str, Any]:
    return {name: m.value for name, m in measured.items()}


REQUIRED = ["chefs(cuisine_type)", "idx_bookings_chef_id"]


def test_sqlite_optimized_and_without_indexes(tmp_path: Path) -> None:
    (tmp_path / "good").mkdir()
    (tmp_path / "bad").mkdir()
    for ctx in target_context(tmp_path / "good", "", None):
        good = values(collect(ctx, required_indexes=REQUIRED))
    assert set(good.values()) == {0}

    for ctx in target_context(tmp_path / "bad", "missing_indexes", None):
        bad = collect(ctx, required_indexes=REQUIRED)
    chefs = CHEF_LIST.subject
    # The page and its booking counts: two scans of big tables (the total is a key lookup).
    assert bad[f"{chefs}/full_scans"].value == 2
    evidence = [(e.label, e.text) for e in bad[f"{chefs}/full_scans"].evidence]
    assert evidence[0][0] == "sql" and "FROM chefs" in evidence[0][1]
    assert evidence[1] == ("plan", "SCAN chefs\nSCAN bookings")
    # 12 products are below min_rows: their scan is the right plan.
    assert bad[f"{PRODUCTS.subject}/full_scans"].value == 0
    assert bad["schema/missing_required"].value == 2
    assert bad["schema/unindexed_foreign_keys"].value == 12
    assert "bookings(chef_id) → chefs(id)" in bad["schema/unindexed_foreign_keys"].evidence[0].text


@pytest.mark.postgres
def test_postgresql_optimized_and_without_indexes(tmp_path: Path, postgres_url: str) -> None:
    # The planner's default settings: on this small seed it rightly seq-scans the
    # 100 chefs and 200-odd chef totals; only bookings (2,000 rows) is big.
    for ctx in target_context(tmp_path, "", postgres_url):
        good = values(collect(ctx, min_rows=1000))
    assert good[f"{CHEF_LIST.subject}/full_scans"] == 0
    assert good["schema/unindexed_foreign_keys"] == 0

    for ctx in target_context(tmp_path, "missing_indexes", postgres_url):
        bad = collect(ctx, min_rows=1000)
    scans = bad[f"{CHEF_LIST.subject}/full_scans"]
    # The booking counts scan bookings; chefs may come through its primary key.
    assert float(scans.value) >= 1
    plan = next(e.text for e in scans.evidence if e.label == "plan")
    assert "Seq Scan on bookings" in plan
    assert bad["schema/unindexed_foreign_keys"].value == 12


@pytest.mark.mariadb
def test_mariadb_optimized_and_without_indexes(tmp_path: Path, mariadb_url: str) -> None:
    # ANALYZE FORMAT=JSON: the cuisine list without its index reads 90 of the 100 chefs.
    for ctx in target_context(tmp_path, "", mariadb_url):
        good = values(collect(ctx, required_indexes=REQUIRED, min_rows=50))
    assert set(good.values()) == {0}

    for ctx in target_context(tmp_path, "missing_indexes", mariadb_url):
        bad = collect(ctx, required_indexes=REQUIRED, min_rows=50)
    scans = bad[f"{CHEF_LIST.subject}/full_scans"]
    # The cuisine filter walks the whole primary key; InnoDB indexes foreign keys itself.
    assert scans.value == 1
    plan = next(e.text for e in scans.evidence if e.label == "plan")
    assert plan.startswith("index on chefs using PRIMARY (condition:")
    assert bad["schema/missing_required"].value == 2  # named indexes, not only columns
    assert bad["schema/unindexed_foreign_keys"].value == 0


# --- through the gate ---------------------------------------------------------------


def test_gate_fails_on_missing_indexes_and_passes_the_optimized_api(
    softfactory: SoftFactoryProject,
) -> None:
    softfactory.configure({"indexes": {"required_indexes": REQUIRED}})
    softfactory.baseline()

    passed = softfactory.gate()
    assert passed.exit_code == 0, explain(passed)

    failed = softfactory.gate("missing_indexes")
    assert failed.exit_code == 1, explain(failed)
    failing = softfactory.failing()
    assert "indexes/GET /api/coocook/chefs?per_page=10/full_scans" in failing
    assert "indexes/schema/missing_required" in failing
    assert "indexes/schema/unindexed_foreign_keys" in failing
    assert "SCAN bookings" in failed.stdout
    assert "GET /api/coocook/chefs?per_page=10/full_scans" in failed.stdout
