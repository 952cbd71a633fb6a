"""Review campaigns and their applications."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from werkzeug.exceptions import NotFound

from target_api import queries
from target_api.caching import cached_view
from target_api.models import APPLICATION_STATUSES, CAMPAIGN_STATUSES
from target_api.params import choice_arg, page_args
from target_api.prepared import fetch_first, snapshot
from target_api.routes import fat_payload, list_response, reading

blueprint = Blueprint("campaigns", __name__, url_prefix="/api/campaigns")


@blueprint.get("")
@cached_view
def list_campaigns() -> dict[str, Any]:
    status = choice_arg("status", CAMPAIGN_STATUSES)
    page = page_args()
    return list_response(
        "campaigns",
        queries.campaigns_page(status is not None, fat_payload()),
        queries.campaigns_count(status is not None),
        queries.page_params(page, status=status),
        page,
    )


@blueprint.get("/<int:campaign_id>/applications")
@cached_view
def list_applications(campaign_id: int) -> dict[str, Any]:
    status = choice_arg("status", APPLICATION_STATUSES)
    page = page_args()
    with reading() as connection:
        snapshot(connection)  # the existence check and the page: one snapshot
        if fetch_first(connection, queries.campaign_exists(), {"campaign_id": campaign_id}) is None:
            raise NotFound(description=f"campaign {campaign_id} not found")
        return list_response(
            "applications",
            queries.applications_page(status is not None, fat_payload()),
            queries.applications_count(status is not None),
            queries.page_params(page, campaign_id=campaign_id, status=status),
            page,
            connection=connection,
        )
