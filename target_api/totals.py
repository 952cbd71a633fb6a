"""Exact list totals without ``count(*)``: the ``chef_totals`` table and its triggers.

Every chefs page reports how many active chefs match its filters. Counting
them per request walks the matching index entries (about 1,800 at scale 1.0:
70-90 µs on SQLite for the unfiltered list, 300+ µs with a cuisine filter,
whose index does not cover ``is_active``), the largest cost of an uncached
chefs request. ``chef_totals`` keeps those numbers instead: one row per
filter combination the endpoint accepts,

========  ===============  ===========  ===========================================
scope     cuisine_type     location     counts the active chefs ...
========  ===============  ===========  ===========================================
0         ``''``           ``''``       all of them (no filter)
1         the cuisine      ``''``       of that cuisine
2         ``''``           the city     in that location
3         the cuisine      the city     of that cuisine in that location
========  ===============  ===========  ===========================================

so a total is one primary-key lookup (:func:`total_statement`). ``scope``
says which filters a row is for, so ``''`` never collides with a real
cuisine or location.

Triggers on ``chefs`` keep the rows exact: each insert, delete, or update of
``is_active`` / ``cuisine_type`` / ``location`` adds or removes the row's
chef in its four totals, inside the writing transaction. A reader therefore
never sees a total that disagrees with the rows it pages through, whoever
wrote them (the API, a script, a migration). SQLite gets four ``WHEN``
triggers, PostgreSQL one PL/pgSQL trigger function, MariaDB/MySQL one
trigger per event; all run the same upsert. Chefs are written rarely
(bookings, the frequent write, do not touch them), so the few extra row
writes per chef change cost nothing measurable.

:func:`install` creates the table and the triggers where missing and
recounts the totals from ``chefs`` (idempotent: it is part of the migration,
:func:`target_api.migrations.apply`).
"""

from __future__ import annotations

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    bindparam,
    delete,
    func,
    insert,
    inspect,
    literal,
    select,
    text,
    true,
    union_all,
)
from sqlalchemy.sql import Select

from target_api.models import Chef, ChefTotal

#: The key of a filter the row is not for.
ANY = ""
TABLE = "chef_totals"
#: The chef columns a total depends on: an update of another column fires nothing.
WATCHED = "is_active, cuisine_type, location"
#: PostgreSQL: the function and the one trigger that calls it.
PG_FUNCTION = "chef_totals_maintain"


def scope(cuisine: bool, location: bool) -> int:
    """The ``scope`` of the rows holding totals for these filters."""
    return int(cuisine) | int(location) << 1


def total_statement(cuisine: bool, location: bool) -> Select[int]:
    """The active chefs matching the filters (bind ``cuisine`` / ``location``): one row, 0 if none.

    ``sum`` over at most one row: an aggregate always yields a row, so the
    statement works as a scalar subquery and on its own.
    """
    conditions: list[ColumnElement[bool]] = [
        ChefTotal.scope == scope(cuisine, location),
        ChefTotal.cuisine_type == (bindparam("cuisine") if cuisine else ANY),
        ChefTotal.location == (bindparam("location") if location else ANY),
    ]
    return select(func.coalesce(func.sum(ChefTotal.active), 0)).where(*conditions)


def _upsert(row: str, delta: int, dialect: str = "sqlite") -> str:
    """Add ``delta`` to the four totals of the chef ``row`` (``NEW`` or ``OLD``).

    SQLite and PostgreSQL share ``ON CONFLICT``; MariaDB/MySQL say ``ON DUPLICATE KEY``.
    """
    keys = (
        (0, "''", "''"),
        (1, f"{row}.cuisine_type", "''"),
        (2, "''", f"{row}.location"),
        (3, f"{row}.cuisine_type", f"{row}.location"),
    )
    values = ", ".join(f"({s}, {cuisine}, {location}, {delta})" for s, cuisine, location in keys)
    if dialect == "mysql":
        return (
            f"INSERT INTO {TABLE} (scope, cuisine_type, location, active) VALUES {values} "
            f"ON DUPLICATE KEY UPDATE active = active + VALUES(active)"
        )
    return (
        f"INSERT INTO {TABLE} (scope, cuisine_type, location, active) VALUES {values} "
        f"ON CONFLICT (scope, cuisine_type, location) "
        f"DO UPDATE SET active = {TABLE}.active + excluded.active"
    )


#: name -> body after ``CREATE TRIGGER name``.
SQLITE_TRIGGERS = {
    "chef_totals_insert": (
        f"AFTER INSERT ON chefs WHEN NEW.is_active BEGIN {_upsert('NEW', 1)}; END"
    ),
    "chef_totals_delete": (
        f"AFTER DELETE ON chefs WHEN OLD.is_active BEGIN {_upsert('OLD', -1)}; END"
    ),
    "chef_totals_update_old": (
        f"AFTER UPDATE OF {WATCHED} ON chefs WHEN OLD.is_active BEGIN {_upsert('OLD', -1)}; END"
    ),
    "chef_totals_update_new": (
        f"AFTER UPDATE OF {WATCHED} ON chefs WHEN NEW.is_active BEGIN {_upsert('NEW', 1)}; END"
    ),
}

#: MariaDB/MySQL: one trigger per event (no ``UPDATE OF``: an update of another column
#: removes and re-adds the chef in the same totals, a net change of zero).
MYSQL_TRIGGERS = {
    "chef_totals_insert": (
        f"AFTER INSERT ON chefs FOR EACH ROW BEGIN "
        f"IF NEW.is_active THEN {_upsert('NEW', 1, 'mysql')}; END IF; END"
    ),
    "chef_totals_delete": (
        f"AFTER DELETE ON chefs FOR EACH ROW BEGIN "
        f"IF OLD.is_active THEN {_upsert('OLD', -1, 'mysql')}; END IF; END"
    ),
    "chef_totals_update": (
        f"AFTER UPDATE ON chefs FOR EACH ROW BEGIN "
        f"IF OLD.is_active THEN {_upsert('OLD', -1, 'mysql')}; END IF; "
        f"IF NEW.is_active THEN {_upsert('NEW', 1, 'mysql')}; END IF; END"
    ),
}

PG_FUNCTION_SQL = f"""
CREATE OR REPLACE FUNCTION {PG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        IF OLD.is_active THEN {_upsert("OLD", -1)}; END IF;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        IF NEW.is_active THEN {_upsert("NEW", 1)}; END IF;
    END IF;
    RETURN NULL;
END
$body$"""
PG_TRIGGER_SQL = (
    f"CREATE TRIGGER {PG_FUNCTION} AFTER INSERT OR DELETE OR UPDATE OF {WATCHED} ON chefs "
    f"FOR EACH ROW EXECUTE FUNCTION {PG_FUNCTION}()"
)


def install(connection: Connection) -> list[str]:
    """Create the totals table and triggers where missing, then recount; return what was created.

    Does nothing on a database without a chefs table. Runs in the caller's
    transaction. On PostgreSQL the chefs table is locked against writers for
    the recount, so no chef changes between the recount and the triggers
    taking over.
    """
    created: list[str] = []
    inspector = inspect(connection)
    if not inspector.has_table("chefs"):
        return created  # nothing to count: an empty database
    if not inspector.has_table(TABLE):
        ChefTotal.__table__.create(connection)  # type: ignore[attr-defined]
        created.append(TABLE)
    existing = _trigger_names(connection)
    if connection.dialect.name == "postgresql":
        connection.execute(text("LOCK TABLE chefs IN SHARE ROW EXCLUSIVE MODE"))
        # The function is replaced every time: a changed body takes effect on deploy.
        connection.exec_driver_sql(PG_FUNCTION_SQL)
        if PG_FUNCTION not in existing:
            connection.exec_driver_sql(PG_TRIGGER_SQL)
            created.append(PG_FUNCTION)
    else:
        triggers = MYSQL_TRIGGERS if connection.dialect.name == "mysql" else SQLITE_TRIGGERS
        for name, body in triggers.items():
            if name not in existing:
                connection.exec_driver_sql(f"CREATE TRIGGER {name} {body}")
                created.append(name)
    recount(connection)
    return created


def _trigger_names(connection: Connection) -> set[str]:
    if connection.dialect.name == "postgresql":
        query = "SELECT tgname FROM pg_trigger WHERE tgrelid = 'chefs'::regclass"
    elif connection.dialect.name == "mysql":
        query = (
            "SELECT trigger_name FROM information_schema.triggers "
            "WHERE event_object_table = 'chefs' AND trigger_schema = DATABASE()"
        )
    else:
        query = "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'chefs'"
    return set(connection.exec_driver_sql(query).scalars())


def recount(connection: Connection) -> None:
    """Rebuild every total from ``chefs`` (in the caller's transaction)."""
    active = Chef.is_active == true()
    blank = literal(ANY)
    per_scope = [
        select(literal(0, Integer), blank, blank, func.count()).where(active),
        select(literal(1, Integer), Chef.cuisine_type, blank, func.count())
        .where(active)
        .group_by(Chef.cuisine_type),
        select(literal(2, Integer), blank, Chef.location, func.count())
        .where(active)
        .group_by(Chef.location),
        select(literal(3, Integer), Chef.cuisine_type, Chef.location, func.count())
        .where(active)
        .group_by(Chef.cuisine_type, Chef.location),
    ]
    connection.execute(delete(ChefTotal))
    connection.execute(
        insert(ChefTotal).from_select(
            ["scope", "cuisine_type", "location", "active"], union_all(*per_scope)
        )
    )
