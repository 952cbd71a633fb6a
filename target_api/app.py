"""The application factory: configuration, extensions, blueprints, faults."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, request
from sqlalchemy.engine import make_url
from werkzeug.datastructures import Headers

from target_api import caching, db_tuning, errors, routes
from target_api import config as configuration
from target_api.extensions import cache, compress, db
from target_api.faults import FAT_PAYLOAD, NO_CACHE, SLOW, burn_cpu
from target_api.serialization import FastJSONProvider


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the SoftFactory API.

    ``config`` wins over the environment, which wins over the
    defaults (see :mod:`target_api.config`). An unknown fault name raises
    ValueError.
    """
    app = Flask("target_api")
    settings = configuration.resolve(app.instance_path, config)
    faults = settings["FAULTS"]
    app.config.update(settings)
    _configure_database(app, faults)
    _configure_cache(app, faults)
    # Compact, unsorted JSON from orjson (serialization.FastJSONProvider).
    app.json = FastJSONProvider(app)

    db.init_app(app)
    with app.app_context():
        db_tuning.install(db.engine, faults)
    cache.init_app(app)
    caching.init_app(app)
    if FAT_PAYLOAD not in faults:
        _install_compression(app)
    if SLOW in faults:
        _install_slow(app)

    errors.register(app)
    routes.register(app)
    from target_api.seed import seed_command

    app.cli.add_command(seed_command)
    return app


def _configure_database(app: Flask, faults: frozenset[str]) -> None:
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    memory = db_tuning.is_sqlite_memory(url)
    sqlite_file: str | None = None
    if db_tuning.is_sqlite(url) and not memory and url.database:
        # Flask-SQLAlchemy resolves relative SQLite paths against the instance folder.
        sqlite_file = os.path.join(app.instance_path, url.database)
        os.makedirs(os.path.dirname(sqlite_file), exist_ok=True)
    app.config["_SQLITE_MEMORY"] = memory
    app.config["_SQLITE_FILE"] = sqlite_file
    options = db_tuning.engine_options(str(url.render_as_string(hide_password=False)), faults)
    options.update(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def _configure_cache(app: Flask, faults: frozenset[str]) -> None:
    if NO_CACHE in faults:
        app.config["CACHE_TYPE"] = "NullCache"
        # The fault asks for no cache: Flask-Caching's warning about it is noise.
        app.config["CACHE_NO_NULL_WARNING"] = True
    elif app.config.get("CACHE_REDIS_URL"):
        app.config["CACHE_TYPE"] = "RedisCache"
    else:
        app.config.setdefault("CACHE_TYPE", "SimpleCache")
        app.config.setdefault("CACHE_THRESHOLD", 5000)
    app.config.setdefault("CACHE_ENABLE_SIGNALS", True)


def _install_compression(app: Flask) -> None:
    """Flask-Compress, asked only when the client accepts an encoding.

    Flask-Compress's ``after_request`` negotiates an encoding for every
    response; without an ``Accept-Encoding`` header there is nothing to
    negotiate, so only its ``Vary: Accept-Encoding`` is added, without the
    header lookups (each a raised and caught KeyError in werkzeug) and checks.
    With the header, Flask-Compress decides as before (zstd/br/gzip/deflate,
    bodies of ``COMPRESS_MIN_SIZE`` bytes and more).
    """
    app.config.setdefault("COMPRESS_MIN_SIZE", 500)
    app.config["COMPRESS_REGISTER"] = False
    compress.init_app(app)
    negotiate = compress.after_request

    @app.after_request
    def compress_response(response: Response) -> Response:
        if request.environ.get("HTTP_ACCEPT_ENCODING"):
            return negotiate(response)
        vary = header_value(response.headers, "Vary")
        if not vary:
            response.headers["Vary"] = "Accept-Encoding"
        elif "accept-encoding" not in vary.lower():
            response.headers["Vary"] = f"{vary}, Accept-Encoding"
        return response


def header_value(headers: Headers, name: str) -> str | None:
    """``headers.get(name)`` without werkzeug's KeyError for an absent header."""
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def _install_slow(app: Flask) -> None:
    milliseconds = float(app.config["SLOW_CPU_MS"])

    @app.before_request
    def burn() -> None:
        if request.path.startswith("/api/"):
            burn_cpu(milliseconds)
