"""CooCook: chefs and their bookings (the report's hot path)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, current_app, request, url_for
from sqlalchemy import select, true
from werkzeug.exceptions import BadRequest, NotFound

from target_api import caching, queries, serialization
from target_api.auth import require_token
from target_api.caching import cached_view
from target_api.db_tuning import begin_write
from target_api.errors import InvalidParameter
from target_api.extensions import db
from target_api.faults import N_PLUS_ONE
from target_api.models import Booking, Chef, User
from target_api.params import Page, int_arg, page_args, text_arg
from target_api.prepared import fetch_all, fetch_first, prepare, snapshot
from target_api.routes import fat_payload, list_response, reading

blueprint = Blueprint("coocook", __name__, url_prefix="/api/coocook")

MAX_DURATION_HOURS = 12
MAX_NOTES = 1000


@blueprint.get("/chefs")
@cached_view
def list_chefs() -> dict[str, Any]:
    """Active chefs, filtered by exact ``cuisine`` / ``location``, each with its booking count."""
    cuisine, location = text_arg("cuisine"), text_arg("location")
    page = page_args()
    has = (cuisine is not None, location is not None)
    params = queries.page_params(page, cuisine=cuisine, location=location)
    if N_PLUS_ONE in current_app.config["FAULTS"]:
        return _list_chefs_lazily(has, params, page)
    fat = fat_payload()
    return list_response(
        "chefs",
        queries.chefs_page(*has, fat),
        queries.chefs_count(*has),
        params,
        page,
        None if fat else serialization.chef_summary,
    )


def _list_chefs_lazily(
    has: tuple[bool, bool], params: dict[str, Any], page: Page
) -> dict[str, Any]:
    """The ``n_plus_one`` fault: ORM chefs, then one bookings query per chef."""
    session = db.session
    chefs = session.scalars(queries.chefs_page_lazy(*has), params)
    items = [serialization.chef_object(chef, fat=fat_payload()) for chef in chefs]
    total = session.execute(queries.chefs_count(*has), params).scalar_one()
    return serialization.page_envelope("chefs", items, total, page.number, page.size)


@blueprint.get("/chefs/<int:chef_id>")
@cached_view
def chef_detail(chef_id: int) -> dict[str, Any]:
    """One active chef with its bio, booking count and latest bookings."""
    detail, latest = queries.chef_detail(), queries.recent_bookings()
    with reading() as connection:
        snapshot(connection)  # two statements, one snapshot
        row = fetch_first(connection, detail, {"chef_id": chef_id})
        if row is None:
            raise NotFound(description=f"chef {chef_id} not found")
        recent = fetch_all(connection, latest, {"chef_id": chef_id, "limit": 5})
        dialect = connection.dialect
    return serialization.chef_detail(
        prepare(detail, dialect).keys, row, prepare(latest, dialect).keys, recent
    )


@blueprint.get("/bookings")
@cached_view
def list_bookings() -> dict[str, Any]:
    """Bookings, newest first, optionally for one ``user_id``."""
    user_id = int_arg("user_id")
    page = page_args()
    return list_response(
        "bookings",
        queries.bookings_page(user_id is not None, fat_payload()),
        queries.bookings_count(user_id is not None),
        queries.page_params(page, user_id=user_id),
        page,
    )


@blueprint.post("/bookings")
def create_booking() -> tuple[dict[str, Any], int, dict[str, str]]:
    """Book a chef. Token-authenticated; the body is validated before any write."""
    require_token()
    fields = _booking_fields()
    session = db.session
    # BEGIN IMMEDIATE on SQLite: the existence checks and the insert are one write.
    begin_write(session)
    chef = session.execute(
        select(Chef.price_per_session).where(Chef.id == fields["chef_id"], Chef.is_active == true())
    ).first()
    if chef is None:
        raise NotFound(description=f"chef {fields['chef_id']} not found")
    if session.execute(select(User.id).where(User.id == fields["user_id"])).first() is None:
        raise InvalidParameter("user_id", f"user {fields['user_id']} does not exist")
    booking = Booking(
        **fields,
        total_price=round(chef.price_per_session * fields["duration_hours"], 2),
        status="pending",
        created_at=dt.datetime.now(dt.UTC).replace(tzinfo=None),
    )
    session.add(booking)
    session.commit()
    # After the commit: a reader that sees the new generation sees the new row.
    caching.invalidate()
    body = {
        "id": booking.id,
        "chef_id": booking.chef_id,
        "user_id": booking.user_id,
        "booking_date": booking.booking_date.isoformat(),
        "duration_hours": booking.duration_hours,
        "total_price": booking.total_price,
        "status": booking.status,
    }
    location = url_for("coocook.list_bookings", user_id=booking.user_id)
    return body, 201, {"Location": location}


def _booking_fields() -> dict[str, Any]:
    if not request.is_json:
        raise BadRequest(description="the body must be JSON (Content-Type: application/json)")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest(description="the body must be a JSON object")
    fields: dict[str, Any] = {
        "chef_id": _required_id(body, "chef_id"),
        "user_id": _required_id(body, "user_id"),
        "booking_date": _date(body.get("booking_date")),
        "duration_hours": _duration(body.get("duration_hours", 2)),
        "notes": _notes(body.get("notes", "")),
    }
    unknown = sorted(set(body) - set(fields))
    if unknown:
        raise InvalidParameter(unknown[0], "unknown field")
    return fields


def _required_id(body: dict[str, Any], name: str) -> int:
    value = body.get(name)
    # bool is an int subclass; true is not an id.
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise InvalidParameter(name, f"must be a positive integer, got {value!r}")
    return value


def _date(value: Any) -> dt.date:
    if not isinstance(value, str):
        raise InvalidParameter("booking_date", "must be a date string YYYY-MM-DD")
    try:
        date = dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidParameter("booking_date", f"not a date YYYY-MM-DD: {value!r}") from None
    if not 2000 <= date.year <= 2100:
        raise InvalidParameter("booking_date", "must be between 2000 and 2100")
    return date


def _duration(value: Any) -> int:
    if (
        not isinstance(value, int)
        or isinstance(value, bool)
        or not 1 <= value <= MAX_DURATION_HOURS
    ):
        raise InvalidParameter(
            "duration_hours", f"must be an integer from 1 to {MAX_DURATION_HOURS}"
        )
    return value


def _notes(value: Any) -> str:
    if not isinstance(value, str) or len(value) > MAX_NOTES:
        raise InvalidParameter("notes", f"must be a string of at most {MAX_NOTES} characters")
    return value
