"""Locust users for ``benchmarks/bench_server.py`` (not a test; run by that script).

``Reader`` browses a filled ``perfci server`` project: the run list (API and
dashboard), one run (API and dashboard page), a metric's trend. ``Uploader``
posts results documents as ``perfci upload`` does, back to back.

Everything comes from the environment ``bench_server.py`` sets:
``BENCH_PROJECT``, ``BENCH_TOKEN``, ``BENCH_FIRST_RUN``/``BENCH_LAST_RUN`` (run
ids to read), ``BENCH_METRICS`` (a JSON list of metric names for trends),
``BENCH_UPLOADS`` (a JSON file: a list of upload bodies), ``BENCH_WAIT``
(``low,high`` seconds a reader waits between requests).
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from locust import HttpUser, between, task

PROJECT = os.environ.get("BENCH_PROJECT", "bench")
FIRST = int(os.environ.get("BENCH_FIRST_RUN", "1"))
LAST = int(os.environ.get("BENCH_LAST_RUN", "1"))
METRICS: list[str] = json.loads(os.environ.get("BENCH_METRICS", '["x"]'))
_LOW, _HIGH = (float(x) for x in os.environ.get("BENCH_WAIT", "0.5,1.5").split(","))


def _run_id() -> int:
    return random.randint(FIRST, LAST)


def run_list(user: HttpUser) -> None:
    user.client.get(f"/api/v1/projects/{PROJECT}/runs?limit=50", name="api run list")


def run_list_branch(user: HttpUser) -> None:
    user.client.get(
        f"/api/v1/projects/{PROJECT}/runs?branch=main&status=passed&limit=50",
        name="api run list (branch, status)",
    )


def run_list_page(user: HttpUser) -> None:
    user.client.get(f"/projects/{PROJECT}/", name="html run list")


def run_api(user: HttpUser) -> None:
    user.client.get(f"/api/v1/projects/{PROJECT}/runs/{_run_id()}", name="api run")


def run_page(user: HttpUser) -> None:
    user.client.get(f"/projects/{PROJECT}/runs/{_run_id()}", name="html run page")


def trend(user: HttpUser) -> None:
    user.client.get(
        f"/api/v1/projects/{PROJECT}/trend",
        params={"metric": random.choice(METRICS), "limit": "100"},
        name="api trend",
    )


# Locust picks a task uniformly from the list: repeats are weights.
_API_AND_LISTS: list[Callable[[HttpUser], None]] = [
    *[run_list] * 3,
    run_list_branch,
    *[run_list_page] * 2,
    *[run_api] * 3,
    *[trend] * 3,
]


class Reader(HttpUser):
    """A person (or a CI job) reading the dashboard and the API."""

    wait_time = between(_LOW, _HIGH)
    tasks = [*_API_AND_LISTS, run_page, run_page]  # noqa: RUF012 - Locust's own attribute


class ReaderWithoutRunPages(HttpUser):
    """``Reader`` without the dashboard's run page (which, slow, holds workers up)."""

    wait_time = between(_LOW, _HIGH)
    tasks = list(_API_AND_LISTS)  # noqa: RUF012 - Locust's own attribute


def _bodies() -> list[bytes]:
    path = os.environ.get("BENCH_UPLOADS")
    if not path:
        return [b"{}"]
    docs: list[Any] = json.loads(Path(path).read_text())
    return [json.dumps(d).encode() for d in docs]


class Uploader(HttpUser):
    """CI jobs uploading runs (``perfci upload``), with no pause between them."""

    wait_time = between(0, 0)
    bodies = _bodies()

    @task
    def upload(self) -> None:
        self.client.post(
            f"/api/v1/projects/{PROJECT}/runs",
            data=random.choice(self.bodies),
            headers={
                "Authorization": f"Bearer {os.environ.get('BENCH_TOKEN', '')}",
                "Content-Type": "application/json",
            },
            name="api upload",
        )
