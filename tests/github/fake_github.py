"""A fake GitHub REST API on loopback: a real HTTP server that records what it receives.

It speaks the few endpoints perfci publishes through (commit statuses, issue
comments with ``Link`` pagination, pull requests), keeps their state like
GitHub does, and answers scripted errors first when a test asks for them
(``fail("POST", "/statuses/", 500)``).
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

TOKEN = "ghs_fakeTOKEN0123456789abcdefSECRET"


@dataclass
class Recorded:
    """One request as the server saw it."""

    method: str
    path: str  # without the query string
    query: dict[str, str]
    headers: dict[str, str]
    body: Any  # parsed JSON, or None

    @property
    def line(self) -> str:
        return f"{self.method} {self.path}"


@dataclass
class Scripted:
    method: str
    path_part: str
    status: int
    headers: dict[str, str]
    body: dict[str, Any]
    times: int


@dataclass
class FakeGitHub:
    """State and recordings; ``url`` is the API root to put in ``GITHUB_API_URL``."""

    url: str = ""
    requests: list[Recorded] = field(default_factory=list)
    statuses: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    pulls: dict[int, str] = field(default_factory=dict)  # number -> head sha
    page_size: int = 100  # the most comments per page, whatever per_page asks
    scripted: list[Scripted] = field(default_factory=list)
    next_id: int = 1000
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fail(
        self,
        method: str,
        path_part: str,
        status: int,
        *,
        times: int = 1,
        headers: dict[str, str] | None = None,
        message: str = "scripted failure",
        body: Any = None,
    ) -> None:
        """Answer the next ``times`` matching requests with ``status`` (and ``body``)."""
        answer = {"message": message} if body is None else body
        self.scripted.append(Scripted(method, path_part, status, headers or {}, answer, times))

    def add_comment(self, number: int, body: str, login: str = "someone") -> int:
        with self.lock:
            self.next_id += 1
            self.comments.setdefault(number, []).append(
                {"id": self.next_id, "body": body, "user": {"login": login}}
            )
            return self.next_id

    def lines(self) -> list[str]:
        return [r.line for r in self.requests]

    def handle(self, request: Recorded) -> tuple[int, dict[str, str], Any]:
        with self.lock:
            self.requests.append(request)
            for script in self.scripted:
                if (
                    script.times > 0
                    and script.method == request.method
                    and script.path_part in request.path
                ):
                    script.times -= 1
                    return script.status, script.headers, script.body
            if request.headers.get("authorization") != f"Bearer {TOKEN}":
                return 401, {}, {"message": "Bad credentials"}
            return self._route(request)

    def _route(self, request: Recorded) -> tuple[int, dict[str, str], Any]:
        repo = r"/repos/(?P<repo>[^/]+/[^/]+)"
        routes = [
            ("POST", rf"{repo}/statuses/(?P<sha>[0-9a-f]+)", self._status),
            ("GET", rf"{repo}/issues/(?P<n>\d+)/comments", self._list_comments),
            ("POST", rf"{repo}/issues/(?P<n>\d+)/comments", self._create_comment),
            ("PATCH", rf"{repo}/issues/comments/(?P<id>\d+)", self._update_comment),
            ("GET", rf"{repo}/pulls/(?P<n>\d+)", self._pull),
        ]
        for method, pattern, action in routes:
            match = re.fullmatch(pattern, request.path)
            if method == request.method and match:
                return action(request, match.groupdict())
        return 404, {}, {"message": "Not Found"}

    def _status(self, request: Recorded, groups: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        self.statuses.setdefault(groups["sha"], []).append(request.body)
        return 201, {}, {"id": len(self.statuses), **request.body}

    def _list_comments(
        self, request: Recorded, groups: dict[str, str]
    ) -> tuple[int, dict[str, str], Any]:
        items = self.comments.get(int(groups["n"]), [])
        size = min(int(request.query.get("per_page", "30")), self.page_size)
        page = int(request.query.get("page", "1"))
        chunk = items[(page - 1) * size : page * size]
        headers = {}
        if page * size < len(items):
            next_url = f"{self.url}{request.path}?per_page={size}&page={page + 1}"
            headers["Link"] = f'<{next_url}>; rel="next"'
        return 200, headers, chunk

    def _create_comment(
        self, request: Recorded, groups: dict[str, str]
    ) -> tuple[int, dict[str, str], Any]:
        self.next_id += 1
        comment = {"id": self.next_id, "body": request.body["body"], "user": {"login": "bot"}}
        self.comments.setdefault(int(groups["n"]), []).append(comment)
        return 201, {}, comment

    def _update_comment(
        self, request: Recorded, groups: dict[str, str]
    ) -> tuple[int, dict[str, str], Any]:
        for comments in self.comments.values():
            for comment in comments:
                if comment["id"] == int(groups["id"]):
                    comment["body"] = request.body["body"]
                    return 200, {}, comment
        return 404, {}, {"message": "Not Found"}

    def _pull(self, request: Recorded, groups: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        number = int(groups["n"])
        if number not in self.pulls:
            return 404, {}, {"message": "Not Found"}
        return 200, {}, {"number": number, "head": {"sha": self.pulls[number]}}


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def _serve(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        recorded = Recorded(
            method=self.command,
            path=parts.path,
            query={k: v[-1] for k, v in parse_qs(parts.query).items()},
            headers={k.lower(): v for k, v in self.headers.items()},
            body=json.loads(raw) if raw else None,
        )
        status, headers, body = self.server.fake.handle(recorded)
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PATCH = _serve

    def log_message(self, format: str, *args: Any) -> None:  # quiet test output
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, fake: FakeGitHub) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake


class RunningFake:
    """Start the server in a thread; ``stop()`` shuts it down and closes its socket."""

    def __init__(self) -> None:
        self.fake = FakeGitHub()
        self._server = _Server(self.fake)
        host, port = self._server.server_address[:2]
        self.fake.url = f"http://{host!s}:{port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
