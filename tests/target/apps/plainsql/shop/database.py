"""The engine and session, as the Flask docs' "SQLAlchemy in Flask" pattern writes them."""

from __future__ import annotations

import os

from sqlalchemy import create_engine
from sqlalchemy.orm import DeclarativeBase, scoped_session, sessionmaker

engine = create_engine(os.environ.get("SHOP_DATABASE_URL", "sqlite:///shop.db"))
db_session = scoped_session(sessionmaker(bind=engine))


class Base(DeclarativeBase):
    pass
