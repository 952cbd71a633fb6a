"""Helpers of the perfci server tests: projects with their tokens."""

from __future__ import annotations

from dataclasses import dataclass

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
