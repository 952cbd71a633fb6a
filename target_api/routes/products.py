"""Subscription products."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from target_api import queries
from target_api.caching import cached_view
from target_api.params import page_args
from target_api.routes import fat_payload, list_response

blueprint = Blueprint("products", __name__, url_prefix="/api")


@blueprint.get("/products")
@cached_view
def list_products() -> dict[str, Any]:
    page = page_args()
    return list_response(
        "products",
        queries.products_page(fat_payload()),
        queries.products_count(),
        queries.page_params(page),
        page,
    )
