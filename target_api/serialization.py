"""Rows to JSON-ready dicts: lean by default, every column under ``fat_payload``.

The lean shapes are the report's bottleneck 7 fix: only what a list needs,
short keys, no long text; the chef detail is where the bio belongs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any, TypeAlias

import orjson
from flask.json.provider import DefaultJSONProvider
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


class FastJSONProvider(DefaultJSONProvider):
    """Flask's JSON provider, with responses written by orjson: compact, unsorted, UTF-8.

    ``json.dumps`` spends about 40 µs on a 12-chef page, a tenth of what
    an uncached chefs request costs; orjson writes the same document in about
    4 µs. Types orjson does not know, and dates, datetimes and dataclasses,
    go through Flask's ``default`` (HTTP dates, ``str(Decimal)``,
    ``dataclasses.asdict``), so values render as with Flask's own provider.
    The differences are spelling only: non-ASCII text is sent as UTF-8, not
    ``\\u`` escapes, and small exponents as ``2.5e-7``, not ``2.5e-07``.
    ``dumps``, debug-mode pretty printing and what orjson refuses (integers
    beyond 64 bits) take Flask's own path.
    """

    sort_keys = False
    compact: bool | None = True
    ensure_ascii = False
    #: Non-string keys become strings, as ``json.dumps`` does.
    OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
    OPTIONS |= orjson.OPT_NON_STR_KEYS

    def encode(self, obj: Any) -> bytes:
        """``obj`` as the compact JSON bytes a response carries (without its newline)."""
        try:
            return orjson.dumps(obj, default=self.default, option=self.OPTIONS)
        except orjson.JSONEncodeError:
            return self.dumps(obj, separators=(",", ":")).encode()

    def response(self, *args: Any, **kwargs: Any) -> Response:
        if (self.compact is None and self._app.debug) or self.compact is False:
            return super().response(*args, **kwargs)
        body = self.encode(self._prepare_response_obj(args, kwargs)) + b"\n"
        # The app's response_class is flask.Response, which takes bytes.
        return self._app.response_class(body, mimetype=self.mimetype)  # type: ignore[arg-type]
