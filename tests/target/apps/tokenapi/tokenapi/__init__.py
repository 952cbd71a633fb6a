"""A blueprint-heavy factory with token auth: create_app(config=None), routes behind a token."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Flask, abort, g, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

db = SQLAlchemy()


class Account(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    password: Mapped[str] = mapped_column(String(40))
    token: Mapped[str | None] = mapped_column(String(64), index=True)


class Note(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    text: Mapped[str] = mapped_column(String(200))


tokens = Blueprint("tokens", __name__, url_prefix="/api/tokens")
notes = Blueprint("notes", __name__, url_prefix="/api/notes")
accounts = Blueprint("accounts", __name__, url_prefix="/api/accounts")


@tokens.post("")
def new_token() -> Any:
    auth = request.authorization
    account = db.session.execute(
        db.select(Account).filter_by(name=auth.username if auth else "")
    ).scalar_one_or_none()
    if auth is None or account is None or account.password != auth.password:
        abort(401)
    account.token = secrets.token_hex(16)
    db.session.commit()
    return {"token": account.token}


def _require_token() -> None:
    header = request.headers.get("Authorization", "")
    token = header.removeprefix("Bearer ")
    account = db.session.execute(db.select(Account).filter_by(token=token)).scalar_one_or_none()
    if not token or account is None:
        abort(401)
    g.account = account


notes.before_request(_require_token)
accounts.before_request(_require_token)


@notes.get("")
def list_notes() -> Any:
    rows = db.session.execute(db.select(Note).filter_by(account_id=g.account.id)).scalars()
    return [n.text for n in rows]


@notes.get("/<int:note_id>")
def one_note(note_id: int) -> Any:
    return {"text": db.get_or_404(Note, note_id).text}


@accounts.get("/<int:account_id>")
def one_account(account_id: int) -> Any:
    return {"name": db.get_or_404(Account, account_id).name}


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///tokenapi.db"
    app.config.update(config or {})
    db.init_app(app)
    for blueprint in (tokens, notes, accounts):
        app.register_blueprint(blueprint)
    return app
