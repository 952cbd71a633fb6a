"""Rows to JSON-ready dicts: lean by default, every column under ``fat_payload``.

The lean shapes are the report's bottleneck 7 fix: only what a list needs,
short keys, no long text; the chef detail is where the bio belongs.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from typing import Any, TypeAlias

from flask.json.provider import DefaultJSONProvider
from flask.sansio.app import App
from sqlalchemy import Row
from werkzeug.sansio.response import Response

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


def record_dict(keys: Sequence[str], row: Sequence[Any]) -> dict[str, Any]:
    """Like :func:`row_dict` for a plain tuple whose column names are ``keys``."""
    return {key: jsonable(value) for key, value in zip(keys, row, strict=True) if key != "_total"}


def records(keys: Sequence[str], items: Iterable[Sequence[Any]]) -> list[dict[str, Any]]:
    return [record_dict(keys, row) for row in items]


def chef_summary(row: Sequence[Any]) -> dict[str, Any]:
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


def chef_detail(
    keys: Sequence[str],
    row: Sequence[Any],
    recent_keys: Sequence[str],
    recent: Iterable[Sequence[Any]],
) -> dict[str, Any]:
    """The chef detail: every column of ``row``, and its latest bookings."""
    data = record_dict(keys, row)
    data["recent_bookings"] = records(recent_keys, recent)
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


class CompactJSONProvider(DefaultJSONProvider):
    """Flask's JSON provider with one reusable encoder for responses.

    ``json.dumps(obj, **options)`` builds a new ``JSONEncoder`` for every call
    that passes options (Flask always passes ``default``, ``ensure_ascii``,
    ``sort_keys`` and the separators). This provider keeps an encoder per
    option set and reuses it: the same bytes, minus the per-response setup.
    Anything unusual (indentation for debug output) takes Flask's own path.
    """

    sort_keys = False
    compact: bool | None = True

    def __init__(self, app: App) -> None:
        super().__init__(app)
        self._encoders: dict[tuple[bool, bool], json.JSONEncoder] = {}

    def _encoder(self) -> json.JSONEncoder:
        options = (bool(self.ensure_ascii), bool(self.sort_keys))
        encoder = self._encoders.get(options)
        if encoder is None:
            encoder = json.JSONEncoder(
                ensure_ascii=options[0],
                sort_keys=options[1],
                separators=(",", ":"),
                default=self.default,
            )
            self._encoders[options] = encoder
        return encoder

    def response(self, *args: Any, **kwargs: Any) -> Response:
        if (self.compact is None and self._app.debug) or self.compact is False:
            return super().response(*args, **kwargs)
        obj = self._prepare_response_obj(args, kwargs)
        body = f"{self._encoder().encode(obj)}\n"
        return self._app.response_class(body, mimetype=self.mimetype)
