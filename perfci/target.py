"""Builds the target app in-process: import its factory, apply overrides, seed data."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy.engine import Engine

from perfci.config.model import TargetConfig
from perfci.errors import TargetError


@dataclass
class Target:
    """The built app, its engine, the overrides it was built with, and seeded row counts."""

    app: Flask
    engine: Engine
    app_config: dict[str, Any]
    seeded: dict[str, int]


def import_object(spec: str) -> Callable[..., Any]:
    """Import ``module:name``; TargetError naming the spec when it cannot be found."""
    module_name, _, attr = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except Exception as error:
        raise TargetError(
            f"cannot import {module_name!r}: {type(error).__name__}: {error}"
        ) from None
    try:
        found = getattr(module, attr)
    except AttributeError:
        raise TargetError(f"module {module_name!r} has no {attr!r}") from None
    if not callable(found):
        raise TargetError(f"{spec!r} is not callable")
    return found  # type: ignore[no-any-return]


def app_config(target: TargetConfig, workdir: Path) -> dict[str, Any]:
    """The overrides handed to the factory, with the run's database filled in."""
    config = dict(target.config)
    if target.database_key not in config:
        if target.database == "sqlite":
            config[target.database_key] = f"sqlite:///{workdir / 'target.db'}"
        else:
            config[target.database_key] = target.database
    return config


def build_target(target: TargetConfig, workdir: Path) -> Target:
    """Build the app from its factory, create its schema through the seed function, seed it."""
    config = app_config(target, workdir)
    factory = import_object(target.app)
    try:
        app = factory(config)
    except Exception as error:
        raise TargetError(
            f"target.app {target.app!r} failed: {type(error).__name__}: {error}"
        ) from None
    if not isinstance(app, Flask):
        raise TargetError(
            f"target.app {target.app!r} returned {type(app).__name__}, not a Flask app"
        )
    seeded: dict[str, int] = {}
    with app.app_context():
        engine = _engine_of(app, target.app)
        if target.seed:
            seed = import_object(target.seed)
            try:
                result = seed(app, **target.seed_args)
            except Exception as error:
                raise TargetError(
                    f"target.seed {target.seed!r} failed: {type(error).__name__}: {error}"
                ) from None
            if isinstance(result, Mapping):
                seeded = {str(k): int(v) for k, v in result.items()}
    return Target(app=app, engine=engine, app_config=config, seeded=seeded)


def _engine_of(app: Flask, spec: str) -> Engine:
    extension = app.extensions.get("sqlalchemy")
    if extension is None:
        raise TargetError(f"target.app {spec!r}: the app has no Flask-SQLAlchemy extension")
    engine = extension.engine
    if not isinstance(engine, Engine):
        raise TargetError(f"target.app {spec!r}: no SQLAlchemy engine")
    return engine
