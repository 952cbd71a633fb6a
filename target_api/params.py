"""Query-parameter parsing: every bad value is a 400 that names the parameter."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flask import current_app, request

from target_api.errors import InvalidParameter


@dataclass(frozen=True, slots=True)
class Page:
    number: int
    size: int

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size


def positive_int(name: str, raw: str | None) -> int | None:
    """``raw`` as an int >= 1, None when absent; anything else is a 400."""
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise InvalidParameter(name, f"must be a positive integer, got {raw!r}") from None
    if value < 1:
        raise InvalidParameter(name, f"must be a positive integer, got {value}")
    return value


def int_arg(name: str) -> int | None:
    return positive_int(name, request.args.get(name))


def choice_arg(name: str, allowed: Sequence[str]) -> str | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if raw not in allowed:
        raise InvalidParameter(name, f"must be one of {', '.join(allowed)}; got {raw!r}")
    return raw


def text_arg(name: str, max_length: int = 80) -> str | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if len(raw) > max_length:
        raise InvalidParameter(name, f"must be at most {max_length} characters")
    return raw


def page_args() -> Page:
    """``page`` (default 1) and ``per_page`` (default 12, capped at PER_PAGE_MAX)."""
    number = int_arg("page") or 1
    size = int_arg("per_page") or current_app.config["PER_PAGE_DEFAULT"]
    return Page(number, min(size, current_app.config["PER_PAGE_MAX"]))
