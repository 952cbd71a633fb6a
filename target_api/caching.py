"""Response caching that is never stale after a write.

Views wrapped in :func:`cached_view` are cached whole (status, type, body)
under their path plus sorted query string. Every entry is tagged with the
*cache generation* current when it was computed; a write bumps the generation
(:func:`invalidate`), so every older entry stops matching at once, in every
gunicorn worker:

* Redis: the generation is a Redis counter, read in the same ``MGET`` as the
  entry (one round trip per request).
* In-process SimpleCache: each worker has its own cache, so the generation
  lives in an 8-byte shared-memory file (``mmap``) that all workers on the
  host map; reading it is a memory load.

Hits and misses are observable as the ``X-Cache: HIT|MISS|BYPASS`` header and
as Flask-Caching's ``cache_view_hit`` / ``cache_view_miss`` signals.
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import mmap
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, TypeVar, cast
from urllib.parse import urlencode

from flask import Flask, Response, current_app, request
from flask_caching import cache_view_hit, cache_view_miss

from target_api.extensions import cache
from target_api.faults import FAT_PAYLOAD

EXTENSION_KEY = "target_api.view_cache"
GENERATION_KEY = "generation"
CACHE_HEADER = "X-Cache"
# Longer query strings are hashed so keys stay short in Redis.
MAX_PLAIN_KEY = 200

#: (generation, status, mimetype, body)
Entry = tuple[int, int, str, bytes]
F = TypeVar("F", bound=Callable[..., Any])


class Generation(Protocol):
    def current(self) -> int: ...

    def bump(self) -> None: ...


class LocalGeneration:
    """A counter in this process: for caches no other process can see."""

    def __init__(self) -> None:
        self._value = 0
        self._lock = threading.Lock()

    def current(self) -> int:
        return self._value

    def bump(self) -> None:
        with self._lock:
            self._value += 1


class SharedMemoryGeneration:
    """A counter in a memory-mapped file, shared by every process on the host."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        if os.fstat(self._fd).st_size < 8:
            os.ftruncate(self._fd, 8)
        self._map = mmap.mmap(self._fd, 8)

    def current(self) -> int:
        return int.from_bytes(self._map[:8], "little")

    def bump(self) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            self._map[:8] = (self.current() + 1).to_bytes(8, "little")
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)


class ViewCache:
    """Looks up and stores whole responses on the app's Flask-Caching backend."""

    def __init__(self, backend: Any, generation: Generation | None, namespace: str) -> None:
        self.backend = backend
        # Apps that render differently (fat_payload) must not share entries.
        self.namespace = namespace
        # None: the generation is a counter in the backend itself (Redis).
        self.generation = generation

    def lookup(self, key: str) -> tuple[int, Entry | None]:
        """The current generation and the stored entry for ``key`` (or None)."""
        if self.generation is None:
            generation, entry = self.backend.get_many(GENERATION_KEY, key)
            return int(generation or 0), entry
        return self.generation.current(), self.backend.get(key)

    def current(self) -> int:
        """The current generation alone (a bypass does not need the entry)."""
        if self.generation is None:
            return int(self.backend.get(GENERATION_KEY) or 0)
        return self.generation.current()

    def store(self, key: str, entry: Entry) -> None:
        self.backend.set(key, entry)

    def invalidate(self) -> None:
        if self.generation is None:
            self.backend.inc(GENERATION_KEY)
        else:
            self.generation.bump()


def init_app(app: Flask) -> None:
    """Attach a :class:`ViewCache` to ``app`` (after ``cache.init_app``)."""
    backend = app.extensions["cache"][cache]
    cache_type = app.config["CACHE_TYPE"]
    generation: Generation | None
    if cache_type == "RedisCache":
        generation = None
    elif cache_type == "NullCache" or app.config["_SQLITE_MEMORY"]:
        # Nothing cached, or a database private to this process.
        generation = LocalGeneration()
    else:
        generation = SharedMemoryGeneration(generation_file(app))
    namespace = "view-fat" if FAT_PAYLOAD in app.config["FAULTS"] else "view"
    app.extensions[EXTENSION_KEY] = ViewCache(backend, generation, namespace)


def generation_file(app: Flask) -> Path:
    """Where the shared generation lives: configured, or beside the database."""
    configured = app.config.get("CACHE_GENERATION_FILE")
    if configured:
        return Path(configured)
    database = app.config["_SQLITE_FILE"]
    if database:
        return Path(f"{database}.cache-generation")
    identity = f"{app.config['SQLALCHEMY_DATABASE_URI']}|{app.config['CACHE_KEY_PREFIX']}"
    digest = hashlib.sha256(identity.encode()).hexdigest()[:16]
    return Path(app.instance_path) / f"cache-generation-{digest}"


def view_cache() -> ViewCache:
    return cast(ViewCache, current_app.extensions[EXTENSION_KEY])


def invalidate() -> None:
    """Make every cached response stale (call after a write commits)."""
    view_cache().invalidate()


def request_key(namespace: str = "view") -> str:
    """``view:<path>?<sorted query>``: equal for equal requests, whatever the order."""
    if not request.args:
        return f"{namespace}:{request.path}"
    query = urlencode(sorted(request.args.items(multi=True)))
    if len(query) > MAX_PLAIN_KEY:
        query = hashlib.sha256(query.encode()).hexdigest()
    return f"{namespace}:{request.path}?{query}"


def cached_view(view: F) -> F:
    """Serve ``view`` from the cache; compute, store and tag it on a miss.

    Only 200 responses are stored. A request with ``Cache-Control: no-cache``
    skips the lookup (``X-Cache: BYPASS``: only the generation is read, not
    the entry) and refreshes the entry.
    """

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
        views: ViewCache = app.extensions[EXTENSION_KEY]
        key = request_key(views.namespace)
        # The raw header: request.headers.get raises and catches a KeyError when it is absent.
        bypass = "no-cache" in request.environ.get("HTTP_CACHE_CONTROL", "")
        if bypass:
            generation, hit = views.current(), False
        else:
            generation, entry = views.lookup(key)
            hit = entry is not None and entry[0] == generation
        if app.config["CACHE_ENABLE_SIGNALS"]:
            signal = cache_view_hit if hit else cache_view_miss
            if signal.receivers:
                signal.send(cache=cache, cache_key=key, args=args, kwargs=kwargs)
        if hit:
            assert entry is not None
            _, status, mimetype, body = entry
            response = Response(body, status=status, mimetype=mimetype)
            response.headers[CACHE_HEADER] = "HIT"
            return response
        response = app.make_response(view(*args, **kwargs))
        if response.status_code == 200:
            views.store(key, (generation, 200, response.mimetype or "", response.get_data()))
        response.headers[CACHE_HEADER] = "BYPASS" if bypass else "MISS"
        return response

    return cast(F, wrapper)
