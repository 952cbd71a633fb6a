"""An endpoint to exercise, and the one place a request's wire form is built.

``Endpoint`` is what perfci.yaml describes (method, path, query, body,
headers, ``needs``); ``Endpoint.wire()`` turns it into the bytes every client
sends, the in-process test client and HTTP alike, so the two cannot diverge.
"""

from __future__ import annotations

import json as jsonlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # RFC 9110 field-name
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
_VARIABLE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
# Where an app redirects for a login: /login, /auth/login, /signin, /accounts/login/...
LOGIN_PATH = re.compile(r"(?i)(?:^|/)(?:log-?in|sign-?in|sign_in|auth)(?:/|$|\?|\.)")

Pairs = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Need:
    """``post_id: "POST /api/posts -> $.id"``: a setup request and the JSON path of a value."""

    name: str
    request: Endpoint
    path: str


@dataclass(frozen=True)
class Wire:
    """One request exactly as sent: method, path with query, headers, body bytes."""

    method: str
    target: str
    headers: Pairs
    body: bytes | None = None


@dataclass(frozen=True)
class Endpoint:
    """``GET /api/coocook/chefs?cuisine=Korean``; ``subject`` names it in metrics.

    ``path`` and query values may hold ``{name}`` variables filled from
    ``needs`` (``values`` once resolved); the subject keeps the variables, so
    metric names do not depend on the ids a run created. ``credentials`` are
    the login's headers (cookies, token), never part of the subject or repr.
    """

    method: str
    path: str
    query: Pairs = ()
    json: Any = None
    headers: Pairs = field(default=())
    # Statuses this endpoint should answer (``expect: [404]``); empty: any 2xx or 3xx.
    expect: tuple[int, ...] = field(default=(), compare=False)
    # A form body (application/x-www-form-urlencoded), the alternative to ``json``.
    data: Pairs | None = None
    needs: tuple[Need, ...] = field(default=(), compare=False)
    values: Pairs = field(default=(), compare=False, repr=False)
    credentials: Pairs = field(default=(), compare=False, repr=False)

    @classmethod
    def parse(
        cls,
        text: str,
        *,
        json: Any = None,
        data: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        expect: Sequence[int] | None = None,
        needs: Sequence[Need] = (),
    ) -> Endpoint:
        """Parse ``"METHOD /path?query"`` (method defaults to GET); ValueError if malformed.

        A ``{name}`` in the path or a query value must be one of ``needs``.
        """
        parts = text.split()
        if len(parts) == 1:
            method, target = "GET", parts[0]
        elif len(parts) == 2:
            method, target = parts[0].upper(), parts[1]
        else:
            raise ValueError(f"expected 'METHOD /path', got {text!r}")
        if method not in METHODS:
            raise ValueError(f"unknown HTTP method {method!r} in {text!r}")
        check_headers(headers or {})
        if json is not None and data is not None:
            raise ValueError("give either json or data (a form body), not both")
        url = urlsplit(target)
        if url.scheme or url.netloc or not url.path.startswith("/"):
            raise ValueError(f"expected a path starting with '/', got {target!r}")
        query = tuple(parse_qsl(url.query, keep_blank_values=True))
        known = {need.name for need in needs}
        used = set(_VARIABLE.findall(url.path)) | {
            name for _, value in query for name in _VARIABLE.findall(value)
        }
        for name in sorted(used - known):
            raise ValueError(f"unknown variable {{{name}}} in {text!r} (declare it under needs)")
        for name in sorted(known - used):
            raise ValueError(f"needs.{name} is not used in {text!r} (write {{{name}}} in the path)")
        return cls(
            method=method,
            path=url.path,
            query=query,
            json=json,
            headers=tuple(sorted((headers or {}).items())),
            expect=tuple(expect or ()),
            data=None if data is None else tuple((str(k), _text(v)) for k, v in data.items()),
            needs=tuple(needs),
        )

    def expects(self, status: int, location: str | None = None) -> bool:
        """Whether ``status`` is an expected answer: one of ``expect``, else any 2xx/3xx.

        Without ``expect``, a redirect whose ``location`` is a login page is not
        expected: the page was not reached, the login form was.
        """
        if self.expect:
            return status in self.expect
        if 300 <= status < 400 and location and LOGIN_PATH.search(urlsplit(location).path):
            return False
        return 200 <= status < 400

    def problem(
        self, status: int, location: str | None = None, *, login: bool = False
    ) -> str | None:
        """None when the answer is expected, else why not in a few words.

        ``login``: the request is the login step itself (no hint to configure one).
        """
        if self.expects(status, location):
            return None
        hint = (
            " (wrong credentials or CSRF token?)"
            if login
            else f" (configure target.auth, or expect: [{status}])"
        )
        if 300 <= status < 400 and location:
            return (
                f"{self.subject} answered HTTP {status}, a redirect to the login page "
                f"{urlsplit(location).path}{hint}"
            )
        if status not in (401, 403) or self.expect:
            hint = ""
        return f"{self.subject} answered HTTP {status}, expected {self.expected}{hint}"

    @property
    def expected(self) -> str:
        """The expected statuses in words, for messages."""
        return ", ".join(map(str, self.expect)) if self.expect else "2xx/3xx"

    @property
    def path_and_query(self) -> str:
        """Path plus query string as configured (``{name}`` variables unfilled)."""
        return f"{self.path}?{urlencode(self.query)}" if self.query else self.path

    @property
    def subject(self) -> str:
        """The subject segment of this endpoint's metric names."""
        return f"{self.method} {self.path_and_query}"

    @property
    def target(self) -> str:
        """Path plus query string as sent: ``{name}`` variables filled from ``values``."""
        if not self.needs:
            return self.path_and_query
        values = dict(self.values)
        missing = [need.name for need in self.needs if need.name not in values]
        if missing:
            raise ValueError(f"{self.subject}: needs.{missing[0]} was not resolved")

        def fill(text: str, safe: str) -> str:
            return _VARIABLE.sub(lambda m: quote(values[m.group(1)], safe=safe), text)

        path = fill(self.path, "")
        query = tuple((k, _VARIABLE.sub(lambda m: values[m.group(1)], v)) for k, v in self.query)
        return f"{path}?{urlencode(query)}" if query else path

    def wire(self, headers: Mapping[str, str] | None = None) -> Wire:
        """The request as every client sends it.

        Headers, lowest precedence first: the login's ``credentials``, the
        endpoint's own ``headers`` (``target.headers`` merged under them), then
        ``headers`` given here (a check's own, e.g. ``Cache-Control``). A
        ``json`` body is sent as ``application/json``, ``data`` as a form.
        """
        merged: dict[str, str] = {}
        for source in (self.credentials, self.headers, tuple((headers or {}).items())):
            for name, value in source:
                for old in [k for k in merged if k.lower() == name.lower()]:
                    del merged[old]
                merged[name] = value
        body: bytes | None = None
        content_type = None
        if self.json is not None:
            body = jsonlib.dumps(self.json).encode()
            content_type = "application/json"
        elif self.data is not None:
            body = urlencode(self.data).encode()
            content_type = "application/x-www-form-urlencoded"
        if content_type and not any(k.lower() == "content-type" for k in merged):
            merged["Content-Type"] = content_type
        return Wire(self.method, self.target, tuple(merged.items()), body)

    def with_headers(self, headers: Mapping[str, str]) -> Endpoint:
        """A copy with ``headers`` set; they replace the endpoint's own case-insensitively."""
        if not headers:
            return self
        check_headers(headers)
        names = {name.lower() for name in headers}
        kept = tuple((k, v) for k, v in self.headers if k.lower() not in names)
        return replace(self, headers=tuple(sorted((*kept, *headers.items()))))

    def under_headers(self, headers: Mapping[str, str]) -> Endpoint:
        """A copy with ``headers`` added where the endpoint sets none of that name."""
        names = {name.lower() for name, _ in self.headers}
        added = {k: v for k, v in headers.items() if k.lower() not in names}
        return self.with_headers(added) if added else self

    def with_credentials(self, credentials: Mapping[str, str]) -> Endpoint:
        """A copy sending the login's headers (the endpoint's own headers still win)."""
        return replace(self, credentials=tuple(credentials.items()))

    def with_values(self, values: Mapping[str, str]) -> Endpoint:
        """A copy whose ``{name}`` variables are filled from ``values``."""
        return replace(self, values=tuple(values.items()))

    def with_query(self, **params: str) -> Endpoint:
        """A copy with query parameters set (replacing any of the same name)."""
        kept = tuple((k, v) for k, v in self.query if k not in params)
        return replace(self, query=kept + tuple(sorted(params.items())))


def check_headers(headers: Mapping[str, str]) -> None:
    """ValueError unless every name is an HTTP token and no value can inject a header."""
    for name, value in headers.items():
        if not _TOKEN.fullmatch(name):
            raise ValueError(f"header name {name!r} is not an HTTP token")
        if any(char in value for char in "\r\n\0"):
            # A CR/LF would end the header and inject another (or a body).
            raise ValueError(f"header {name!r}: a value may not hold CR, LF or NUL")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "y" if value else ""
    return str(value)
