"""Reading query plans: the problems a plan shows, for SQLite, PostgreSQL and MariaDB. Pure, no I/O.

A plan problem is one of three kinds:

* ``full_scan``: every row of a table (or of an index) is read. SQLite
  ``SCAN t`` (older: ``SCAN TABLE t``) and ``SCAN t USING [COVERING] INDEX
  i``; PostgreSQL ``Seq Scan`` and an index node without ``Index Cond``,
  explained with the planner's default settings. A scan that a LIMIT stops
  early (no filter, read in the order asked for) is not counted.
* ``temp_btree``: SQLite ``USE TEMP B-TREE FOR ORDER BY / GROUP BY /
  DISTINCT`` (and ``... LAST TERM OF ORDER BY``); PostgreSQL ``Sort`` and
  ``Incremental Sort`` nodes. The rows are sorted at query time.
* ``automatic_index``: SQLite ``SEARCH t USING AUTOMATIC [PARTIAL]
  [COVERING] INDEX`` and ``BLOOM FILTER ON t`` (3.38+): SQLite built a
  transient structure because an index is missing. PostgreSQL has none.

MariaDB/MySQL ``EXPLAIN FORMAT=JSON`` (or ``ANALYZE FORMAT=JSON``, whose
``r_rows`` are the rows really read): ``access_type: "ALL"`` is a full table
scan, ``"index"`` a full index scan, unless the rows read show a LIMIT
stopping it early (``PlanLine.estimate``); ``filesort`` / ``temporary_table``
(MariaDB) and ``using_filesort`` / ``using_temporary_table`` (MySQL 8) are
temp B-trees. MariaDB prints the alias (``chefs_1``) as ``table_name``.

SQLite's wording is documented as unstable, so lines are matched loosely and
anything unrecognised is ignored; both the 3.36+ wording and the older one
(``SCAN TABLE t AS alias``) are understood whatever ``sqlite3.sqlite_version``
is, so no version branch is needed.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Problem(StrEnum):
    FULL_SCAN = "full_scan"
    TEMP_BTREE = "temp_btree"
    AUTOMATIC_INDEX = "automatic_index"


@dataclass(frozen=True)
class PlanLine:
    """One line of a plan: its text, the table it reads (if any) and its problem (if any)."""

    text: str
    table: str | None = None
    problem: Problem | None = None
    # The planner's estimate of the rows a full scan reads, where it reflects a LIMIT.
    estimate: int | None = None
    # PostgreSQL: the share of the scan a LIMIT above lets run (its rows / the scan's rows).
    fraction: float | None = None


@dataclass(frozen=True)
class Plan:
    """A statement's plan as lines; ``tables`` are the real tables it reads."""

    lines: tuple[PlanLine, ...]

    @property
    def tables(self) -> frozenset[str]:
        return frozenset(line.table for line in self.lines if line.table)

    def problems(self, kind: Problem) -> list[PlanLine]:
        return [line for line in self.lines if line.problem is kind]

    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)


# --- SQLite ------------------------------------------------------------------

_SCAN = re.compile(r"^SCAN (?:TABLE )?(?P<name>\S+)(?: AS (?P<alias>\S+))?(?P<rest>.*)$")
_SEARCH = re.compile(r"^SEARCH (?:TABLE )?(?P<name>\S+)(?: AS (?P<alias>\S+))?(?P<rest>.*)$")
_BLOOM = re.compile(r"^BLOOM FILTER ON (?P<name>\S+)")
_TEMP_BTREE = re.compile(r"\bUSE TEMP B-TREE FOR\b")
# "chefs AS chefs_1", "chefs chefs_1" after FROM/JOIN or a comma.
_ALIAS = re.compile(r'(?:\bFROM|\bJOIN|,)\s+"?(\w+)"?\s+(?:AS\s+)?"?(\w+)"?', re.I)
_NOT_ALIAS = frozenset({"WHERE", "ON", "JOIN", "LEFT", "RIGHT", "INNER", "OUTER", "CROSS",
                        "FULL", "NATURAL", "GROUP", "ORDER", "LIMIT", "USING", "UNION",
                        "EXCEPT", "INTERSECT", "HAVING", "WINDOW", "OFFSET", "FOR"})  # fmt: skip


def table_aliases(sql: str, tables: Collection[str]) -> dict[str, str]:
    """Alias → table for every ``FROM/JOIN table [AS] alias`` naming a known table."""
    aliases: dict[str, str] = {}
    for table, alias in _ALIAS.findall(sql):
        if table in tables and alias.upper() not in _NOT_ALIAS and alias not in tables:
            aliases[alias] = table
    return aliases


def _resolve(name: str, aliases: Mapping[str, str], tables: Collection[str]) -> str | None:
    if name in aliases:
        return aliases[name]
    return name if name in tables else None


def sqlite_plan(
    rows: Iterable[Sequence[Any]],
    *,
    tables: Collection[str],
    aliases: Mapping[str, str],
    sql: str = "",
) -> Plan:
    """Classify ``EXPLAIN QUERY PLAN`` rows ``(id, parent, notused, detail)``.

    ``tables`` are the database's tables; a name that is neither a table nor
    an alias of one (a subquery, a CTE, ``CONSTANT ROW``) reads no table.
    ``SCAN t`` and ``SCAN t USING [COVERING] INDEX i`` read the whole table
    or index, except the outer loop of a statement ``sql`` whose top level
    has a LIMIT, no WHERE and no temp B-tree: its order is the scan's order
    (``ORDER BY <integer primary key or indexed column> LIMIT n``), so it stops
    after n rows.
    """
    rows = list(rows)
    depth: dict[Any, int] = {}
    lines = []
    for row in rows:
        node, parent, detail = row[0], row[1], str(row[-1])
        depth[node] = depth.get(parent, -1) + 1
        lines.append(_sqlite_line("  " * depth[node] + detail, detail, tables, aliases))
    outer = _sqlite_outer_loop(rows, lines)
    if outer is not None and _stops_at_limit(sql):
        line = lines[outer]
        if line.problem is Problem.FULL_SCAN:
            lines[outer] = PlanLine(line.text, line.table, None)
    return Plan(tuple(lines))


def _sqlite_outer_loop(rows: Sequence[Sequence[Any]], lines: Sequence[PlanLine]) -> int | None:
    """The index of the top level's first loop, if nothing at the top level sorts."""
    top = [i for i, row in enumerate(rows) if row[1] == 0]
    if any(lines[i].problem is Problem.TEMP_BTREE for i in top):
        return None
    loops = [i for i in top if str(rows[i][-1]).lstrip().startswith(("SCAN", "SEARCH"))]
    return loops[0] if loops else None


_LIMIT = re.compile(r"\bLIMIT\b", re.I)
_WHERE_OR_GROUP = re.compile(
    r"\b(?:WHERE|GROUP\s+BY|HAVING|DISTINCT|UNION|EXCEPT|INTERSECT)\b", re.I
)


def _stops_at_limit(sql: str) -> bool:
    top = top_level(sql)
    return bool(_LIMIT.search(top)) and not _WHERE_OR_GROUP.search(top)


def top_level(sql: str) -> str:
    """``sql`` without string literals and without anything inside parentheses."""
    text = _STRING_LITERAL.sub("''", sql)
    kept = []
    depth = 0
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth = max(0, depth - 1)
        elif depth == 0:
            kept.append(char)
    return "".join(kept)


_STRING_LITERAL = re.compile(r"'(?:[^']|'')*'")


def _sqlite_line(
    text: str, detail: str, tables: Collection[str], aliases: Mapping[str, str]
) -> PlanLine:
    detail = detail.strip()
    if _TEMP_BTREE.search(detail):
        return PlanLine(text, problem=Problem.TEMP_BTREE)
    if match := _BLOOM.match(detail):
        table = _resolve(match["name"], aliases, tables)
        return PlanLine(text, table, Problem.AUTOMATIC_INDEX if table else None)
    for pattern in (_SCAN, _SEARCH):
        if not (match := pattern.match(detail)):
            continue
        # Old wording names the table (then AS alias); 3.36+ names only the alias.
        table = _resolve(match["name"], aliases, tables)
        if table is None:
            return PlanLine(text)
        rest = match["rest"]
        if "AUTOMATIC" in rest:
            problem: Problem | None = Problem.AUTOMATIC_INDEX
        elif pattern is _SCAN:
            # SCAN t, and SCAN t USING [COVERING] INDEX i: no constraint, the whole of it.
            problem = Problem.FULL_SCAN
        else:
            problem = None
        return PlanLine(text, table, problem)
    return PlanLine(text)


# --- PostgreSQL --------------------------------------------------------------

_SORTS = frozenset({"Sort", "Incremental Sort"})


#: Index nodes: without an index condition they walk the whole index.
_INDEX_SCANS = frozenset({"Index Scan", "Index Only Scan", "Bitmap Index Scan"})
#: Nodes through which a LIMIT above still stops a scan below early (outer side only).
_PASS_THROUGH = frozenset({"Result", "Subquery Scan", "Nested Loop", "Gather", "Gather Merge"})


def postgres_plan(explained: Any) -> Plan:
    """Classify the output of ``EXPLAIN (FORMAT JSON)`` (the list, or its first ``Plan``).

    A full scan is a ``Seq Scan``, or an index node with no ``Index Cond``
    (the whole index walked in its order). Under a ``Limit`` (through a
    Result, Subquery Scan, or the outer side of a Nested Loop; not through a
    Sort) the scan stops once the LIMIT has its rows: ``PlanLine.fraction``
    is the planner's share of the scan that runs (the Limit's rows over the
    scan's rows), and the check counts it only if that share of the table
    reaches ``min_rows``.
    """
    root = explained
    if isinstance(root, list):
        root = root[0]
    if isinstance(root, Mapping) and "Plan" in root:
        root = root["Plan"]
    lines: list[PlanLine] = []
    _walk_postgres(root, 0, lines, limit_rows=None, relation=None)
    return Plan(tuple(lines))


def _walk_postgres(
    node: Mapping[str, Any],
    depth: int,
    lines: list[PlanLine],
    *,
    limit_rows: float | None,
    relation: str | None,
) -> None:
    kind = str(node.get("Node Type", "?"))
    table = node.get("Relation Name") or (relation if kind == "Bitmap Index Scan" else None)
    text = "  " * depth + _postgres_text(node)
    problem: Problem | None = None
    fraction: float | None = None
    if kind == "Seq Scan" or (kind in _INDEX_SCANS and not node.get("Index Cond")):
        problem = Problem.FULL_SCAN
        rows = node.get("Plan Rows")
        if limit_rows is not None and isinstance(rows, int | float) and rows > 0:
            fraction = min(1.0, limit_rows / rows)
    elif kind in _SORTS:
        problem = Problem.TEMP_BTREE
    lines.append(PlanLine(text, str(table) if table else None, problem, fraction=fraction))
    for index, child in enumerate(node.get("Plans", ())):
        below: float | None = None
        if kind == "Limit":
            rows = node.get("Plan Rows")
            below = float(rows) if isinstance(rows, int | float) else None
        elif kind in _PASS_THROUGH and (kind != "Nested Loop" or index == 0):
            below = limit_rows
        heap = node.get("Relation Name") if kind == "Bitmap Heap Scan" else None
        _walk_postgres(child, depth + 1, lines, limit_rows=below, relation=heap)


def _postgres_text(node: Mapping[str, Any]) -> str:
    """A node the way ``EXPLAIN`` prints it in text: ``Seq Scan on bookings (Filter: ...)``."""
    text = str(node.get("Node Type", "?"))
    if "Index Name" in node:
        text += f" using {node['Index Name']}"
    if "Relation Name" in node:
        text += f" on {node['Relation Name']}"
        alias = node.get("Alias")
        if alias and alias != node["Relation Name"]:
            text += f" {alias}"
    details = [f"{key}: {node[key]}" for key in ("Index Cond", "Filter") if node.get(key)]
    if node.get("Sort Key"):
        details.append("Sort Key: " + ", ".join(map(str, node["Sort Key"])))
    return text + (f" ({'; '.join(details)})" if details else "")


# --- MariaDB / MySQL ---------------------------------------------------------

#: Keys whose (true or object) value means rows are sorted or grouped in a temporary table.
_MYSQL_TEMP = {
    "filesort": "filesort",
    "temporary_table": "temporary table",
    "using_filesort": "using filesort",
    "using_temporary_table": "using temporary table",
}


def mysql_plan(explained: Any, *, tables: Collection[str], aliases: Mapping[str, str]) -> Plan:
    """Classify ``EXPLAIN FORMAT=JSON`` output (the parsed document)."""
    lines: list[PlanLine] = []
    _walk_mysql(explained, 0, lines, tables, aliases)
    return Plan(tuple(lines))


def _walk_mysql(
    node: Any,
    depth: int,
    lines: list[PlanLine],
    tables: Collection[str],
    aliases: Mapping[str, str],
) -> None:
    if isinstance(node, list):
        for item in node:
            _walk_mysql(item, depth, lines, tables, aliases)
        return
    if not isinstance(node, Mapping):
        return
    if "table_name" in node:
        lines.append(_mysql_table(node, depth, tables, aliases))
        depth += 1
    for key, value in node.items():
        label = _MYSQL_TEMP.get(key)
        if label and value:
            sort_key = value.get("sort_key") if isinstance(value, Mapping) else None
            text = label + (f" (sort key: {sort_key})" if sort_key else "")
            lines.append(PlanLine("  " * depth + text, problem=Problem.TEMP_BTREE))
        if isinstance(value, Mapping | list):
            _walk_mysql(value, depth + 1 if label else depth, lines, tables, aliases)


def _mysql_table(
    node: Mapping[str, Any], depth: int, tables: Collection[str], aliases: Mapping[str, str]
) -> PlanLine:
    name = str(node["table_name"])
    access = str(node.get("access_type", "?"))
    table = _resolve(name, aliases, tables)
    text = f"{access} on {name}"
    if node.get("key"):
        text += f" using {node['key']}"
    if node.get("attached_condition"):
        text += f" (condition: {node['attached_condition']})"
    problem: Problem | None = None
    estimate: int | None = None
    if table is not None and access in ("ALL", "index"):
        problem = Problem.FULL_SCAN
        read = node.get("r_rows")  # ANALYZE FORMAT=JSON: the rows it really read
        rows = node.get("rows")
        if isinstance(read, int | float):
            estimate = int(read)
        elif (
            access == "index"
            and isinstance(rows, int | float)
            and not node.get("attached_condition")
        ):
            # EXPLAIN: an unfiltered walk in index order under a LIMIT estimates the rows
            # it stops after; with a filter it reads on until enough match: a full scan.
            estimate = int(rows)
    return PlanLine("  " * depth + text, table, problem, estimate)
