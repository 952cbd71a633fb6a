"""The payload check: body bytes as served and compressed, and the fat_payload fault."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask_compress import Compress

from perfci.checks.payload import PayloadCheck, PayloadOptions
from perfci.target.context import RunContext
from perfci.testing import run_context
from tests.plugins.softfactory import SoftFactoryProject, explain


def context_for(
    app: Flask, endpoints: list[str], tmp_path: Path
) -> Generator[RunContext, None, None]:
    with run_context(app, tmp_path, endpoints=endpoints) as ctx:
        yield ctx


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[RunContext]:
    app = Flask("payload_test")
    Compress(app)

    @app.get("/big")
    def big() -> dict[str, list[str]]:
        return {"words": ["compressible"] * 200}

    @app.get("/small")
    def small() -> dict[str, str]:
        return {"ok": "yes"}

    yield from context_for(app, ["GET /big", "GET /small"], tmp_path)


def values(ctx: RunContext, options: PayloadOptions) -> dict[str, float | str]:
    return {m.name: m.value for m in PayloadCheck().collect(ctx, options)}


def test_bytes_and_compressed_bytes_per_endpoint(ctx: RunContext) -> None:
    measured = values(ctx, PayloadOptions())
    plain, packed = (
        measured["payload/GET /big/bytes"],
        measured["payload/GET /big/compressed_bytes"],
    )
    assert isinstance(plain, int) and isinstance(packed, int)
    assert plain == len(b'{"words":[' + b'"compressible",' * 199 + b'"compressible"]}\n')
    assert packed < plain / 10
    # Below Flask-Compress's minimum size nothing is compressed: both counts are equal.
    assert measured["payload/GET /small/bytes"] == measured["payload/GET /small/compressed_bytes"]


def test_values_are_the_responses_as_served(tmp_path: Path) -> None:
    """Each run measures the response the app sends now: the same app, a longer list."""
    app = Flask("payload_growth")
    rows = ["row"]

    @app.get("/list")
    def listing() -> dict[str, list[str]]:
        return {"rows": rows}

    contexts = context_for(app, ["GET /list"], tmp_path)
    ctx = next(contexts)
    before = values(ctx, PayloadOptions())["payload/GET /list/bytes"]
    rows.extend(["row"] * 9)
    after = values(ctx, PayloadOptions())["payload/GET /list/bytes"]
    assert before == len(b'{"rows":["row"]}\n')
    assert after == len(b'{"rows":[' + b'"row",' * 9 + b'"row"]}\n')
    contexts.close()


def test_endpoints_option_selects_a_subset(ctx: RunContext) -> None:
    measured = values(ctx, PayloadOptions(endpoints=["GET /small"]))
    assert set(measured) == {
        "payload/GET /small/bytes",
        "payload/GET /small/compressed_bytes",
        "payload/GET /small/failed_requests",
    }


def test_fat_payload_fails_the_gate_and_optimized_passes(softfactory: SoftFactoryProject) -> None:
    softfactory.configure(
        {"payload": {}},
        endpoints=["GET /api/coocook/chefs?per_page=10", "GET /api/products"],
    )
    softfactory.baseline()
    passing = softfactory.gate()
    assert passing.exit_code == 0, explain(passing)

    fat = softfactory.gate("fat_payload")
    assert fat.exit_code == 1, explain(fat)
    failing = softfactory.failing()
    name = "payload/GET /api/coocook/chefs?per_page=10/bytes"
    assert failing[name] == "regression"
    assert failing["payload/GET /api/coocook/chefs?per_page=10/compressed_bytes"] == "regression"
    assert name in fat.stdout
