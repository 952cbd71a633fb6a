"""A tiny Flask + SQLAlchemy app for testing the engine without target_api."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask, jsonify
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import Mapped, mapped_column

db = SQLAlchemy()


class Item(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite://"
    app.config.update(config or {})
    db.init_app(app)

    @app.get("/health")
    def health() -> Any:
        return {"ok": True}

    @app.get("/items")
    def items() -> Any:
        # TOY_EXTRA_QUERIES puts a regression in on demand.
        for _ in range(int(app.config.get("TOY_EXTRA_QUERIES", 0))):
            db.session.execute(db.select(Item.id).limit(1)).all()
        rows = db.session.execute(db.select(Item).order_by(Item.id)).scalars().all()
        return jsonify([{"id": r.id, "name": r.name} for r in rows])

    if app.config.get("TOY_BROKEN"):
        raise RuntimeError("toy app refuses to start")
    return app


def seed(app: Flask, rows: int = 5) -> dict[str, int]:
    with app.app_context():
        db.drop_all()
        db.create_all()
        db.session.add_all(Item(name=f"item {i}") for i in range(rows))
        db.session.commit()
    return {"items": rows}
