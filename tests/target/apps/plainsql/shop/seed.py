"""Seed data for perfci."""

from __future__ import annotations

from flask import Flask

from .database import Base, db_session, engine
from .models import Category, Product


def seed(app: Flask, categories: int = 8, per_category: int = 5) -> dict[str, int]:
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    for c in range(categories):
        category = Category(name=f"category {c}")
        db_session.add(category)
        db_session.add_all(
            Product(name=f"product {c}.{p}", category=category) for p in range(per_category)
        )
    db_session.commit()
    db_session.remove()
    return {"categories": categories, "products": categories * per_category}
