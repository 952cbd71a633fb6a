"""SNS automation: scheduled posts."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from target_api import queries
from target_api.caching import cached_view
from target_api.models import POST_STATUSES
from target_api.params import choice_arg, int_arg, page_args
from target_api.routes import fat_payload, list_response

blueprint = Blueprint("sns", __name__, url_prefix="/api/sns")


@blueprint.get("/posts")
@cached_view
def list_posts() -> dict[str, Any]:
    status = choice_arg("status", POST_STATUSES)
    account_id = int_arg("account_id")
    page = page_args()
    has = (status is not None, account_id is not None)
    return list_response(
        "posts",
        queries.posts_page(*has, fat_payload()),
        queries.posts_count(*has),
        queries.page_params(page, status=status, account_id=account_id),
        page,
    )
