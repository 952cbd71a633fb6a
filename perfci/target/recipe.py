"""How the target's Flask app is obtained, in every process that builds it.

``target.app`` names a factory or an app object; ``make_app`` finds out which
(or follows ``target.factory``), makes the overrides (``target.config`` and the
run's database) reach ``app.config``, finds the SQLAlchemy engine
(Flask-SQLAlchemy's, or ``target.engine``) and mounts perfci's probe route.
The in-process build, gunicorn's entry point and the callgrind worker all
call it, so the three serve the same app.
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from flask import Flask
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError
from werkzeug.utils import import_string

from perfci.errors import TargetError
from perfci.target.guard import find_object, target_code

#: ``target.factory``: how ``target.app`` takes its configuration.
FactoryShape = Literal["auto", "mapping", "config_class", "none"]

#: The route perfci mounts on every target: readiness and calibration probe of last resort.
PROBE_PATH = "/_perfci/probe"
PROBE_ENDPOINT = "perfci_probe"


@dataclass(frozen=True)
class AppRecipe:
    """``target.app`` and how to build it: what crosses into gunicorn and the workers as JSON.

    ``factory`` is ``auto`` (detect), ``mapping`` (``factory(dict)``),
    ``config_class`` (``factory(ConfigSubclass)``) or ``none`` (``app`` is the
    Flask object). ``engine`` is ``module:engine`` (an Engine, or a callable
    taking the app and returning one) for apps without Flask-SQLAlchemy;
    ``database_env`` names an environment variable set to the run's database
    URL before the app is imported.
    """

    app: str
    factory: FactoryShape = "auto"
    engine: str | None = None
    database_env: str | None = None
    database_key: str = "SQLALCHEMY_DATABASE_URI"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AppRecipe:
        return cls(**data)


@dataclass
class BuiltApp:
    """The app, its engine, and one line saying how perfci built it (for the progress)."""

    app: Flask
    engine: Engine
    how: str


def make_app(
    recipe: AppRecipe, overrides: Mapping[str, Any], timeout_s: float | None = None
) -> BuiltApp:
    """Build the app the recipe names with ``overrides`` in its config; TargetError otherwise.

    The engine must be connected to the run's database (``overrides[database_key]``):
    perfci drops and seeds tables there, so an app still pointing elsewhere is refused.
    """
    where = f"target.app {recipe.app!r}"
    database = overrides.get(recipe.database_key)
    if recipe.database_env and isinstance(database, str):
        os.environ[recipe.database_env] = database  # read by the app's module at import
    found = find_object(recipe.app, timeout_s, key="target.app")
    shape, argument, how = _plan(found, recipe, overrides, where)
    with target_code(where, timeout_s, wrap_errors=False):
        try:
            if shape == "none":
                app = found
            elif shape == "no_arguments":
                app = found()  # type: ignore[operator]
            else:
                app = found(argument)  # type: ignore[operator]
        except Exception as error:
            raise TargetError(
                f"{where} failed, {how}: {type(error).__name__}: {error} "
                "(if it takes its configuration another way, set target.factory: "
                "mapping, config_class or none)"
            ) from None
    if not isinstance(app, Flask):
        verb = "is" if shape == "none" else "returned"
        raise TargetError(
            f"{where} {verb} {type(app).__name__}, not a Flask app "
            "(name a Flask app or a factory returning one)"
        )
    arrived = [k for k, v in overrides.items() if app.config.get(k) == v]
    if (
        overrides
        and shape in ("mapping", "config_class")
        and (not arrived or (database is not None and recipe.database_key not in arrived))
    ):
        key = recipe.database_key if database is not None else next(iter(overrides))
        raise TargetError(
            f"{where}: called as {how}, but {key} did not reach app.config; "
            "set target.factory to how it takes its configuration "
            "(mapping, config_class, or none for an app object)"
        )
    if shape in ("none", "no_arguments"):
        _apply_late(app, overrides, recipe.database_key, where)
    engine = _engine(app, recipe, where)
    if isinstance(database, str):
        _same_database(engine, database, recipe)
    mount_probe(app)
    return BuiltApp(app=app, engine=engine, how=how)


_SHAPE_WORDS = {
    "mapping": "a factory called with a mapping of the overrides",
    "config_class": "a factory called with a config class carrying the overrides",
    "none": "an app object, the overrides set on app.config",
    "no_arguments": "a factory called without arguments, the overrides set on app.config",
}


def _plan(
    found: object, recipe: AppRecipe, overrides: Mapping[str, Any], where: str
) -> tuple[str, object, str]:
    """(shape, the argument to call with, how it reads): detection in a documented order.

    1. a Flask object → ``none``; 2. a callable without parameters → called bare;
    3. its first parameter's default is a class (or an import string or an
    object naming one) → ``config_class``; 4. anything else → ``mapping``.
    """
    shape: str = recipe.factory
    if isinstance(found, Flask):
        if shape not in ("auto", "none"):
            raise TargetError(f"{where} is a Flask app object: set target.factory: none")
        return "none", None, _SHAPE_WORDS["none"]
    if shape == "none" or not callable(found):
        raise TargetError(
            f"{where} is {type(found).__name__}, not a Flask app"
            + ("" if callable(found) else " or a factory")
        )
    first = _first_parameter(found)
    if shape == "auto":
        if first is None:
            shape = "no_arguments"
        elif _config_base(first.default) is not None:
            shape = "config_class"
        else:
            shape = "mapping"
    if shape == "no_arguments":
        return shape, None, _SHAPE_WORDS[shape]
    if shape == "mapping":
        return shape, dict(overrides), _SHAPE_WORDS[shape]
    default = first.default if first is not None else None
    base = _config_base(default)
    if base is None:
        return shape, type("PerfciConfig", (), dict(overrides)), _SHAPE_WORDS[shape]
    carrier: object
    if isinstance(base, type):
        carrier = type(base.__name__, (base,), dict(overrides))
    else:  # a config object (an instance): a copy with the overrides set on it
        carrier = copy.copy(base)
        for key, value in overrides.items():
            setattr(carrier, key, value)
    return shape, carrier, f"{_SHAPE_WORDS[shape]} (based on {_name_of(base)})"


def _first_parameter(function: object) -> inspect.Parameter | None:
    try:
        parameters = inspect.signature(function).parameters.values()  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return next((p for p in parameters if p.kind in positional), None)


def _config_base(default: object) -> object | None:
    """The config class (or object) a factory's parameter defaults to; None for a mapping."""
    if default is inspect.Parameter.empty or default is None or isinstance(default, Mapping):
        return None
    if isinstance(default, type):
        return default
    if isinstance(default, str):  # from_object("config.Production")
        try:
            imported = import_string(default)
        except ImportError:
            return None
        return imported if isinstance(imported, type) else None
    if isinstance(default, int | float | bool | bytes | list | tuple):
        return None
    return default


def _name_of(base: object) -> str:
    return base.__name__ if isinstance(base, type) else f"a copy of {type(base).__name__}()"


def _apply_late(app: Flask, overrides: Mapping[str, Any], database_key: str, where: str) -> None:
    """Set the overrides on a built app, re-creating Flask-SQLAlchemy's engines if they moved.

    Flask-SQLAlchemy creates its engines in ``init_app`` from the config of
    that moment; registering the extension again on the unused app re-creates
    them. Other extensions keep the settings they read at ``init_app``.
    """
    app.config.update(overrides)
    extension = app.extensions.get("sqlalchemy")
    if extension is None:
        return
    with app.app_context():
        engines = dict(extension.engines)
    wanted = overrides.get(database_key)
    if wanted is None or all(_url_text(e) == str(wanted) for e in engines.values()):
        return
    for engine in engines.values():
        engine.dispose()
    del app.extensions["sqlalchemy"]
    with target_code(f"{where}: re-initializing Flask-SQLAlchemy", None):
        extension.init_app(app)


def _engine(app: Flask, recipe: AppRecipe, where: str) -> Engine:
    if recipe.engine:
        engine_where = f"target.engine {recipe.engine!r}"
        found = find_object(recipe.engine, key="target.engine")
        if not isinstance(found, Engine) and inspect.isfunction(found):
            with target_code(engine_where, None), app.app_context():
                found = found(app)
        if not isinstance(found, Engine):
            raise TargetError(
                f"{engine_where} is {type(found).__name__}, not a SQLAlchemy Engine "
                "(name the engine, or a function taking the app and returning it)"
            )
        return found
    extension = app.extensions.get("sqlalchemy")
    if extension is None:
        raise TargetError(
            f"{where}: the app has no Flask-SQLAlchemy extension; "
            "name its engine with target.engine: module:engine"
        )
    with app.app_context():
        engine = extension.engine
    if not isinstance(engine, Engine):
        raise TargetError(f"{where}: no SQLAlchemy engine")
    return engine


def _same_database(engine: Engine, wanted: str, recipe: AppRecipe) -> None:
    """The engine talks to the run's scratch database, or perfci refuses to touch it."""
    try:
        url = make_url(wanted)
    except ArgumentError:
        return  # the app validated its own URL when it created the engine
    have = engine.url

    def identity(u: Any) -> tuple[object, ...]:
        return (u.get_backend_name(), u.host, u.port, u.username, u.database or None)

    if identity(have) == identity(url):
        return
    owner = f"target.engine {recipe.engine!r}" if recipe.engine else f"target.app {recipe.app!r}"
    hint = (
        f"perfci set {recipe.database_env} to it before importing the app: create the engine "
        "from that variable"
        if recipe.database_env
        else "create the engine from an environment variable and name it in target.database_env"
        if recipe.engine
        else f"the app must take {recipe.database_key} from its config"
    )
    raise TargetError(
        f"{owner}: the engine is connected to {have.render_as_string(hide_password=True)}, "
        f"not the run's database {url.render_as_string(hide_password=True)}; perfci drops and "
        f"seeds tables there, so it stops ({hint})"
    )


def _url_text(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def mount_probe(app: Flask) -> None:
    """Add ``GET /_perfci/probe`` (200, "ok", no database): a readiness and calibration probe."""
    if PROBE_ENDPOINT in app.view_functions:
        return
    app.add_url_rule(
        PROBE_PATH,
        endpoint=PROBE_ENDPOINT,
        view_func=lambda: ("ok", 200, {"Content-Type": "text/plain"}),
        methods=["GET"],
    )


def default_probe(app: Flask) -> tuple[str, str]:
    """(path, why): the app's own ``GET /health`` when it has one, else perfci's probe route."""
    adapter = app.url_map.bind("localhost")
    try:
        endpoint, _ = adapter.match("/health", method="GET")
    except Exception:  # NotFound, MethodNotAllowed, RequestRedirect: not a plain GET route
        endpoint = None
    if endpoint is not None and endpoint != PROBE_ENDPOINT:
        return "/health", "the app's GET /health"
    return PROBE_PATH, "perfci's own probe route (the app has no GET /health)"
