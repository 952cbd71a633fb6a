"""What a check sees of the target during one run."""

from __future__ import annotations

import contextvars
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.engine import Engine
from werkzeug.test import TestResponse

from perfci.config.model import AuthConfig, ServerConfig
from perfci.target.endpoint import Endpoint, Wire
from perfci.target.guard import target_code
from perfci.target.httpclient import HttpClient
from perfci.target.login import Reply, login, resolve_needs
from perfci.target.recipe import AppRecipe
from perfci.target.recorder import QueryRecorder

if TYPE_CHECKING:
    from perfci.target.server import Server


@dataclass
class RunContext:
    """Handed to every ``Check.collect``.

    ``app`` is the target built in-process from its factory, its schema
    created and seeded; ``engine`` is its SQLAlchemy engine; ``recorder``
    records statements per thread; ``endpoints`` are ``target.endpoints``
    from perfci.yaml; ``seeded`` maps table names to seeded row counts.
    ``server()`` starts gunicorn on first use (and the runner always stops
    it); ``progress`` reports a line of progress for long work.
    """

    app: Flask
    engine: Engine
    recorder: QueryRecorder
    endpoints: tuple[Endpoint, ...]
    seeded: Mapping[str, int]
    workdir: Path
    server_factory: Callable[[], Server]
    progress: Callable[[str], None] = field(default=lambda _message: None)
    target_settings: Mapping[str, Any] = field(default_factory=dict)
    # target.server from perfci.yaml: workers and threads the HTTP checks run against.
    server_settings: ServerConfig = field(default_factory=ServerConfig)
    # The target's directory: beside perfci.yaml, or the base tree's worktree (--against).
    root: Path = field(default_factory=Path.cwd)
    # target.timeouts.request: an in-process request running longer is a TargetError (exit 3).
    request_timeout_s: float | None = 60.0
    # target.app (``module:factory``): checks that build the target again in another process.
    app_spec: str = ""
    # How every process builds the target (target.app, target.factory, target.engine...).
    recipe: AppRecipe | None = None
    # The readiness and calibration probe: the app's GET /health, or perfci's own route.
    probe: str = "/health"
    # target.auth and target.headers; credentials: the in-process login's headers.
    auth: AuthConfig | None = None
    shared_headers: Mapping[str, str] = field(default_factory=dict)
    credentials: Mapping[str, str] = field(default_factory=dict, repr=False)
    _server: Server | None = field(default=None, repr=False)

    def client(self) -> FlaskClient:
        """A test client sending exactly the request's headers.

        Werkzeug's client replaces a ``Cookie:`` header by its own jar, even an
        empty one; without a jar the login's cookies reach the app as they do
        over HTTP.
        """
        return self.app.test_client(use_cookies=False)

    def prepare(self) -> None:
        """Log in (``target.auth``) and resolve every endpoint's ``needs``, in-process.

        Called once by the runner before any check: these requests are never
        recorded, timed or counted. The rows a ``needs`` request creates stay
        (the same ones in base and head under ``--against``). TargetError
        (exit 3), naming the step, when one fails.
        """
        if self.auth is not None:
            self.credentials = login(self.auth, self.send, self.shared_headers)
        self.endpoints = tuple(resolve_needs(self.prepared(e), self.send) for e in self.endpoints)

    def secrets(self) -> tuple[str, ...]:
        """The credentials this run sends: the login's headers and every configured header
        that carries one (``Authorization``, ``Cookie``, ``*token*``, ``*key*``, ...).

        Their values can come back in evidence: PostgreSQL's EXPLAIN shows a query's
        bound values (``Filter: (token = 'abc…')``). The runner removes them from every
        measurement before it is judged, stored or printed (``redact``).
        """
        headers = [*self.credentials.items(), *self.shared_headers.items()]
        for endpoint in self.endpoints:
            headers.extend(endpoint.headers)
        return secret_values(headers)

    def prepared(self, endpoint: Endpoint) -> Endpoint:
        """``endpoint`` with ``target.headers`` and the in-process login's credentials."""
        return endpoint.under_headers(self.shared_headers).with_credentials(self.credentials)

    def send(self, wire: Wire, client: FlaskClient | None = None) -> Reply:
        """Send ``wire`` in-process as it is (nothing added); status, Location, cookies, body."""
        response = contextvars.Context().run(self._open, wire, wire.target, client)
        return Reply(
            status=response.status_code,
            location=response.headers.get("Location"),
            set_cookies=tuple(response.headers.getlist("Set-Cookie")),
            body=response.get_data(),
        )

    def call(
        self,
        endpoint: Endpoint,
        client: FlaskClient | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> TestResponse:
        """Issue ``endpoint`` in-process through the WSGI test client, as under a server.

        It is sent as ``Endpoint.wire`` builds it (the same bytes as over HTTP),
        with ``target.headers``, the login's credentials and ``headers``.
        Checks run inside the runner's app context, and a request made there
        would reuse it: Flask-SQLAlchemy's session (scoped to the app context)
        would then outlive the request, with its identity map and transaction.
        Running the request in an empty ``contextvars.Context`` makes it push
        and pop an app context of its own, torn down after the request.
        """
        wire = self.prepared(endpoint).wire(headers)
        return contextvars.Context().run(self._open, wire, endpoint.subject, client)

    def _open(self, wire: Wire, subject: str, client: FlaskClient | None) -> TestResponse:
        client = client or self.client()
        # The target's sys.exit(), its own KeyboardInterrupt or a hang are TargetErrors;
        # its exceptions stay what they were (the check decides; the runner wraps them).
        with target_code(f"request {subject}", self.request_timeout_s, wrap_errors=False):
            return client.open(
                wire.target, method=wire.method, headers=list(wire.headers), data=wire.body
            )

    @contextmanager
    def http_client(self, base_url: str | None = None) -> Iterator[HttpClient]:
        """A keep-alive HTTP client of the target, logged in once (``target.auth``).

        ``base_url`` defaults to the gunicorn server (started on first use).
        """
        with requests.Session() as session:
            client = HttpClient(
                session, (base_url or self.base_url).rstrip("/"), self.shared_headers
            )
            if self.auth is not None:
                client.credentials = login(self.auth, client.send, self.shared_headers)
            yield client

    def server(self) -> Server:
        """The target under gunicorn; started on first call, stopped by the runner."""
        if self._server is None:
            self._server = self.server_factory()
        return self._server

    @property
    def base_url(self) -> str:
        return self.server().base_url

    @property
    def started_server(self) -> Server | None:
        return self._server


def clear_response_caches(app: Flask) -> int:
    """Clear every Flask-Caching backend registered on ``app``; returns how many.

    A response cache answers a repeated request without touching the database;
    checks that count statements or connections clear it first.
    """
    backends = app.extensions.get("cache") or {}
    for backend in backends.values():
        backend.clear()
    return len(backends)


#: Header names whose values are credentials.
_SECRET_HEADER = re.compile(r"authorization|cookie|token|secret|key|session|password", re.I)
#: Shorter values are not redacted (they would blank out ordinary words and numbers).
MIN_SECRET_CHARS = 6


def secret_values(headers: Iterable[tuple[str, str]]) -> tuple[str, ...]:
    """The credential values in ``headers``, longest first: a header's whole value, the
    part after an ``Authorization`` scheme (``Bearer abc`` → ``abc``), each cookie's value."""
    found: set[str] = set()
    for name, value in headers:
        if not _SECRET_HEADER.search(name):
            continue
        parts = [value, value.partition(" ")[2]]
        for cookie in value.split(";"):
            parts.append(cookie.partition("=")[2])
        found.update(p.strip() for p in parts if len(p.strip()) >= MIN_SECRET_CHARS)
    return tuple(sorted(found, key=len, reverse=True))
