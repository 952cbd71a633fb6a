"""``target.schema: alembic``: the scratch database brought to the app's migrations' head.

The default (``seed``) leaves the schema to the seed function (usually
``create_all``). With ``alembic``, every table of the scratch database is
dropped, then ``alembic upgrade head`` runs through Alembic's Python API with
the app's own ``alembic.ini`` (or Flask-Migrate's ``migrations/`` directory)
inside an app context, so an index a migration drops is really missing.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from sqlalchemy import MetaData
from sqlalchemy.engine import Engine

from perfci.errors import TargetError
from perfci.target.guard import target_code


def find_migrations(root: Path, configured: str | None) -> Path:
    """``target.migrations`` (an alembic.ini or a migrations directory), or the usual places."""
    if configured:
        path = Path(configured)
        path = path if path.is_absolute() else root / path
        if not path.exists():
            raise TargetError(f"target.migrations: no such file or directory {path}")
        return path
    for candidate in (root / "alembic.ini", root / "migrations"):
        if candidate.exists():
            return candidate
    raise TargetError(
        f"target.schema is alembic, but {root} has no alembic.ini or migrations/ directory "
        "(set target.migrations)"
    )


def upgrade_head(app: Flask, engine: Engine, migrations: Path, timeout_s: float | None) -> None:
    """Drop every table of the run's database, then ``alembic upgrade head`` on it."""
    try:
        from alembic import command
        from alembic.config import Config as AlembicConfig
    except ImportError:
        raise TargetError(
            "target.schema is alembic, but Alembic is not installed (pip install 'perfci[alembic]')"
        ) from None
    if migrations.is_dir():  # Flask-Migrate's layout: alembic.ini inside the scripts' directory
        ini, scripts = migrations / "alembic.ini", migrations
    else:
        ini, scripts = migrations, None
    config = AlembicConfig(str(ini)) if ini.is_file() else AlembicConfig()
    location = scripts or Path(config.get_main_option("script_location") or "alembic")
    if not location.is_absolute():
        location = ini.parent / location
    config.set_main_option("script_location", str(location))
    # Read by a plain env.py (engine_from_config); Flask-Migrate's uses the app's engine.
    url = engine.url.render_as_string(hide_password=False)
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    existing = MetaData()
    existing.reflect(engine)
    existing.drop_all(engine)
    with target_code(f"alembic upgrade head ({migrations})", timeout_s), app.app_context():
        command.upgrade(config, "head")
