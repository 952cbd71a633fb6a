"""Builds the target app in-process: import its factory, apply overrides, seed data."""

from __future__ import annotations

import contextlib
import importlib
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
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


class _Hung(BaseException):
    """Raised into target code that ran past its timeout (not an Exception: it can't be caught
    by the target's own ``except Exception``)."""


@contextlib.contextmanager
def target_code(what: str, timeout_s: float | None, *, wrap_errors: bool = True) -> Iterator[None]:
    """Run the target's own code (import, factory, seed, an in-process request).

    Whatever it raises is a ``TargetError`` naming ``what`` (exit 3, one
    line): its exceptions (when ``wrap_errors``), ``sys.exit()`` (which would
    otherwise end perfci with the target's code, 0 included), and a
    ``KeyboardInterrupt`` it raises itself; a real Ctrl-C still propagates.
    In the main thread, code still running after ``timeout_s`` is stopped
    (SIGALRM) and reported the same way; other threads get no timer.
    """
    interrupted = False
    restore: list[Callable[[], object]] = []
    if threading.current_thread() is threading.main_thread():
        previous_int = signal.getsignal(signal.SIGINT)

        def on_sigint(signum: int, frame: FrameType | None) -> None:
            nonlocal interrupted
            interrupted = True
            if callable(previous_int):
                previous_int(signum, frame)
            elif previous_int != signal.SIG_IGN:
                raise KeyboardInterrupt

        signal.signal(signal.SIGINT, on_sigint)
        restore.append(lambda: signal.signal(signal.SIGINT, previous_int))
        if timeout_s is not None:

            def on_alarm(_signum: int, _frame: FrameType | None) -> None:
                raise _Hung

            previous_alarm = signal.signal(signal.SIGALRM, on_alarm)
            signal.setitimer(signal.ITIMER_REAL, timeout_s)
            restore.append(lambda: signal.signal(signal.SIGALRM, previous_alarm))
            restore.append(lambda: signal.setitimer(signal.ITIMER_REAL, 0))
    try:
        yield
    except _Hung:
        raise TargetError(
            f"{what} did not finish within {timeout_s:g} s (a hang? raise target.timeouts)"
        ) from None
    except SystemExit as error:
        raise TargetError(f"{what} called sys.exit({error.code!r})") from None
    except KeyboardInterrupt:
        if interrupted:
            raise
        raise TargetError(f"{what} raised KeyboardInterrupt") from None
    except TargetError:
        raise
    except Exception as error:
        if not wrap_errors:
            raise
        raise TargetError(f"{what} failed: {type(error).__name__}: {error}") from None
    finally:
        for undo in reversed(restore):
            undo()


@contextlib.contextmanager
def importable(root: Path) -> Iterator[None]:
    """``root`` first on ``sys.path`` for the block, then as it was.

    The target's modules (``target.app``, ``target.seed``, whatever its views
    import lazily) and local plugins live beside perfci.yaml, which is not on
    the import path of an installed ``perfci``; for ``--against`` the base
    worker's root is its own tree. Modules imported meanwhile stay imported.
    """
    entry = str(root.resolve())
    if entry in sys.path:
        yield
        return
    sys.path.insert(0, entry)
    try:
        yield
    finally:
        with contextlib.suppress(ValueError):
            sys.path.remove(entry)


def import_object(spec: str, timeout_s: float | None = None) -> Callable[..., Any]:
    """Import ``module:name``; TargetError naming the spec when it cannot be found."""
    module_name, _, attr = spec.partition(":")
    with target_code(f"importing {module_name!r}", timeout_s):
        module = importlib.import_module(module_name)
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
    timeouts = target.timeouts
    factory = import_object(target.app, timeouts.factory)
    with target_code(f"target.app {target.app!r}", timeouts.factory):
        app = factory(config)
    if not isinstance(app, Flask):
        raise TargetError(
            f"target.app {target.app!r} returned {type(app).__name__}, not a Flask app"
        )
    seeded: dict[str, int] = {}
    with app.app_context():
        engine = _engine_of(app, target.app)
        if target.seed:
            seed = import_object(target.seed, timeouts.seed)
            with target_code(f"target.seed {target.seed!r}", timeouts.seed):
                result = seed(app, **target.seed_args)
            seeded = _row_counts(result, target.seed)
    return Target(app=app, engine=engine, app_config=config, seeded=seeded)


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


def _engine_of(app: Flask, spec: str) -> Engine:
    extension = app.extensions.get("sqlalchemy")
    if extension is None:
        raise TargetError(f"target.app {spec!r}: the app has no Flask-SQLAlchemy extension")
    engine = extension.engine
    if not isinstance(engine, Engine):
        raise TargetError(f"target.app {spec!r}: no SQLAlchemy engine")
    return engine
