"""Rows to JSON-ready dicts: lean by default, every column under ``fat_payload``.

The lean shapes are the report's bottleneck 7 fix: only what a list needs,
short keys, no long text; the chef detail is where the bio belongs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any, TypeAlias

from sqlalchemy import Row

from target_api.models import Chef

#: A result row of any columns.
AnyRow: TypeAlias = Row[*tuple[Any, ...]]


def jsonable(value: Any) -> Any:
    """Dates and datetimes as ISO 8601; everything else as the driver gave it."""
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def row_dict(row: AnyRow) -> dict[str, Any]:
    """Every selected column under its own name (but not the page's ``_total``)."""
    return {key: jsonable(value) for key, value in row._mapping.items() if key != "_total"}


def rows(items: Iterable[AnyRow]) -> list[dict[str, Any]]:
    return [row_dict(row) for row in items]


def chef_summary(row: AnyRow) -> dict[str, Any]:
    """The chefs-list shape: eight short fields, no bio, no timestamps.

    Unpacks the row by position (the column order of ``queries.CHEF_LIST_COLUMNS``
    plus the booking count and the page total): several times cheaper than
    eight lookups by name, and this runs for every row of the hottest list.
    """
    chef_id, name, cuisine, location, price, rating, reviews, booking_count, _total = row
    return {
        "id": chef_id,
        "name": name,
        "cuisine": cuisine,
        "location": location,
        "price": price,
        "rating": rating,
        "reviews": reviews,
        "booking_count": booking_count,
    }


def chef_object(chef: Chef, *, fat: bool) -> dict[str, Any]:
    """A loaded Chef (the ``n_plus_one`` path); touching ``bookings`` may lazy-load."""
    booking_count = len(chef.bookings)
    if fat:
        data = {
            column.key: jsonable(getattr(chef, column.key)) for column in Chef.__table__.columns
        }
        data["booking_count"] = booking_count
        return data
    return {
        "id": chef.id,
        "name": chef.name,
        "cuisine": chef.cuisine_type,
        "location": chef.location,
        "price": chef.price_per_session,
        "rating": chef.rating,
        "reviews": chef.rating_count,
        "booking_count": booking_count,
    }


def chef_detail(row: AnyRow, recent: Iterable[AnyRow]) -> dict[str, Any]:
    data = row_dict(row)
    data["recent_bookings"] = rows(recent)
    return data


def page_envelope(
    name: str, items: list[dict[str, Any]], total: int, number: int, size: int
) -> dict[str, Any]:
    """``{name: items, total, page, per_page, pages}``."""
    return {
        name: items,
        "total": total,
        "page": number,
        "per_page": size,
        "pages": (total + size - 1) // size,
    }
