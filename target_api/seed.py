"""Deterministic seed data at a chosen scale.

Scale 1.0 is big enough for production-like query plans (2,000 chefs,
40,000 bookings, ~90,000 rows in all) and builds in seconds: rows are made
with one fixed-seed RNG and inserted per table with a single executemany.
The same scale always yields the same rows.

``python -m target_api.seed [--scale S] [--database-url URL] [--faults F]``
or ``flask --app target_api seed --scale S``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
from collections.abc import Callable, Sequence
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import Connection, Table, text
from sqlalchemy.schema import CreateTable

from target_api import caching, migrations
from target_api.extensions import db
from target_api.faults import MISSING_INDEXES
from target_api.models import (
    APPLICATION_STATUSES,
    BOOKING_STATUSES,
    CAMPAIGN_STATUSES,
    POST_STATUSES,
    SUBSCRIPTION_STATUSES,
    AIEmployee,
    Base,
    Booking,
    Campaign,
    CampaignApplication,
    Chef,
    Product,
    Scenario,
    SNSAccount,
    SNSPost,
    Subscription,
    User,
)

RNG_SEED = 20260225  # the report's date: any fixed value makes runs identical
EPOCH = dt.datetime(2025, 1, 1, 9, 0, 0)

#: Rows per table at scale 1.0 (products are a fixed catalogue).
BASE_COUNTS: dict[str, int] = {
    "users": 5000,
    "chefs": 2000,
    "bookings": 40000,
    "subscriptions": 4000,
    "sns_accounts": 2000,
    "sns_posts": 20000,
    "campaigns": 500,
    "campaign_applications": 10000,
    "ai_employees": 1500,
    "scenarios": 3000,
}

CUISINES = (
    "Korean", "Japanese", "Italian", "French", "Mexican", "Indian",
    "Thai", "Chinese", "Vietnamese", "Spanish", "Greek", "American",
)  # fmt: skip
LOCATIONS = (
    "Seoul", "Busan", "Incheon", "Tokyo", "Osaka", "Paris", "Lyon", "Rome", "Milan",
    "New York", "Chicago", "London", "Berlin", "Madrid", "Bangkok", "Hanoi",
)  # fmt: skip
WORDS = (
    "seasonal", "kitchen", "fermented", "broth", "market", "family", "recipe", "charcoal",
    "knife", "spice", "garden", "harvest", "street", "dumpling", "noodle", "pastry", "sauce",
    "tasting", "menu", "private", "dinner", "class", "vegetarian", "seafood", "grill", "bread",
    "wine", "pairing", "traditional", "modern", "technique", "years", "restaurant", "award",
)  # fmt: skip
PRODUCTS = (
    ("CooCook Basic", 9.99, "monthly"), ("CooCook Pro", 29.99, "monthly"),
    ("SNS Auto Starter", 19.0, "monthly"), ("SNS Auto Agency", 99.0, "monthly"),
    ("Review Campaigns", 49.0, "monthly"), ("AI Employee", 79.0, "monthly"),
    ("AI Employee Team", 299.0, "monthly"), ("CooCook Annual", 299.0, "yearly"),
    ("SNS Auto Annual", 190.0, "yearly"), ("Campaigns Annual", 490.0, "yearly"),
    ("Platform Bundle", 149.0, "monthly"), ("Legacy Plan", 5.0, "monthly"),
)  # fmt: skip
SCENARIO_CATEGORIES = ("support", "sales", "marketing", "operations", "finance", "hr")
AI_ROLES = ("assistant", "analyst", "writer", "scheduler", "recruiter")
PLATFORMS = ("instagram", "tiktok", "x", "youtube", "facebook")


def scaled_counts(scale: float) -> dict[str, int]:
    """Rows per table at ``scale`` (at least a handful each, so tiny scales still join)."""
    if scale <= 0:
        raise ValueError(f"scale must be positive, got {scale}")
    return {table: max(5, round(count * scale)) for table, count in BASE_COUNTS.items()}


class _Generator:
    """Builds every table's rows from one RNG, in dependency order."""

    def __init__(self, counts: dict[str, int]) -> None:
        self.rng = random.Random(RNG_SEED)
        self.counts = counts

    def when(self, days: int = 400) -> dt.datetime:
        return EPOCH + dt.timedelta(minutes=self.rng.randrange(days * 24 * 60))

    def words(self, low: int, high: int) -> str:
        return " ".join(self.rng.choices(WORDS, k=self.rng.randint(low, high))).capitalize() + "."

    def pick(self, table: str) -> int:
        return self.rng.randint(1, self.counts[table])

    def users(self, n: int) -> list[dict[str, Any]]:
        return [
            {
                "id": i,
                "email": f"user{i}@softfactory.example",
                "name": f"User {i}",
                "created_at": self.when(),
            }
            for i in range(1, n + 1)
        ]

    def chefs(self, n: int) -> list[dict[str, Any]]:
        rng = self.rng
        return [
            {
                "id": i,
                "user_id": self.pick("users"),
                "name": f"Chef {i}",
                "bio": self.words(60, 100),
                "cuisine_type": rng.choice(CUISINES),
                "location": rng.choice(LOCATIONS),
                "price_per_session": float(rng.randrange(40, 300)),
                "rating": round(rng.uniform(3.0, 5.0), 1),
                "rating_count": rng.randint(0, 500),
                "is_active": rng.random() < 0.9,
                "created_at": self.when(),
            }
            for i in range(1, n + 1)
        ]

    def bookings(self, n: int) -> list[dict[str, Any]]:
        rng = self.rng
        rows = []
        for i in range(1, n + 1):
            hours = rng.randint(1, 6)
            rows.append(
                {
                    "id": i,
                    "chef_id": self.pick("chefs"),
                    "user_id": self.pick("users"),
                    "booking_date": (EPOCH + dt.timedelta(days=rng.randrange(400))).date(),
                    "duration_hours": hours,
                    "total_price": float(rng.randrange(40, 300) * hours),
                    "status": rng.choice(BOOKING_STATUSES),
                    "notes": "" if rng.random() < 0.7 else self.words(5, 20),
                    "created_at": self.when(),
                }
            )
        return rows

    def products(self) -> list[dict[str, Any]]:
        return [
            {
                "id": i,
                "name": name,
                "description": self.words(20, 40),
                "price": price,
                "billing_period": period,
                "is_active": name != "Legacy Plan",
                "created_at": self.when(),
            }
            for i, (name, price, period) in enumerate(PRODUCTS, start=1)
        ]

    def subscriptions(self, n: int) -> list[dict[str, Any]]:
        return [
            {
                "id": i,
                "user_id": self.pick("users"),
                "product_id": self.rng.randint(1, len(PRODUCTS)),
                "status": self.rng.choice(SUBSCRIPTION_STATUSES),
                "started_at": self.when(),
            }
            for i in range(1, n + 1)
        ]

    def sns_accounts(self, n: int) -> list[dict[str, Any]]:
        return [
            {
                "id": i,
                "user_id": self.pick("users"),
                "platform": self.rng.choice(PLATFORMS),
                "handle": f"@softfactory_{i}",
                "followers": self.rng.randint(0, 100_000),
                "created_at": self.when(),
            }
            for i in range(1, n + 1)
        ]

    def sns_posts(self, n: int) -> list[dict[str, Any]]:
        return [
            {
                "id": i,
                "account_id": self.pick("sns_accounts"),
                "content": self.words(10, 30),
                "status": self.rng.choice(POST_STATUSES),
                "scheduled_at": self.when(),
                "created_at": self.when(),
            }
            for i in range(1, n + 1)
        ]

    def campaigns(self, n: int) -> list[dict[str, Any]]:
        return [
            {
                "id": i,
                "owner_id": self.pick("users"),
                "title": f"Campaign {i}: " + self.words(2, 5),
                "description": self.words(30, 60),
                "status": self.rng.choice(CAMPAIGN_STATUSES),
                "budget": float(self.rng.randrange(100, 10_000)),
                "created_at": self.when(),
            }
            for i in range(1, n + 1)
        ]

    def campaign_applications(self, n: int) -> list[dict[str, Any]]:
        return [
            {
                "id": i,
                "campaign_id": self.pick("campaigns"),
                "user_id": self.pick("users"),
                "status": self.rng.choice(APPLICATION_STATUSES),
                "message": self.words(8, 25),
                "created_at": self.when(),
            }
            for i in range(1, n + 1)
        ]

    def ai_employees(self, n: int) -> list[dict[str, Any]]:
        return [
            {
                "id": i,
                "user_id": self.pick("users"),
                "name": f"Agent {i}",
                "role": self.rng.choice(AI_ROLES),
                "model": self.rng.choice(("small", "medium", "large")),
                "is_active": self.rng.random() < 0.85,
                "created_at": self.when(),
            }
            for i in range(1, n + 1)
        ]

    def scenarios(self, n: int) -> list[dict[str, Any]]:
        return [
            {
                "id": i,
                "ai_employee_id": self.pick("ai_employees"),
                "category": self.rng.choice(SCENARIO_CATEGORIES),
                "title": f"Scenario {i}",
                "description": self.words(15, 40),
                "created_at": self.when(),
            }
            for i in range(1, n + 1)
        ]


def generate(scale: float) -> list[tuple[Table, list[dict[str, Any]]]]:
    """Every table with its rows, parents before children."""
    counts = scaled_counts(scale)
    gen = _Generator(counts)
    plan: list[tuple[type[Base], Callable[[], list[dict[str, Any]]]]] = [
        (User, lambda: gen.users(counts["users"])),
        (Chef, lambda: gen.chefs(counts["chefs"])),
        (Booking, lambda: gen.bookings(counts["bookings"])),
        (Product, gen.products),
        (Subscription, lambda: gen.subscriptions(counts["subscriptions"])),
        (SNSAccount, lambda: gen.sns_accounts(counts["sns_accounts"])),
        (SNSPost, lambda: gen.sns_posts(counts["sns_posts"])),
        (Campaign, lambda: gen.campaigns(counts["campaigns"])),
        (CampaignApplication, lambda: gen.campaign_applications(counts["campaign_applications"])),
        (AIEmployee, lambda: gen.ai_employees(counts["ai_employees"])),
        (Scenario, lambda: gen.scenarios(counts["scenarios"])),
    ]
    return [(model.__table__, make()) for model, make in plan]  # type: ignore[misc]


def seed_database(app: Flask, scale: float = 1.0) -> dict[str, int]:
    """Drop and recreate every table, insert the rows for ``scale``, return rows per table.

    The migration (:func:`target_api.migrations.apply`) then adds the chef
    totals and, unless the app runs the ``missing_indexes`` fault, the
    indexes. Cached responses are invalidated: the data they came from is gone.
    """
    data = generate(scale)
    with app.app_context():
        engine = db.engine
        db.session.remove()
        Base.metadata.drop_all(engine)
        with engine.begin() as connection:
            for table in Base.metadata.sorted_tables:
                # CreateTable alone: indexes are the migration's job (or the fault's absence).
                connection.execute(CreateTable(table))
            for table, rows in data:
                connection.execute(table.insert(), rows)
            if engine.dialect.name == "postgresql":
                _advance_sequences(connection, [table for table, _ in data])
        # Over the loaded data, as on an existing database (and faster than before it).
        migrations.apply(engine, indexes=MISSING_INDEXES not in app.config["FAULTS"])
        caching.view_cache().invalidate()
    return {table.name: len(rows) for table, rows in data}


def _advance_sequences(connection: Connection, tables: Sequence[Table]) -> None:
    """Rows were inserted with explicit ids: move each id sequence past them."""
    for table in tables:
        connection.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                f"(SELECT coalesce(max(id), 0) + 1 FROM {table.name}), false)"
            )
        )


@click.command("seed")
@with_appcontext
@click.option("--scale", type=float, default=1.0, show_default=True, help="1.0 = 2,000 chefs")
def seed_command(scale: float) -> None:
    """Drop, recreate and fill the database with deterministic data."""
    counts = seed_database(current_app._get_current_object(), scale)  # type: ignore[attr-defined]
    click.echo(_summary(counts))


def _summary(counts: dict[str, int]) -> str:
    return f"seeded {sum(counts.values())} rows: " + ", ".join(
        f"{k}={v}" for k, v in counts.items()
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m target_api.seed", description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 2,000 chefs (default)")
    parser.add_argument("--database-url", help="default: DATABASE_URL or the instance SQLite file")
    parser.add_argument("--faults", help="e.g. missing_indexes (default: PERFCI_FAULTS)")
    args = parser.parse_args(argv)
    from target_api import create_app

    overrides: dict[str, Any] = {}
    if args.database_url:
        overrides["SQLALCHEMY_DATABASE_URI"] = args.database_url
    if args.faults is not None:
        overrides["FAULTS"] = args.faults
    app = create_app(overrides)
    print(_summary(seed_database(app, args.scale)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
