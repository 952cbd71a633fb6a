"""``perfci server``: the team service behind the gate (uploads, history, baselines).

``create_app`` is the Flask app factory gunicorn serves
(``gunicorn 'perfci.server:create_app()'``). Its storage is the history store
(``perfci.history.HistoryStore``): SQLite by default, PostgreSQL by URL. The
JSON API lives under ``/api/v1/`` (``perfci.server.api``) and is documented in
``openapi.yaml`` beside this file.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, Response
from sqlalchemy.engine import Engine

from perfci.history.store import HistoryStore, resolve_url
from perfci.server.upload import MAX_BYTES

#: The environment variable naming the store when ``db_url`` is not given.
DB_ENV = "PERFCI_SERVER_DB"
#: The store when neither is set: a SQLite file in the working directory.
DEFAULT_DB = "sqlite:///perfci-server.db"


def database_url(db_url: str | None = None) -> str:
    """``db_url``, else ``$PERFCI_SERVER_DB``, else ``perfci-server.db`` here (SQLite)."""
    return resolve_url(db_url or os.environ.get(DB_ENV) or DEFAULT_DB, Path.cwd())


def create_app(db_url: str | None = None, **config: Any) -> Flask:
    """The perfci server app on the store at ``db_url`` (see ``database_url``).

    ``config`` overrides Flask settings (``MAX_CONTENT_LENGTH``, bytes, default 10 MB).
    The schema is created or migrated on the first request that needs it.
    """
    from perfci.dashboard import dashboard_blueprint
    from perfci.server.api import api, can_read, refuse_nul, register_errors
    from perfci.server.dashboard_data import StoreDashboardData

    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BYTES
    app.config["JSON_SORT_KEYS"] = False
    app.config.update(config)
    history = HistoryStore(database_url(db_url))
    app.extensions["perfci_store"] = history
    app.before_request(refuse_nul)  # API and dashboard: a NUL in the path or query is a 400
    app.after_request(_nosniff)
    app.register_blueprint(api)
    # The dashboard's pages read what the API reads, under the API's access rules.
    app.register_blueprint(dashboard_blueprint(StoreDashboardData(history), can_read=can_read))
    register_errors(app)
    return app


def _nosniff(response: Response) -> Response:
    """Every response of the app (JSON, pages, assets, errors) is read as its declared type."""
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def create_app_for_perfci(config: Mapping[str, Any]) -> Flask:
    """The server as perfci's own ``target.app`` (perfci gating its server: server/perfci.yaml).

    perfci calls a target factory with one mapping of settings, the run's database
    URL under ``SQLALCHEMY_DATABASE_URI`` (``target.database_key``); the rest are
    Flask settings.
    """
    url = config.get("SQLALCHEMY_DATABASE_URI")
    # The URL stays in app.config too: perfci checks its overrides reached the app.
    return create_app(None if url is None else str(url), **config)


def store_engine(app: Flask) -> Engine:
    """The engine of the server's history store: ``target.engine`` in server/perfci.yaml
    (the server has no Flask-SQLAlchemy for perfci to find it through)."""
    store: HistoryStore = app.extensions["perfci_store"]
    return store.engine
