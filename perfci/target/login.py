"""Logins (``target.auth``) and chained requests (``needs``), for any client.

Both run requests that are not measured: a login once per client, before its
first measured request, and each endpoint's ``needs`` once per run, before
any check (see ``RunContext.prepare``). They take a ``send`` function, so
the in-process test client and an HTTP session run the very same steps.

JSON paths are a small documented subset: ``$``, then ``.name``,
``['name']`` and ``[index]`` (negative counts from the end), e.g.
``$.items[0].id``. That covers extracting an id or a token; filters and
wildcards select several values, which a single ``{name}`` cannot take.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from typing import Any

from perfci.config.model import AuthConfig
from perfci.errors import TargetError
from perfci.target.endpoint import Endpoint, Wire

_STEP = re.compile(r"\.([A-Za-z_][A-Za-z0-9_-]*)|\[(-?\d+)\]|\['([^']*)'\]|\[\"([^\"]*)\"\]")


@dataclass(frozen=True)
class Reply:
    """What a client got back: status, Location, every Set-Cookie, the body."""

    status: int
    location: str | None
    set_cookies: tuple[str, ...]
    body: bytes


Send = Callable[[Wire], Reply]


def parse_path(path: str) -> tuple[str | int, ...]:
    """``$.items[0].id`` → ``("items", 0, "id")``; ValueError outside the subset."""
    if not path.startswith("$"):
        raise ValueError(f"a JSON path starts with '$', got {path!r}")
    steps: list[str | int] = []
    at = 1
    while at < len(path):
        match = _STEP.match(path, at)
        if match is None:
            raise ValueError(
                f"unsupported JSON path {path!r} at {path[at:]!r} "
                "(use $.name, ['name'] and [index])"
            )
        name, index, quoted, double = match.groups()
        steps.append(int(index) if index is not None else (name or quoted or double or ""))
        at = match.end()
    return tuple(steps)


def extract(document: Any, path: str) -> Any:
    """The value at ``path`` in ``document``; LookupError when it matches nothing."""
    value = document
    for step in parse_path(path):
        if isinstance(step, int):
            if not (isinstance(value, list) and -len(value) <= step < len(value)):
                raise LookupError(path)
            value = value[step]
        else:
            if not (isinstance(value, dict) and step in value):
                raise LookupError(path)
            value = value[step]
    return value


def extract_text(body: bytes, path: str) -> str:
    """A string or number at ``path`` in a JSON body, as text; LookupError otherwise."""
    try:
        document = json.loads(body)
    except ValueError:
        raise LookupError(path) from None
    value = extract(document, path)
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise LookupError(path)
    return str(value)


def cookies_of(set_cookies: Sequence[str]) -> dict[str, str]:
    """name → value (as sent back) of every cookie set; a cookie deleted (empty) is dropped."""
    jar: dict[str, str] = {}
    for header in set_cookies:
        parsed = SimpleCookie()
        try:
            parsed.load(header)
        except CookieError:
            continue
        for name, morsel in parsed.items():
            jar[name] = morsel.coded_value
    return jar


def cookie_header(jar: Mapping[str, str]) -> dict[str, str]:
    """``{"Cookie": "a=1; b=2"}``, or no header for an empty jar."""
    kept = {name: value for name, value in jar.items() if value not in ("", '""')}
    return {"Cookie": "; ".join(f"{k}={v}" for k, v in kept.items())} if kept else {}


def login(auth: AuthConfig, send: Send, headers: Mapping[str, str]) -> dict[str, str]:
    """Run the login step; the headers (Cookie, token) every later request sends.

    ``headers`` are ``target.headers``. TargetError (exit 3), one line naming
    the step and the status, when a step fails: a run is never measured
    logged out. The token's value is never in a message.
    """
    jar: dict[str, str] = {}
    fields = dict(auth.data) if auth.data is not None else None
    own = dict(auth.headers)
    if auth.csrf is not None:
        page = Endpoint.parse(auth.csrf.from_).under_headers(headers)
        reply = send(page.wire())
        if not 200 <= reply.status < 300:
            raise TargetError(
                f"target.auth.csrf: {page.subject} answered HTTP {reply.status}, expected 2xx"
            )
        jar.update(cookies_of(reply.set_cookies))
        found = re.search(auth.csrf.regex, reply.body.decode("utf-8", "replace"))
        if found is None:
            raise TargetError(
                f"target.auth.csrf: the regex matched nothing in the answer of {page.subject}"
            )
        if auth.csrf.field is not None and auth.json_body is None:
            fields = {**(fields or {}), auth.csrf.field: found.group(1)}
        if auth.csrf.header is not None:
            own[auth.csrf.header] = found.group(1)
    if auth.basic is not None:
        pair = f"{auth.basic.username}:{auth.basic.password}".encode()
        own["Authorization"] = "Basic " + base64.b64encode(pair).decode()
    step = Endpoint.parse(
        auth.request, json=auth.json_body, data=fields, headers=own, expect=auth.expect
    ).under_headers(headers)
    reply = send(step.with_credentials(cookie_header(jar)).wire())
    problem = step.problem(reply.status, reply.location, login=True)
    if problem is not None:
        raise TargetError(f"target.auth: the login failed: {problem}")
    jar.update(cookies_of(reply.set_cookies))
    credentials = cookie_header(jar)
    if auth.token is not None:
        try:
            token = extract_text(reply.body, auth.token)
        except LookupError:
            raise TargetError(
                f"target.auth.token: {auth.token} matched nothing in the answer of {step.subject}"
            ) from None
        credentials[auth.token_header] = auth.token_format.replace("{token}", token)
    if not credentials:
        raise TargetError(
            f"target.auth: {step.subject} answered HTTP {reply.status} but set no cookie "
            "(set token: $.path if it answers a token)"
        )
    return credentials


def resolve_needs(endpoint: Endpoint, send: Send) -> Endpoint:
    """``endpoint`` with its ``{name}`` values, from its setup requests (sent, not measured).

    TargetError (exit 3), one line naming the endpoint, when a setup request
    fails or its path matches nothing.
    """
    if not endpoint.needs:
        return endpoint
    values: dict[str, str] = {}
    for need in endpoint.needs:
        setup = need.request.with_credentials(dict(endpoint.credentials))
        reply = send(setup.wire())
        where = f"{endpoint.subject}: needs.{need.name}"
        problem = setup.problem(reply.status, reply.location)
        if problem is not None:
            raise TargetError(f"{where}: {problem}")
        try:
            values[need.name] = extract_text(reply.body, need.path)
        except LookupError:
            raise TargetError(
                f"{where}: {need.path} matched no string or number in the answer of {setup.subject}"
            ) from None
    return endpoint.with_values(values)
