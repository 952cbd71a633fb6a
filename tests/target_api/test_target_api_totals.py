"""The chefs list's totals: kept exact by triggers, whoever writes, on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import ColumnElement, delete, func, inspect, select, text, true, update

from target_api import db, migrations, totals
from target_api.models import Chef, ChefTotal

NO_CACHE = {"Cache-Control": "no-cache"}


def filters(app: Flask) -> list[dict[str, str]]:
    """Every filter combination over one cuisine and one location that exist, plus unknowns."""
    with app.app_context():
        cuisine, location = db.session.execute(
            select(Chef.cuisine_type, Chef.location).where(Chef.is_active).limit(1)
        ).one()
    combos = [
        {k: v for k, v in (("cuisine", c), ("location", loc)) if v is not None}
        for c, loc in itertools.product((None, cuisine, "Nowhere"), (None, location, "Atlantis"))
    ]
    return combos


def counted(app: Flask, query: dict[str, str]) -> int:
    """count(*) over the chefs table: the truth the totals must match."""
    conditions: list[ColumnElement[bool]] = [Chef.is_active == true()]
    if "cuisine" in query:
        conditions.append(Chef.cuisine_type == query["cuisine"])
    if "location" in query:
        conditions.append(Chef.location == query["location"])
    with app.app_context():
        return int(db.session.scalar(select(func.count()).where(*conditions)) or 0)


def listed(client: FlaskClient, query: dict[str, str], page: int = 1) -> int:
    response = client.get(
        "/api/coocook/chefs", query_string={**query, "page": page}, headers=NO_CACHE
    )
    assert response.status_code == 200
    return int(response.get_json()["total"])


def assert_totals_exact(app: Flask, client: FlaskClient) -> None:
    for query in filters(app):
        expected = counted(app, query)
        assert listed(client, query) == expected, query
        # A page past the end has no row to carry the total: the separate statement.
        assert listed(client, query, page=10_000) == expected, query


def test_totals_match_count_after_every_kind_of_chef_write(app: Flask, client: FlaskClient) -> None:
    assert_totals_exact(app, client)
    with app.app_context():
        first = db.session.execute(select(Chef).where(Chef.is_active).limit(1)).scalar_one()
        other = db.session.execute(
            select(Chef).where(Chef.is_active, Chef.cuisine_type != first.cuisine_type).limit(1)
        ).scalar_one()
        session = db.session
        # Moves into another cuisine and location, a deactivation, a reactivation,
        # a new chef, an update of a column no total depends on, and a delete.
        session.execute(
            update(Chef)
            .where(Chef.id == other.id)
            .values(cuisine_type=first.cuisine_type, location=first.location)
        )
        session.execute(update(Chef).where(Chef.id == first.id).values(is_active=False))
        inactive = session.scalar(select(Chef.id).where(~Chef.is_active, Chef.id != first.id))
        session.execute(update(Chef).where(Chef.id == inactive).values(is_active=True))
        session.execute(update(Chef).where(Chef.is_active).values(rating=Chef.rating))
        template = {c.key: getattr(other, c.key) for c in Chef.__table__.columns if c.key != "id"}
        session.add(Chef(**{**template, "location": "Reykjavik"}))
        session.execute(text("DELETE FROM bookings WHERE chef_id = :id"), {"id": other.id})
        session.execute(delete(Chef).where(Chef.id == other.id))
        session.commit()
    assert_totals_exact(app, client)
    assert listed(client, {"location": "Reykjavik"}) == 1


def test_a_rolled_back_write_leaves_the_totals_alone(app: Flask, client: FlaskClient) -> None:
    before = listed(client, {})
    with app.app_context():
        db.session.execute(update(Chef).values(is_active=False))
        assert db.session.scalar(totals.total_statement(False, False)) == 0
        db.session.rollback()
    assert listed(client, {}) == before == counted(app, {})


def test_the_total_is_one_statement_with_the_page(
    app: Flask, client: FlaskClient, counter_for: Callable[[Flask], Any]
) -> None:
    counter = counter_for(app)
    assert counter.count_during(lambda: listed(client, {"cuisine": "Korean"})) == 1
    (statement,) = counter.statements
    assert "FROM chef_totals" in statement
    assert "count(*)" not in statement.split("FROM bookings")[-1]


def test_migration_builds_totals_on_a_database_without_them(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app()
    client = app.test_client()
    expected = counted(app, {})
    with app.app_context(), db.engine.begin() as connection:
        # A database from before the totals: no table, no triggers.
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"DROP TRIGGER {totals.PG_FUNCTION} ON chefs")
        else:
            mysql = connection.dialect.name == "mysql"
            for name in totals.MYSQL_TRIGGERS if mysql else totals.SQLITE_TRIGGERS:
                connection.exec_driver_sql(f"DROP TRIGGER {name}")
        ChefTotal.__table__.drop(connection)  # type: ignore[attr-defined]
    with app.app_context():
        created = migrations.apply(db.engine)
        assert totals.TABLE in created
        assert migrations.apply(db.engine) == []
    assert listed(client, {}) == expected


def test_migration_leaves_an_empty_database_alone(make_app: Callable[..., Flask]) -> None:
    app = make_app(seed=False)
    with app.app_context():
        assert migrations.apply(db.engine) == []
        assert not inspect(db.engine).get_table_names()


def test_migration_repairs_totals_that_drifted(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        db.session.execute(update(ChefTotal).values(active=ChefTotal.active + 7))
        db.session.commit()
    assert listed(client, {}) == counted(app, {}) + 7
    with app.app_context():
        assert migrations.apply(db.engine) == []
    assert_totals_exact(app, client)


@pytest.mark.parametrize(
    ("cuisine", "location", "scope"),
    [(False, False, 0), (True, False, 1), (False, True, 2), (True, True, 3)],
)
def test_scope_numbers_the_filter_combinations(cuisine: bool, location: bool, scope: int) -> None:
    assert totals.scope(cuisine, location) == scope
