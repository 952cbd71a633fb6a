"""AI automation: AI employees and scenarios."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from target_api import queries
from target_api.caching import cached_view
from target_api.params import int_arg, page_args, text_arg
from target_api.routes import fat_payload, list_response

blueprint = Blueprint("ai", __name__, url_prefix="/api/ai")


@blueprint.get("/employees")
@cached_view
def list_employees() -> dict[str, Any]:
    user_id = int_arg("user_id")
    page = page_args()
    return list_response(
        "employees",
        queries.employees_page(user_id is not None, fat_payload()),
        queries.employees_count(user_id is not None),
        queries.page_params(page, user_id=user_id),
        page,
    )


@blueprint.get("/scenarios")
@cached_view
def list_scenarios() -> dict[str, Any]:
    category = text_arg("category", max_length=40)
    page = page_args()
    return list_response(
        "scenarios",
        queries.scenarios_page(category is not None, fat_payload()),
        queries.scenarios_count(category is not None),
        queries.page_params(page, category=category),
        page,
    )
