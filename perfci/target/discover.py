"""Finding a project's Flask app, its engine, its models and its GET routes (``perfci init``).

The app is looked for the way ``flask run`` does: ``FLASK_APP`` (from the
environment, ``.flaskenv`` or ``.env``), then ``wsgi.py``, ``app.py`` and the
packages beside them; in a module, a factory (``create_app``/``make_app``) is
preferred to an app object, because overrides reach a factory's extensions.
"""

from __future__ import annotations

import inspect
import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from flask import Flask
from sqlalchemy.engine import Engine

from perfci.errors import ConfigError, TargetError
from perfci.target.guard import find_object, target_code

FACTORY_NAMES = ("create_app", "make_app")
APP_NAMES = ("app", "application")
_SKIPPED_DIRS = {"tests", "test", "migrations", "alembic", "docs", "node_modules", "build", "dist"}
_ENV_IN_SOURCE = re.compile(
    r"""(?:environ\.get|getenv|environ\[)\(?\s*["']([A-Za-z_][A-Za-z0-9_]*)["']"""
)


@dataclass(frozen=True)
class FoundApp:
    """``target.app`` as found, how it was found, and the engine of an app without FSA."""

    app: str
    how: str
    engine: str | None = None
    database_env: str | None = None


def flask_app_setting(root: Path, environ: Mapping[str, str]) -> str | None:
    """``FLASK_APP`` from the environment, else from ``.flaskenv`` or ``.env`` in ``root``."""
    if environ.get("FLASK_APP"):
        return environ["FLASK_APP"]
    for name in (".flaskenv", ".env"):
        path = root / name
        if not path.is_file():
            continue
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            key, sep, value = line.strip().removeprefix("export ").partition("=")
            if sep and key.strip() == "FLASK_APP":
                return value.strip().strip("'\"") or None
    return None


def candidate_modules(root: Path, environ: Mapping[str, str]) -> Iterator[tuple[str, str, str]]:
    """(module, attribute or "", why) in the order ``flask run`` would try them."""
    setting = flask_app_setting(root, environ)
    if setting:
        module, _, attr = setting.partition(":")
        if module.endswith(".py"):
            module = module.removesuffix(".py").replace("/", ".")
        yield module, attr.split("(")[0].strip(), f"FLASK_APP={setting}"
    for name in ("wsgi", "app", "application"):
        if (root / f"{name}.py").is_file() or (root / name / "__init__.py").is_file():
            yield name, "", f"{name}.py" if (root / f"{name}.py").is_file() else f"{name}/"
    for child in sorted(root.iterdir()):
        if (
            child.is_dir()
            and (child / "__init__.py").is_file()
            and child.name not in _SKIPPED_DIRS
            and child.name.isidentifier()
        ):
            yield child.name, "", f"package {child.name}/"
            for name in ("app", "wsgi", "main"):
                if (child / f"{name}.py").is_file():
                    yield f"{child.name}.{name}", "", f"{child.name}/{name}.py"


def find_app(root: Path, environ: Mapping[str, str], given: str | None = None) -> FoundApp:
    """The app of the project in ``root`` (on ``sys.path``); ConfigError when none is found."""
    if given:
        found = find_object(given)
        return FoundApp(given, "--app", *_plain_engine(root, found))
    tried: list[str] = []
    for module_name, attr, why in candidate_modules(root, environ):
        try:
            with target_code(f"importing {module_name!r}", 120.0):
                module = __import__(module_name, fromlist=["_"])
        except TargetError as error:
            tried.append(f"{why} ({error})")
            continue
        spec = _app_in(module, attr)
        if spec is None:
            tried.append(f"{why} (no Flask app or create_app)")
            continue
        return FoundApp(spec, why, *_plain_engine(root, find_object(spec)))
    detail = "; ".join(tried) if tried else "no FLASK_APP, wsgi.py, app.py or package"
    raise ConfigError(f"no Flask app found in {root}: {detail} (name it: --app module:create_app)")


def _app_in(module: ModuleType, attr: str) -> str | None:
    if attr:
        return f"{module.__name__}:{attr}" if hasattr(module, attr) else None
    for name in FACTORY_NAMES:
        factory = getattr(module, name, None)
        if inspect.isfunction(factory):
            return f"{factory.__module__}:{factory.__name__}"
    for name in APP_NAMES:
        if isinstance(getattr(module, name, None), Flask):
            return f"{module.__name__}:{name}"
    apps = [n for n, v in vars(module).items() if isinstance(v, Flask)]
    return f"{module.__name__}:{apps[0]}" if apps else None


def project_modules(root: Path) -> list[ModuleType]:
    """The imported modules whose files are under ``root``, by name."""
    resolved = root.resolve()
    found = []
    for _name, module in sorted(sys.modules.items()):
        filename = getattr(module, "__file__", None)
        if filename and Path(filename).resolve().is_relative_to(resolved):
            found.append(module)
    return found


def forget_project_modules(root: Path) -> None:
    """Drop the project's modules, so the next import runs them again (a new database URL)."""
    for module in project_modules(root):
        sys.modules.pop(module.__name__, None)


def _plain_engine(root: Path, found: object) -> tuple[str | None, str | None]:
    """(target.engine, target.database_env) for an app without Flask-SQLAlchemy."""
    app = found if isinstance(found, Flask) else None
    if app is not None and "sqlalchemy" in app.extensions:
        return None, None
    if app is None and any(
        "flask_sqlalchemy" in sys.modules and _uses_fsa(m) for m in project_modules(root)
    ):
        return None, None
    for module in project_modules(root):
        for attr, value in vars(module).items():
            if isinstance(value, Engine) and not attr.startswith("_"):
                try:
                    source = inspect.getsource(module)
                except (OSError, TypeError):
                    source = ""
                names = _ENV_IN_SOURCE.findall(source)
                database = [n for n in names if re.search("URL|URI|DATABASE|DB", n)]
                return f"{module.__name__}:{attr}", (database or [None])[0]
    return None, None


def _uses_fsa(module: ModuleType) -> bool:
    from flask_sqlalchemy import SQLAlchemy

    return any(isinstance(v, SQLAlchemy) for v in vars(module).values())


def mapped_classes(root: Path) -> list[type]:
    """The project's ORM classes, one per table, in the order their tables can be filled."""
    by_table: dict[object, type] = {}
    for module in project_modules(root):
        for value in vars(module).values():
            # isinstance first: a module may hold Flask's request proxies, which raise on getattr.
            if not isinstance(value, type) or value.__module__ != module.__name__:
                continue
            table = getattr(value, "__table__", None)
            if table is not None and hasattr(value, "__mapper__"):
                by_table.setdefault(table, value)
    if not by_table:
        return []
    metadata = next(iter(by_table)).metadata  # type: ignore[attr-defined]
    order = {table: index for index, table in enumerate(metadata.sorted_tables)}
    return sorted(by_table.values(), key=lambda cls: order.get(cls.__table__, 0))  # type: ignore[attr-defined]
