"""``perfci init``: a starter perfci.yaml and seed module for the Flask app in a directory.

``plan_init`` finds the app (``perfci.target.discover``), builds it on a
scratch SQLite database, writes and runs a seed stub over the app's models,
requests every argument-less GET route (and those whose arguments the seeded
rows can fill) and notes which need a login. ``write_init`` writes the files:
the seed module first (kept when it exists), then perfci.yaml atomically,
then ``.perfci/`` into ``.gitignore``. Nothing here prints.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import importlib.util
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.routing import Rule

from perfci.errors import ConfigError, TargetError
from perfci.files import write_atomic
from perfci.target.discover import FoundApp, find_app, forget_project_modules, mapped_classes
from perfci.target.guard import importable, target_code
from perfci.target.recipe import PROBE_ENDPOINT, AppRecipe, make_app

CONFIG_NAME = "perfci.yaml"
SEED_MODULE = "perfci_seed"
_ARGUMENT = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
_PLAIN = re.compile(r"^[A-Za-z0-9_./?=&%~+,-]+$")


@dataclass
class Route:
    """One GET route: the request written (None when its arguments could not be filled)."""

    rule: str
    request: str | None
    status: int | None = None
    note: str = ""

    @property
    def usable(self) -> bool:
        return self.request is not None and self.status is not None and 200 <= self.status < 300


@dataclass
class InitPlan:
    """What ``perfci init`` found and will write."""

    root: Path
    found: FoundApp
    how: str
    seed_text: str
    seed_kept: bool
    routes: list[Route]
    seeded: dict[str, int] = field(default_factory=dict)
    seed_error: str | None = None
    migrations: str | None = None

    @property
    def config_text(self) -> str:
        return render_config(self)


def plan_init(root: Path, environ: Mapping[str, str], app: str | None = None) -> InitPlan:
    """Find, build, seed and probe the app in ``root``; TargetError/ConfigError when it can't."""
    root = root.resolve()
    with importable(root), _environment_restored():
        found = find_app(root, environ, app)
        forget_project_modules(root)  # imported again with the scratch database's URL
        scratch = Path(tempfile.mkdtemp(prefix="perfci-init-"))
        try:
            return _plan(root, found, scratch)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)


def _plan(root: Path, found: FoundApp, scratch: Path) -> InitPlan:
    recipe = AppRecipe(app=found.app, engine=found.engine, database_env=found.database_env)
    built = make_app(recipe, {recipe.database_key: f"sqlite:///{scratch / 'init.db'}"}, 120.0)
    app, engine = built.app, built.engine
    seed_path = root / f"{SEED_MODULE}.py"
    kept = seed_path.is_file()
    text = seed_path.read_text(encoding="utf-8") if kept else seed_stub(root, found)
    seeded: dict[str, int] = {}
    error = None
    try:
        seeded = _run_seed(app, text, scratch)
    except TargetError as failed:
        error = str(failed)
    rows = _first_rows(engine, root) if error is None else {}
    routes = _distinct_requests(_probe_route(app, rule, rows) for rule in _get_rules(app))
    engine.dispose()
    migrations = next(
        (n for n in ("migrations", "alembic.ini") if (root / n).exists()),
        None,
    )
    return InitPlan(root, found, built.how, text, kept, routes, seeded, error, migrations)


@contextlib.contextmanager
def _environment_restored() -> Iterator[None]:
    saved = dict(os.environ)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _run_seed(app: Flask, text: str, scratch: Path) -> dict[str, int]:
    path = scratch / f"{SEED_MODULE}.py"
    path.write_text(text, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(f"_perfci_init_{SEED_MODULE}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    with target_code(f"the seed stub {SEED_MODULE}.py", 600.0), app.app_context():
        spec.loader.exec_module(module)
        result = module.seed(app)
    return {str(k): int(v) for k, v in (result or {}).items()}


def _first_rows(engine: Engine, root: Path) -> dict[str, dict[str, Any]]:
    """Each model table's first row (by primary key): where route arguments come from."""
    rows: dict[str, dict[str, Any]] = {}
    with engine.connect() as connection:
        for cls in mapped_classes(root):
            table = cls.__table__  # type: ignore[attr-defined]
            order = list(table.primary_key.columns) or list(table.columns)[:1]
            try:
                query = select(table).order_by(*order).limit(1)
                row = connection.execute(query).mappings().first()
            except SQLAlchemyError:  # a seed that left the table out: no values from it
                connection.rollback()
                continue
            if row is not None:
                rows[table.name] = dict(row)
    return rows


def _get_rules(app: Flask) -> list[Rule]:
    return sorted(
        (
            r
            for r in app.url_map.iter_rules()
            if "GET" in (r.methods or ()) and r.endpoint not in ("static", PROBE_ENDPOINT)
        ),
        key=lambda r: r.rule,
    )


def _singular(word: str) -> str:
    word = word.lower().replace("-", "_")
    return word[:-3] + "y" if word.endswith("ies") else word.removesuffix("s")


def _argument_value(argument: str, before: str, rows: Mapping[str, Mapping[str, Any]]) -> Any:
    """A value for ``<argument>`` from the first rows, guided by the path segment before it."""
    wanted = {_singular(before), _singular(argument.removesuffix("_id")), _singular(argument)}
    for table, row in rows.items():
        if _singular(table) in wanted:
            if argument in row:
                return row[argument]
            if argument.endswith("id") and "id" in row:
                return row["id"]
    for row in rows.values():
        if argument in row:
            return row[argument]
    return None


def _distinct_requests(routes: Iterable[Route]) -> list[Route]:
    """Each request once: two rules of one view (``/`` and ``/index``) build the same URL,
    and perfci.yaml refuses a duplicate endpoint."""
    seen: set[str] = set()
    kept = []
    for route in routes:
        if route.request is not None and route.request in seen:
            continue
        if route.request is not None:
            seen.add(route.request)
        kept.append(route)
    return kept


def _probe_route(app: Flask, rule: Rule, rows: Mapping[str, Mapping[str, Any]]) -> Route:
    values: dict[str, Any] = {}
    parts = _ARGUMENT.split(rule.rule)
    for index, argument in enumerate(_ARGUMENT.findall(rule.rule)):
        before = parts[index * 2].rstrip("/").rsplit("/", 1)[-1]
        value = _argument_value(argument, before, rows)
        if value is None:
            return Route(rule.rule, None, note=f"no seeded value for <{argument}>: fill it in")
        values[argument] = value
    try:
        path = app.url_map.bind("localhost").build(rule.endpoint, values, method="GET")
    except Exception:  # a converter refusing the value: leave it to the user
        return Route(rule.rule, None, note="could not build it from the seeded rows")
    request = f"GET {path}"
    try:
        with target_code(f"request {request}", 60.0):
            response = contextvars.Context().run(app.test_client().get, path)
    except TargetError as error:
        return Route(rule.rule, request, None, note=str(error))
    status = response.status_code
    location = response.headers.get("Location", "")
    if status in (301, 302, 303, 307, 308) and re.search("login|signin|sign_in|auth", location):
        note = f"needs a login ({status} to {location.split('?')[0]})"
    elif status in (401, 403):
        note = f"needs a login ({status})"
    elif 200 <= status < 300:
        note = "from the seeded rows" if values else ""
    else:
        note = f"answers {status}"
    return Route(rule.rule, request, status, note)


def seed_stub(root: Path, found: FoundApp) -> str:
    """A seed module over the app's models: schema from the models, ``rows`` rows per table."""
    classes = mapped_classes(root)
    imports: dict[str, list[str]] = {}
    for cls in classes:
        imports.setdefault(cls.__module__, []).append(cls.__name__)
    lines = [
        f'"""Seed data for perfci, written by `perfci init` on {dt.date.today()}: edit it.',
        "",
        "perfci calls seed(app, **target.seed_args) on a scratch database before every run.",
        "Make the sizes and values look like production: query plans, N+1 shapes and payload",
        "sizes depend on them. Return the row count of each table (or None).",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "import datetime as dt",
        "",
        "from flask import Flask",
        "from sqlalchemy.orm import Session",
        "",
    ]
    if found.engine:
        module, _, name = found.engine.partition(":")
        alias = "" if name == "engine" else " as engine"
        lines.append(f"from {module} import {name}{alias}")
    for module, names in sorted(imports.items()):
        lines.append(f"from {module} import {', '.join(sorted(names))}")
    lines += ["", "START = dt.datetime(2026, 1, 1)", "", ""]
    lines.append("def seed(app: Flask, rows: int = 20) -> dict[str, int]:")
    if not classes:
        lines += [
            "    # perfci init found no SQLAlchemy models: create and fill your tables here.",
            "    return {}",
        ]
        return "\n".join(lines) + "\n"
    if not found.engine:
        lines.append('    engine = app.extensions["sqlalchemy"].engine')
    first = classes[0].__name__
    lines += [
        f"    {first}.metadata.drop_all(engine)",
        f"    {first}.metadata.create_all(engine)",
        "    with Session(engine) as session:",
    ]
    counts = []
    for cls in classes:
        table = cls.__table__  # type: ignore[attr-defined]
        arguments = _column_values(cls)
        lines.append("        for i in range(rows):")
        call = f"            session.add({cls.__name__}({', '.join(arguments)}))"
        if len(call) > 88:
            call = "\n".join(
                [
                    f"            session.add({cls.__name__}(",
                    *(f"                {a}," for a in arguments),
                    "            ))",
                ]
            )
        lines.append(call)
        lines.append("        session.flush()")
        counts.append(f'"{table.name}": rows')
    lines += ["        session.commit()", f"    return {{{', '.join(counts)}}}"]
    text = "\n".join(lines) + "\n"
    if "START" not in text.split("START = ", 1)[1]:  # no date column: no datetime needed
        text = text.replace("import datetime as dt\n\n", "").replace(
            "START = dt.datetime(2026, 1, 1)\n\n\n", "\n"
        )
    return text


def _column_values(cls: type) -> list[str]:
    """``key=expression`` for each column a row needs (ids, defaults and nullable FKs left out)."""
    found = []
    attribute: Any
    for attribute in sa_inspect(cls).column_attrs:
        column = attribute.columns[0]
        if column.primary_key and not column.foreign_keys:
            continue
        if column.default is not None or column.server_default is not None:
            continue
        if column.foreign_keys:
            if column.nullable:
                continue
            found.append(f"{attribute.key}=i % rows + 1")
            continue
        found.append(f"{attribute.key}={_value_expression(attribute.key, column)}")
    return found


def _value_expression(key: str, column: Any) -> str:
    kind = column.type
    enums = getattr(kind, "enums", None)
    if enums:
        return repr(enums[0])
    try:
        python = kind.python_type
    except NotImplementedError:
        return "None  # TODO: a value" if not column.nullable else "None"
    if python is bool:
        return "i % 2 == 0"
    if python is int:
        return "i"
    if python is float:
        return "i * 1.5"
    if python is dt.datetime:
        return "START + dt.timedelta(minutes=i)"
    if python is dt.date:
        return "START.date() + dt.timedelta(days=i)"
    if python is str:
        length = getattr(kind, "length", None)
        return f'f"{key}{{i}}"' if length is None or length >= len(key) + 6 else 'f"{i}"'
    if python in (dict, list):
        return "{}" if python is dict else "[]"
    if python is bytes:
        return 'b""'
    return "None  # TODO: a value" if not column.nullable else "None"


def _yaml_scalar(text: str) -> str:
    return text if _PLAIN.match(text.split(" ", 1)[-1]) else json.dumps(text)


def render_config(plan: InitPlan) -> str:
    """The commented starter perfci.yaml."""
    found = plan.found
    suite = re.sub(r"[^A-Za-z0-9_.-]", "-", plan.root.name) or "app"
    lines = [
        f"# Written by `perfci init` on {dt.date.today()}: a starting point, edit it freely.",
        "# Next: `perfci baseline update` (measure and store the baseline), then `perfci run`",
        "# (gate the working tree against it). Keys: docs/config.md.",
        f"suite: {suite}",
        "",
        "target:",
        f"  # Found through {found.how}. perfci builds it as",
        f"  # {plan.how}.",
        f"  app: {found.app}",
    ]
    if found.engine:
        lines += [
            "  # No Flask-SQLAlchemy: the app's engine, and the variable its URL comes from.",
            f"  engine: {found.engine}",
        ]
        if found.database_env:
            lines.append(f"  database_env: {found.database_env}")
        else:
            lines.append("  # database_env: DATABASE_URL  # TODO: the variable its URL comes from")
    lines += [
        "  # sqlite: a fresh SQLite file per run; or a scratch PostgreSQL/MariaDB URL",
        "  # (its tables are dropped and re-seeded), e.g. ${DATABASE_URL:-sqlite}.",
        "  database: sqlite",
    ]
    if plan.migrations:
        lines += [
            f"  # Your migrations ({plan.migrations}/): `schema: alembic` builds the scratch",
            "  # database with `alembic upgrade head` (then make the seed skip create_all).",
            "  # schema: alembic",
        ]
    seed_note = "kept as it was" if plan.seed_kept else "written by perfci init"
    lines += [
        f"  seed: {SEED_MODULE}:seed  # {SEED_MODULE}.py, {seed_note}",
        "  seed_args: {rows: 20}",
        "  endpoints:",
    ]
    usable = [r for r in plan.routes if r.usable]
    for route in plan.routes:
        request = route.request or f"GET {route.rule}"
        comment = f"  # {route.note}" if route.note else ""
        prefix = "    - " if route.usable else "    # - "
        lines.append(f"{prefix}{_yaml_scalar(request)}{comment}")
    if not usable:
        lines.append("    []  # no GET route answered 2xx: list your endpoints here")
    lines += [
        "",
        "checks:",
        "  n_plus_one: {}   # statements per request, repeated shapes (N+1)",
        "  indexes: {}      # full scans in the query plans, unindexed foreign keys",
        "  payload: {}      # response bytes",
        "  # latency: {}    # p50/p95/p99 in-process and over HTTP (gunicorn)",
        "",
    ]
    return "\n".join(lines)


def write_init(plan: InitPlan, *, force: bool = False) -> list[Path]:
    """Write the seed module (unless kept), perfci.yaml (atomically), and .gitignore's line.

    ConfigError (exit 2) when perfci.yaml exists and ``force`` is false.
    """
    config = plan.root / CONFIG_NAME
    refuse_existing(plan.root, force=force)
    written: list[Path] = []
    if not plan.seed_kept:
        seed_path = plan.root / f"{SEED_MODULE}.py"
        write_atomic(seed_path, plan.seed_text)
        written.append(seed_path)
    write_atomic(config, plan.config_text)
    written.append(config)
    gitignore = plan.root / ".gitignore"
    existing = gitignore.read_text(encoding="utf-8") if gitignore.is_file() else ""
    if not any(
        line.strip() in (".perfci/", ".perfci", "/.perfci/") for line in existing.splitlines()
    ):
        separator = "" if not existing or existing.endswith("\n") else "\n"
        write_atomic(gitignore, f"{existing}{separator}.perfci/\n")
        written.append(gitignore)
    return written


def refuse_existing(root: Path, *, force: bool) -> None:
    """perfci.yaml is never replaced without ``--force``."""
    config = next((root / n for n in (CONFIG_NAME, "perfci.yml") if (root / n).exists()), None)
    if config is not None and not force:
        raise ConfigError(
            f"{config} exists: perfci init does not overwrite it (--force replaces it)"
        )
