"""Helpers of the perfci server tests: projects with their tokens."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask.testing import FlaskClient

from perfci.history import HistoryStore
from perfci.server.tokens import digest, new_token


@dataclass(frozen=True)
class Projects:
    """Two private projects (alpha, beta) and a public one (open), each with its token."""

    tokens: dict[str, str]

    def auth(self, project: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[project]}"}


def make_projects(url: str) -> Projects:
    tokens = {}
    with HistoryStore(url) as store:
        for name, public in (("alpha", False), ("beta", False), ("open", True)):
            tokens[name] = new_token()
            store.create_project(name, digest(tokens[name]), public=public)
    return Projects(tokens)


class Client:
    """Flask's test client with untyped replies (``reply.json`` is whatever the API sent)."""

    def __init__(self, client: FlaskClient) -> None:
        self._client = client

    def get(self, url: str, **options: Any) -> Any:
        return self._client.get(url, **options)

    def post(self, url: str, **options: Any) -> Any:
        return self._client.post(url, **options)

    def delete(self, url: str, **options: Any) -> Any:
        return self._client.delete(url, **options)
