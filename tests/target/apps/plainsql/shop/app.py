"""``app = Flask(__name__)`` at module level, no factory, no Flask-SQLAlchemy."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, abort
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .database import db_session
from .models import Category, Product

app = Flask(__name__)
app.config["SHOP_N_PLUS_ONE"] = os.environ.get("SHOP_N_PLUS_ONE") == "1"


@app.teardown_appcontext
def remove_session(_error: BaseException | None) -> None:
    db_session.remove()


@app.get("/categories")
def categories() -> Any:
    query = select(Category).order_by(Category.id)
    if not app.config["SHOP_N_PLUS_ONE"]:
        query = query.options(selectinload(Category.products))
    return [
        {"name": c.name, "products": [p.name for p in c.products]}
        for c in db_session.scalars(query)
    ]


@app.get("/products/<int:product_id>")
def product(product_id: int) -> Any:
    found = db_session.get(Product, product_id)
    if found is None:
        abort(404)
    return {"name": found.name}
