"""``GET /health``: the no-database reference every other endpoint is measured against."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

blueprint = Blueprint("health", __name__)


@blueprint.get("/health")
def health() -> dict[str, Any]:
    return {"status": "ok"}
