"""An endpoint to exercise: method, path, query string and optional body."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # RFC 9110 field-name
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


@dataclass(frozen=True)
class Endpoint:
    """``GET /api/coocook/chefs?cuisine=Korean``; ``subject`` names it in metrics."""

    method: str
    path: str
    query: tuple[tuple[str, str], ...] = ()
    json: Any = None
    headers: tuple[tuple[str, str], ...] = field(default=())
    # Statuses this endpoint should answer (``expect: [404]``); empty: any 2xx or 3xx.
    expect: tuple[int, ...] = field(default=(), compare=False)

    @classmethod
    def parse(
        cls,
        text: str,
        *,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        expect: Sequence[int] | None = None,
    ) -> Endpoint:
        """Parse ``"METHOD /path?query"`` (method defaults to GET); ValueError if malformed."""
        parts = text.split()
        if len(parts) == 1:
            method, target = "GET", parts[0]
        elif len(parts) == 2:
            method, target = parts[0].upper(), parts[1]
        else:
            raise ValueError(f"expected 'METHOD /path', got {text!r}")
        if method not in METHODS:
            raise ValueError(f"unknown HTTP method {method!r} in {text!r}")
        for name, value in (headers or {}).items():
            if not _TOKEN.fullmatch(name):
                raise ValueError(f"header name {name!r} is not an HTTP token")
            if any(char in value for char in "\r\n\0"):
                # A CR/LF would end the header and inject another (or a body).
                raise ValueError(f"header {name!r}: a value may not hold CR, LF or NUL")
        url = urlsplit(target)
        if url.scheme or url.netloc or not url.path.startswith("/"):
            raise ValueError(f"expected a path starting with '/', got {target!r}")
        return cls(
            method=method,
            path=url.path,
            query=tuple(parse_qsl(url.query, keep_blank_values=True)),
            json=json,
            headers=tuple(sorted((headers or {}).items())),
            expect=tuple(expect or ()),
        )

    def expects(self, status: int) -> bool:
        """Whether ``status`` is an expected answer: one of ``expect``, else any 2xx/3xx."""
        return status in self.expect if self.expect else 200 <= status < 400

    @property
    def expected(self) -> str:
        """The expected statuses in words, for messages."""
        return ", ".join(map(str, self.expect)) if self.expect else "2xx/3xx"

    @property
    def path_and_query(self) -> str:
        """Path plus query string, as sent on the wire."""
        return f"{self.path}?{urlencode(self.query)}" if self.query else self.path

    @property
    def subject(self) -> str:
        """The subject segment of this endpoint's metric names."""
        return f"{self.method} {self.path_and_query}"

    def with_headers(self, headers: Mapping[str, str]) -> Endpoint:
        """A copy with ``headers`` set; they replace the endpoint's own case-insensitively."""
        if not headers:
            return self
        names = {name.lower() for name in headers}
        kept = tuple((k, v) for k, v in self.headers if k.lower() not in names)
        return Endpoint(
            method=self.method,
            path=self.path,
            query=self.query,
            json=self.json,
            headers=tuple(sorted((*kept, *headers.items()))),
            expect=self.expect,
        )

    def with_query(self, **params: str) -> Endpoint:
        """A copy with query parameters set (replacing any of the same name)."""
        kept = tuple((k, v) for k, v in self.query if k not in params)
        return Endpoint(
            method=self.method,
            path=self.path,
            query=kept + tuple(sorted(params.items())),
            json=self.json,
            headers=self.headers,
            expect=self.expect,
        )
