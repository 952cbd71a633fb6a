"""A microblog-shaped app: create_app(config_class=Config), Flask-SQLAlchemy, session login."""

from __future__ import annotations

import datetime as dt
from functools import wraps
from typing import Any

from flask import Blueprint, Flask, abort, redirect, request, session, url_for
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .config import Config

db = SQLAlchemy()


class User(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(db.String(64), index=True, unique=True)
    password: Mapped[str] = mapped_column(db.String(64))
    posts: Mapped[list[Post]] = relationship(back_populates="author")


class Post(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "posts"
    id: Mapped[int] = mapped_column(primary_key=True)
    body: Mapped[str] = mapped_column(db.String(140))
    timestamp: Mapped[dt.datetime] = mapped_column(index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    author: Mapped[User] = relationship(back_populates="posts")


def login_required(view: Any) -> Any:
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if "user_id" not in session:
            return redirect(url_for("auth.login", next=request.path))
        return view(*args, **kwargs)

    return wrapped


auth = Blueprint("auth", __name__, url_prefix="/auth")
main = Blueprint("main", __name__)


@auth.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if request.method == "GET":
        return '<form method="post"><input name="username"><input name="password"></form>'
    user = db.session.execute(
        db.select(User).filter_by(username=request.form.get("username", ""))
    ).scalar_one_or_none()
    if user is None or user.password != request.form.get("password"):
        abort(401)
    session["user_id"] = user.id
    return redirect(url_for("main.index"))


@main.get("/explore")
def explore() -> Any:
    posts = db.session.execute(db.select(Post).order_by(Post.timestamp.desc()).limit(10)).scalars()
    return {"posts": [{"body": p.body, "author": p.author.username} for p in posts]}


@main.get("/user/<username>")
def user(username: str) -> Any:
    found = db.first_or_404(db.select(User).filter_by(username=username))
    posts = db.session.execute(
        db.select(Post).filter_by(user_id=found.id).order_by(Post.timestamp.desc()).limit(10)
    ).scalars()
    return {"username": found.username, "posts": [p.body for p in posts]}


@main.get("/index")
@login_required
def index() -> Any:
    return {"user_id": session["user_id"]}


def create_app(config_class: type = Config) -> Flask:
    app = Flask(__name__)
    app.config.from_object(config_class)
    db.init_app(app)
    app.register_blueprint(auth)
    app.register_blueprint(main)
    return app
