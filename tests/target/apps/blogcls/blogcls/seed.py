"""Seed data for perfci: users and their posts."""

from __future__ import annotations

import datetime as dt

from flask import Flask

from . import Post, User, db


def seed(app: Flask, users: int = 20, posts: int = 30, create: bool = True) -> dict[str, int]:
    """``create``: the schema from the models (false when Alembic made it)."""
    if create:
        db.drop_all()
        db.create_all()
    start = dt.datetime(2026, 1, 1)
    for u in range(users):
        user = User(username=f"user{u}", password="pw")
        db.session.add(user)
        db.session.add_all(
            Post(
                body=f"post {p}", timestamp=start + dt.timedelta(minutes=u * posts + p), author=user
            )
            for p in range(posts)
        )
    db.session.commit()
    return {"users": users, "posts": users * posts}
