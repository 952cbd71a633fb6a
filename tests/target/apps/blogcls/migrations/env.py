"""Like Flask-Migrate's env.py: migrate the database of the app in the current app context."""

from __future__ import annotations

from alembic import context
from flask import current_app

engine = current_app.extensions["sqlalchemy"].engine
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=None)
    with context.begin_transaction():
        context.run_migrations()
