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


def query_arg(name: str) -> str | None:
    """The first value of query parameter ``name``, None when absent.

    ``request.args.get`` would do, but werkzeug's MultiDict answers a missing
    key by raising (and catching) a ``BadRequestKeyError``, an HTTP exception
    object built for nothing: absent parameters are the common case.
    """
    args = request.args
    return args[name] if name in args else None  # noqa: SIM401 (the point: no .get)


def int_arg(name: str) -> int | None:
    return positive_int(name, query_arg(name))


def choice_arg(name: str, allowed: Sequence[str]) -> str | None:
    raw = query_arg(name)
    if raw is None or raw == "":
        return None
    if raw not in allowed:
        raise InvalidParameter(name, f"must be one of {', '.join(allowed)}; got {raw!r}")
    return raw


def text_arg(name: str, max_length: int = 80) -> str | None:
    raw = query_arg(name)
    if raw is None or raw == "":
        return None
    if len(raw) > max_length:
        raise InvalidParameter(name, f"must be at most {max_length} characters")
    return raw


def page_args() -> Page:
    """``page`` (default 1) and ``per_page`` (default 12, capped at PER_PAGE_MAX)."""
    config = current_app.config
    number = int_arg("page") or 1
    size = int_arg("per_page") or config["PER_PAGE_DEFAULT"]
    return Page(number, min(size, config["PER_PAGE_MAX"]))
