"""A tiny app behind logins: a session login with a CSRF form, a token API, a create-then-get chain.

``GET /index`` needs the session login (``POST /auth/login``, form fields
``username``, ``password`` and ``csrf_token`` from the form page); without it
the page redirects to ``/auth/login``, as Flask-Login apps do. The API needs
``Authorization: Bearer <token>`` from ``POST /api/tokens`` (basic auth) and
answers 401 without it. ``AUTH_EXTRA_QUERIES`` puts a regression in on demand.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Mapping
from typing import Any

from flask import Flask, abort, jsonify, redirect, request, session
from flask_caching import Cache
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

db = SQLAlchemy()
cache = Cache()
PASSWORD = "correct horse"


class User(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "auth_users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(40), unique=True)
    token: Mapped[str | None] = mapped_column(String(64), index=True)


class Post(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "auth_posts"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("auth_users.id"), index=True)
    body: Mapped[str] = mapped_column(String(200))


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite://"
    app.config["SECRET_KEY"] = "auth-app-test-key"
    app.config["CACHE_TYPE"] = "SimpleCache"
    app.config.update(config or {})
    db.init_app(app)
    cache.init_app(app)

    def extra_queries() -> None:
        for _ in range(int(app.config.get("AUTH_EXTRA_QUERIES", 0))):
            db.session.execute(db.select(User.id).limit(1)).all()

    def posts_of(user_id: int) -> list[dict[str, Any]]:
        rows = db.session.execute(
            db.select(Post).where(Post.user_id == user_id).order_by(Post.id)
        ).scalars()
        return [{"id": p.id, "body": p.body} for p in rows]

    def token_user() -> User:
        header = request.headers.get("Authorization", "")
        token = header.removeprefix("Bearer ")
        user = None
        if header.startswith("Bearer ") and token:
            user = db.session.execute(db.select(User).where(User.token == token)).scalar()
        if not isinstance(user, User):
            abort(401)
        return user

    @app.get("/health")
    def health() -> Any:
        return {"ok": True}

    @app.get("/auth/login")
    def login_form() -> Any:
        session["csrf"] = session.get("csrf") or secrets.token_hex(8)
        return (
            '<form method="post"><input type="hidden" name="csrf_token" '
            f'value="{session["csrf"]}"><input name="username"><input name="password"></form>'
        )

    @app.post("/auth/login")
    def login() -> Any:
        form = request.form
        if not form.get("csrf_token") or form.get("csrf_token") != session.get("csrf"):
            abort(400)
        user = db.session.execute(
            db.select(User).where(User.username == form.get("username", ""))
        ).scalar()
        if user is None or form.get("password") != PASSWORD:
            return redirect("/auth/login")
        session["user_id"] = user.id
        return redirect("/index")

    @app.get("/index")
    def index() -> Any:
        if "user_id" not in session:
            return redirect("/auth/login?next=/index")
        return index_of(session["user_id"])

    @cache.memoize(timeout=60)
    def index_of(user_id: int) -> str:
        """The page of one user, cached per user."""
        extra_queries()
        items = "".join(f"<li>{p['body']}</li>" for p in posts_of(user_id))
        return f"<ul>{items}</ul>"

    @app.post("/api/tokens")
    def tokens() -> Any:
        header = request.headers.get("Authorization", "")
        try:
            name, _, password = (
                base64.b64decode(header.removeprefix("Basic ")).decode().partition(":")
            )
        except ValueError:
            abort(401)
        user = db.session.execute(db.select(User).where(User.username == name)).scalar()
        if user is None or password != PASSWORD:
            abort(401)
        user.token = user.token or secrets.token_hex(16)
        db.session.commit()
        return {"token": user.token}

    @app.get("/api/me/posts")
    def my_posts() -> Any:
        user = token_user()
        extra_queries()
        return jsonify(posts_of(user.id))

    @app.post("/api/posts")
    def create_post() -> Any:
        user = token_user()
        payload = request.get_json(silent=True) or {}
        post = Post(user_id=user.id, body=str(payload.get("body", "")))
        db.session.add(post)
        db.session.commit()
        return {"id": post.id}, 201

    @app.get("/api/posts/<int:post_id>")
    def get_post(post_id: int) -> Any:
        user = token_user()
        extra_queries()
        post = db.session.get(Post, post_id)
        if post is None or post.user_id != user.id:
            abort(404)
        return {"id": post.id, "body": post.body}

    return app


def seed(app: Flask, posts: int = 5) -> dict[str, int]:
    with app.app_context():
        db.drop_all()
        db.create_all()
        alice = User(username="alice")
        db.session.add_all([alice, User(username="bob")])
        db.session.flush()
        db.session.add_all(Post(user_id=alice.id, body=f"alice post {i}") for i in range(posts))
        db.session.commit()
    return {"auth_users": 2, "auth_posts": posts}
