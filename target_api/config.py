"""Configuration: defaults, overridden by the environment, overridden by the caller.

Every key the app reads is listed in :data:`ENV_KEYS` or :func:`defaults`;
``docs/target_api.md`` documents them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from target_api.faults import parse_faults

#: The development token for ``POST /api/coocook/bookings``. Set ``API_TOKEN``
#: in production; this one is documented and therefore public.
DEFAULT_API_TOKEN = "softfactory-dev-token"

#: config key -> environment variable that sets it.
ENV_KEYS: dict[str, str] = {
    "SQLALCHEMY_DATABASE_URI": "DATABASE_URL",
    "CACHE_REDIS_URL": "CACHE_REDIS_URL",
    "CACHE_KEY_PREFIX": "CACHE_KEY_PREFIX",
    "FAULTS": "PERFCI_FAULTS",
    "SLOW_CPU_MS": "PERFCI_SLOW_CPU_MS",
    "API_TOKEN": "API_TOKEN",
}


def defaults(instance_path: str) -> dict[str, Any]:
    """The built-in defaults; the database is a SQLite file in the instance folder."""
    return {
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(instance_path) / 'softfactory.db'}",
        "CACHE_REDIS_URL": None,
        "CACHE_KEY_PREFIX": "softfactory:",
        "CACHE_DEFAULT_TIMEOUT": 300,
        "FAULTS": "",
        "SLOW_CPU_MS": 5.0,
        "API_TOKEN": DEFAULT_API_TOKEN,
        # A booking is a few hundred bytes; anything this large is a mistake or abuse.
        "MAX_CONTENT_LENGTH": 64 * 1024,
        "PER_PAGE_DEFAULT": 12,
        "PER_PAGE_MAX": 100,
        # Shared-memory file holding the cache generation for in-process caches;
        # None puts it next to the SQLite file or in the instance folder.
        "CACHE_GENERATION_FILE": None,
    }


def normalize_database_url(url: str) -> str:
    """Point ``postgres://`` and bare ``postgresql://`` URLs at psycopg 3."""
    for scheme in ("postgres://", "postgresql://"):
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url[len(scheme) :]
    return url


def resolve(instance_path: str, overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    """Merge defaults < environment < ``overrides`` and normalise the values."""
    config = defaults(instance_path)
    for key, variable in ENV_KEYS.items():
        value = os.environ.get(variable)
        if value not in (None, ""):
            config[key] = value
    config.update(overrides or {})

    config["SQLALCHEMY_DATABASE_URI"] = normalize_database_url(
        str(config["SQLALCHEMY_DATABASE_URI"])
    )
    config["FAULTS"] = parse_faults(config["FAULTS"])
    try:
        config["SLOW_CPU_MS"] = float(config["SLOW_CPU_MS"])
    except (TypeError, ValueError):
        raise ValueError(f"SLOW_CPU_MS must be a number, got {config['SLOW_CPU_MS']!r}") from None
    if config["SLOW_CPU_MS"] < 0:
        raise ValueError(f"SLOW_CPU_MS must not be negative, got {config['SLOW_CPU_MS']}")
    if not config["API_TOKEN"]:
        raise ValueError("API_TOKEN must not be empty")
    return config
