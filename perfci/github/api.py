"""A small GitHub REST API client: retries, backoff, ``Retry-After``, pagination, no token leak.

Retried: connection errors, 5xx, 429, and a 403 that is a rate limit
(``X-RateLimit-Remaining: 0``, a ``Retry-After`` header, or a "secondary rate
limit" message). The wait is ``Retry-After`` when GitHub sends it, else until
``X-RateLimit-Reset`` for an exhausted quota, else exponential. Sleeping goes
through an injectable function so tests do not wait.

The token lives in a ``Secret``, whose ``repr`` and ``str`` are ``***``;
error messages are built from the method, path, status and GitHub's own
message, never from headers, and are scrubbed of the token all the same.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import re
import time
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import requests

from perfci import __version__
from perfci.errors import PublishError

API_VERSION = "2022-11-28"
MAX_ATTEMPTS = 5
FIRST_BACKOFF_S = 1.0
MAX_WAIT_S = 60.0  # a longer Retry-After gives up: a CI job should not idle for an hour
TIMEOUT_S = 30.0

Sleep = Callable[[float], None]


class Secret:
    """A string that never shows itself in ``repr``, ``str``, f-strings or tracebacks."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    def __str__(self) -> str:
        return "***"

    def __bool__(self) -> bool:
        return bool(self._value)

    def renderings(self) -> tuple[str, ...]:
        """Every way the token may appear in a message: raw, repr-escaped, URL-encoded."""
        value = self._value
        forms = {value, repr(value)[1:-1], urllib.parse.quote(value, safe=""),
                 urllib.parse.quote_plus(value)}  # fmt: skip
        return tuple(sorted((f for f in forms if f), key=len, reverse=True))


# What a GitHub token (classic, fine-grained, installation, GHES) is made of.
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_.\-]{1,1024}")


def check_token(token: Secret) -> None:
    """``PublishError`` (one line, never the value) unless the token looks like a token.

    A trailing newline (``$(cat token)``), spaces or non-ASCII characters would
    otherwise reach an HTTP header: requests echoes it in its error, or fails
    with a traceback, and nothing about it is worth retrying.
    """
    value = token.reveal()
    if _TOKEN_SHAPE.fullmatch(value):
        return
    if value != value.strip():
        problem = "starts or ends with whitespace (a trailing newline?)"
    elif not value.isascii():
        problem = "holds non-ASCII characters"
    elif len(value) > 1024:
        problem = "is longer than 1024 characters"
    else:
        problem = "holds characters a GitHub token never has (spaces or control characters?)"
    raise PublishError(f"GITHUB_TOKEN {problem}; it was not sent")


class GitHubAPI:
    """The REST API at ``api_url`` (``GITHUB_API_URL``: github.com or an Enterprise server)."""

    def __init__(
        self,
        api_url: str,
        token: Secret,
        *,
        sleep: Sleep = time.sleep,
        clock: Callable[[], float] = time.time,
        max_attempts: int = MAX_ATTEMPTS,
        timeout_s: float = TIMEOUT_S,
    ) -> None:
        check_token(token)
        self.api_url = api_url.rstrip("/")
        self._origin = _origin(self.api_url)
        self._token = token
        self._sleep = sleep
        self._clock = clock
        self.max_attempts = max_attempts
        self.timeout_s = timeout_s
        self._session = requests.Session()
        self._session.headers.update(
            {
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": API_VERSION,
                "User-Agent": f"perfci/{__version__}",
            }
        )

    def __repr__(self) -> str:
        return f"GitHubAPI({self.api_url!r}, token=***)"

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> GitHubAPI:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Mapping[str, Any] | None = None,
        params: Mapping[str, str | int] | None = None,
        what: str = "",
    ) -> requests.Response:
        """One API call with retries; a ``PublishError`` (one line) when it finally fails.

        ``path`` is relative to the API root (``/repos/o/r/statuses/sha``) or
        an absolute URL on the same server (a pagination ``next`` link).
        ``what`` names the call in messages and picks the 403 explanation.
        """
        url = path if path.startswith(("http://", "https://")) else self.api_url + path
        label = f"{method} {_path_of(url, self.api_url)}"
        if _origin(url) != self._origin or not url.startswith(self.api_url + "/"):
            # A Link header (or anything else) pointing elsewhere never gets the token.
            raise self._error(
                f"{method}: refusing to send the token to {_origin(url)[1] or 'another host'}, "
                f"which is not the API at {self._origin[1]}"
            )
        headers = {"Authorization": f"Bearer {self._token.reveal()}"}
        for attempt in range(1, self.max_attempts + 1):
            last = attempt == self.max_attempts
            try:
                response = self._session.request(
                    method, url, json=json, params=params, headers=headers, timeout=self.timeout_s
                )
            except requests.RequestException as error:
                transient = isinstance(error, requests.ConnectionError | requests.Timeout)
                if last or not transient:
                    raise self._error(f"{label}: {type(error).__name__}: {error}") from None
                self._sleep(_backoff(attempt))
                continue
            if response.status_code < 400:
                return response
            wait = self._retry_wait(response, attempt)
            if wait is None or last:
                raise self._error(_failure(label, response, what, retried=attempt > 1))
            if wait > MAX_WAIT_S:
                raise self._error(
                    f"{label}: rate limited; GitHub asks to wait {wait:.0f} s"
                    f" (more than {MAX_WAIT_S:.0f} s), giving up"
                )
            self._sleep(wait)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def paginate(
        self, path: str, *, params: Mapping[str, str | int] | None = None, what: str = ""
    ) -> Iterator[dict[str, Any]]:
        """Every item of a list endpoint, following ``Link: rel="next"`` pages."""
        url: str | None = path
        query: Mapping[str, str | int] | None = {"per_page": 100, **(params or {})}
        while url is not None:
            response = self.request("GET", url, params=query, what=what)
            items = _json(response)
            if not isinstance(items, list):
                raise self._error(f"GET {_path_of(url, self.api_url)}: expected a JSON list")
            for item in items:
                if isinstance(item, dict):
                    yield item
            url = response.links.get("next", {}).get("url")
            query = None  # the next link carries the query string already

    def json(self, response: requests.Response) -> Any:
        """The JSON body of a response; a ``PublishError`` when it is not JSON."""
        try:
            return response.json()
        except ValueError:
            raise self._error(
                f"{response.request.method} {_path_of(response.url, self.api_url)}:"
                " the response is not JSON"
            ) from None

    def _retry_wait(self, response: requests.Response, attempt: int) -> float | None:
        """Seconds to wait before the next attempt, or None when the error is final."""
        status = response.status_code
        retry_after = _retry_after(response.headers.get("Retry-After"), self._clock())
        if status == 429 or (status == 403 and _rate_limited(response)):
            if retry_after is not None:
                return retry_after
            if response.headers.get("X-RateLimit-Remaining") == "0":
                reset = _number(response.headers.get("X-RateLimit-Reset"))
                if reset is not None:
                    return max(1.0, reset - self._clock())
            return max(60.0 if status == 403 else 0.0, _backoff(attempt))
        if status >= 500:
            return retry_after if retry_after is not None else _backoff(attempt)
        return None

    def _error(self, message: str) -> PublishError:
        for rendering in self._token.renderings():
            message = message.replace(rendering, "***")
        return PublishError(" ".join(message.split()))


def _backoff(attempt: int) -> float:
    """1, 2, 4, 8... seconds after the first, second, third... failure."""
    return float(FIRST_BACKOFF_S * 2 ** (attempt - 1))


def _retry_after(value: str | None, now: float) -> float | None:
    """``Retry-After`` as seconds: either a number of seconds or an HTTP date."""
    if value is None:
        return None
    seconds = _number(value)
    if seconds is not None:
        return max(0.0, seconds)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, when.timestamp() - now)


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _rate_limited(response: requests.Response) -> bool:
    if response.headers.get("X-RateLimit-Remaining") == "0" or "Retry-After" in response.headers:
        return True
    return "rate limit" in _message(response).lower()


def _message(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    message = body.get("message") if isinstance(body, dict) else None
    return message if isinstance(message, str) else ""


# The permission each kind of call needs, for a 403's one-line explanation.
_PERMISSION = {
    "status": "statuses: write",
    "comment": "pull-requests: write",
    "pull request": "pull-requests: read",
}


def _failure(label: str, response: requests.Response, what: str, *, retried: bool) -> str:
    status = response.status_code
    text = f"{label}: {status} {response.reason or ''}".rstrip()
    message = _message(response)
    if message:
        text += f" ({message})"
    if status == 403 and not _rate_limited(response):
        permission = _PERMISSION.get(what)
        if permission:
            text += (
                f": the token may not do this; give the job `permissions: {permission}`"
                " (pull requests from forks get a read-only token: publish from a"
                " workflow_run workflow, see docs/github-actions.md)"
            )
    elif status == 401:
        text += ": the token was refused; pass GITHUB_TOKEN: ${{ github.token }}"
    elif status in (403, 429) or status >= 500:
        text += " (gave up after retrying)" if retried else ""
    return text


def _origin(url: str) -> tuple[str, str]:
    """(scheme, host:port) with the default port spelled out, for comparing hosts."""
    parts = urllib.parse.urlsplit(url)
    try:
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme, 0)
    except ValueError:
        port = -1
    return parts.scheme.lower(), f"{(parts.hostname or '').lower()}:{port}"


def _path_of(url: str, api_url: str) -> str:
    path = url[len(api_url) :] if url.startswith(api_url) else url
    return path.split("?", 1)[0]


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None
