"""Builds the target app in-process: the app with its overrides, its schema, its seed data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy.engine import Engine

from perfci.config.model import TargetConfig
from perfci.errors import TargetError
from perfci.target.guard import find_object, import_object, target_code
from perfci.target.recipe import AppRecipe, default_probe, make_app
from perfci.target.schema import find_migrations, upgrade_head

__all__ = ["Target", "app_config", "build_target", "find_object", "import_object", "target_code"]


@dataclass
class Target:
    """The built app, its engine, the overrides it was built with, and seeded row counts."""

    app: Flask
    engine: Engine
    app_config: dict[str, Any]
    seeded: dict[str, int]
    recipe: AppRecipe
    #: How perfci built the app, and which probe it uses (progress lines).
    how: str = ""
    probe: str = "/health"
    probe_why: str = ""


def app_config(target: TargetConfig, workdir: Path) -> dict[str, Any]:
    """The overrides handed to the factory, with the run's database filled in."""
    config = dict(target.config)
    if target.database_key not in config:
        if target.database == "sqlite":
            config[target.database_key] = f"sqlite:///{workdir / 'target.db'}"
        else:
            config[target.database_key] = target.database
    return config


def recipe_of(target: TargetConfig) -> AppRecipe:
    """What every process building the app needs of ``target``."""
    return AppRecipe(
        app=target.app,
        factory=target.factory,
        engine=target.engine,
        database_env=target.database_env,
        database_key=target.database_key,
    )


def build_target(target: TargetConfig, workdir: Path, root: Path | None = None) -> Target:
    """Build the app, create its schema (the seed's, or Alembic's head), seed it.

    ``root`` is the directory of perfci.yaml (``target.migrations`` is relative to it).
    """
    config = app_config(target, workdir)
    timeouts = target.timeouts
    recipe = recipe_of(target)
    built = make_app(recipe, config, timeouts.factory)
    app = built.app
    probe, why = default_probe(app)
    if target.server.health is not None:
        probe, why = target.server.health, "target.server.health"
    seeded: dict[str, int] = {}
    with app.app_context():
        if target.schema_ == "alembic":
            migrations = find_migrations(root or Path.cwd(), target.migrations)
            upgrade_head(app, built.engine, migrations, timeouts.seed)
        if target.seed:
            seed = import_object(target.seed, timeouts.seed, key="target.seed")
            with target_code(f"target.seed {target.seed!r}", timeouts.seed):
                result = seed(app, **target.seed_args)
            seeded = _row_counts(result, target.seed)
    return Target(
        app=app,
        engine=built.engine,
        app_config=config,
        seeded=seeded,
        recipe=recipe,
        how=built.how,
        probe=probe,
        probe_why=why,
    )


def _row_counts(result: object, spec: str) -> dict[str, int]:
    """What a seed function returned: None, or a mapping of table name to row count."""
    if result is None:
        return {}
    if not isinstance(result, Mapping):
        raise TargetError(
            f"target.seed {spec!r} returned {type(result).__name__}, "
            "not a mapping of table name to row count (or None)"
        )
    counts = {}
    for table, count in result.items():
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise TargetError(
                f"target.seed {spec!r} returned {type(count).__name__} for {str(table)[:60]!r}, "
                "not a row count"
            )
        counts[str(table)] = count
    return counts
