"""The engine and session, as the Flask docs' "SQLAlchemy in Flask" pattern writes them."""

from __future__ import annotations

import os
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.orm import DeclarativeBase, scoped_session, sessionmaker

engine = create_engine(os.environ.get("SHOP_DATABASE_URL", "sqlite:///shop.db"))
if engine.dialect.name == "sqlite":

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(connection: Any, _record: object) -> None:
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()


db_session = scoped_session(sessionmaker(bind=engine))


class Base(DeclarativeBase):
    pass
