"""Counting cache hits and misses of a Flask app: by Flask-Caching's signals or at the backend.

Signals (Flask-Caching 2.5+, ``CACHE_ENABLE_SIGNALS``) say what the view or
memoized function decided, including entries the app rejected as stale. The
backend count is the fallback for apps without signals: every ``get``,
``get_many`` and ``has`` on each Flask-Caching backend of the app, by key,
minus bookkeeping keys (memoize's version keys).
"""

from __future__ import annotations

import fnmatch
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from flask import Flask

try:  # Flask-Caching < 2.5 has no signals
    from flask_caching import (
        cache_memoize_hit,
        cache_memoize_miss,
        cache_view_hit,
        cache_view_miss,
    )

    HAS_SIGNALS = True
except ImportError:  # pragma: no cover - depends on the installed Flask-Caching
    HAS_SIGNALS = False


class Tally:
    """Hits and misses per label (the endpoint being requested when they happened)."""

    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        self.misses: Counter[str] = Counter()
        self.label = ""
        self._lock = threading.Lock()

    def hit(self) -> None:
        with self._lock:
            self.hits[self.label] += 1

    def miss(self) -> None:
        with self._lock:
            self.misses[self.label] += 1


def backends(app: Flask) -> list[Any]:
    """The app's Flask-Caching backends (one per ``Cache`` object)."""
    return list((app.extensions.get("cache") or {}).values())


def signals_enabled(app: Flask) -> bool:
    return HAS_SIGNALS and bool(app.config.get("CACHE_ENABLE_SIGNALS"))


@contextmanager
def counting_signals(tally: Tally) -> Iterator[None]:
    """Count view and memoize hit/miss signals into ``tally``."""

    def on_hit(_sender: Any, **_: Any) -> None:
        tally.hit()

    def on_miss(_sender: Any, **_: Any) -> None:
        tally.miss()

    pairs = [
        (cache_view_hit, on_hit),
        (cache_memoize_hit, on_hit),
        (cache_view_miss, on_miss),
        (cache_memoize_miss, on_miss),
    ]
    for signal, receiver in pairs:
        signal.connect(receiver)
    try:
        yield
    finally:
        for signal, receiver in pairs:
            signal.disconnect(receiver)


@contextmanager
def counting_backend(app: Flask, tally: Tally, ignore: Sequence[str]) -> Iterator[None]:
    """Count lookups on every backend of ``app``, keys matching ``ignore`` globs excepted.

    The lookup methods are wrapped on the backend instances themselves, so
    code that kept a reference to a backend is counted too; only the
    outermost call counts (``SimpleCache.get_many`` calls ``get``).
    """
    local = threading.local()

    def counted(key: str, hit: bool) -> None:
        if any(fnmatch.fnmatchcase(key, pattern) for pattern in ignore):
            return
        if hit:
            tally.hit()
        else:
            tally.miss()

    def wrap(method: Callable[..., Any], name: str) -> Callable[..., Any]:
        def wrapper(*keys: str) -> Any:
            depth = getattr(local, "depth", 0)
            local.depth = depth + 1
            try:
                result = method(*keys)
            finally:
                local.depth = depth
            if depth == 0:
                if name == "has":
                    counted(keys[0], bool(result))
                else:
                    # A miss returns None, like a cached None: Flask-Caching cannot tell them apart.
                    values = result if name == "get_many" else [result]
                    for key, value in zip(keys, values, strict=False):
                        counted(key, value is not None)
            return result

        return wrapper

    patched: list[tuple[Any, str]] = []
    for backend in backends(app):
        for name in ("get", "get_many", "has"):
            method = getattr(backend, name, None)
            if callable(method):
                setattr(backend, name, wrap(method, name))
                patched.append((backend, name))
    try:
        yield
    finally:
        for backend, name in patched:
            vars(backend).pop(name, None)


def redis_keyspace(app: Flask) -> dict[str, int] | None:
    """Server-wide ``keyspace_hits``/``keyspace_misses`` of the app's Redis backend, if any."""
    for backend in backends(app):
        client = getattr(backend, "_read_client", None)
        if client is not None and callable(getattr(client, "info", None)):
            stats = client.info("stats")
            return {k: int(stats.get(k, 0)) for k in ("keyspace_hits", "keyspace_misses")}
    return None
