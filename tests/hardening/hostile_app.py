"""A target that misbehaves on demand: sys.exit, KeyboardInterrupt or a hang in each phase.

``HOSTILE_IMPORT`` (environment) acts at import; ``HOSTILE_FACTORY`` (app
config) in the factory; the seed's ``mode`` argument in the seed;
``/exit``, ``/interrupt`` and ``/hang`` in a request.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Mapping
from typing import Any

from flask import Flask

from tests.toy import toyapp


def _misbehave(mode: str | None) -> None:
    if mode == "exit0":
        sys.exit(0)
    if mode == "exit1":
        sys.exit(1)
    if mode == "interrupt":
        raise KeyboardInterrupt
    if mode == "hang":
        time.sleep(3600)


_misbehave(os.environ.get("HOSTILE_IMPORT"))


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    app = toyapp.create_app(config)
    _misbehave(app.config.get("HOSTILE_FACTORY"))

    @app.get("/<mode>")
    def misbehave(mode: str) -> Any:
        _misbehave(mode)
        return {"ok": True}

    return app


def seed(app: Flask, rows: int = 3, mode: str | None = None, returns: Any = "counts") -> Any:
    counts = toyapp.seed(app, rows)
    _misbehave(mode)
    return counts if returns == "counts" else returns
