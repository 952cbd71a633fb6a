"""The cache check: counts of a fixed sequence, stale reads, the no_cache fault, Redis."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, request
from flask_caching import Cache

from perfci.checks.cache import CacheCheck, CacheOptions
from perfci.errors import CheckSkipped, ConfigError
from perfci.target.context import RunContext
from perfci.target.endpoint import Endpoint
from perfci.testing import run_context
from tests.plugins.softfactory import SoftFactoryProject, explain

STALE_PROBE = {
    # Chef 97 and user 2 appear in none of the endpoints other checks read.
    "read": "GET /api/coocook/chefs/97",
    "changes": "booking_count",
    "write": {
        "request": "POST /api/coocook/bookings",
        "json": {"chef_id": 97, "user_id": 2, "booking_date": "2026-03-01"},
        "headers": {"Authorization": "Bearer softfactory-dev-token"},
    },
}
ENDPOINTS = ["GET /api/coocook/chefs?per_page=10", "GET /api/coocook/chefs/1", "GET /api/products"]


def counter_app(*, signals: bool, invalidates: bool) -> Flask:
    """``GET /count`` cached whole, ``GET /square/<n>`` memoized; ``POST /bump`` writes."""
    app = Flask("cache_test")
    app.config.update(CACHE_TYPE="SimpleCache", CACHE_ENABLE_SIGNALS=signals)
    cache = Cache(app)
    state = {"n": 0}

    @app.get("/count")
    @cache.cached()
    def count() -> dict[str, Any]:
        return {"data": {"n": state["n"]}}

    @cache.memoize()
    def square(number: int) -> int:
        return number * number

    @app.get("/square/<int:number>")
    def squared(number: int) -> dict[str, int]:
        return {"square": square(number)}

    @app.post("/bump")
    def bump() -> tuple[dict[str, int], int]:
        state["n"] += 1
        if invalidates:
            cache.delete("view//count")
        return {"n": state["n"]}, 201

    return app


def context(
    app: Flask, tmp_path: Path, endpoints: tuple[str | Endpoint, ...] = ()
) -> Iterator[RunContext]:
    with run_context(app, tmp_path, endpoints=endpoints) as ctx:
        yield ctx


def measure(app: Flask, tmp_path: Path, **options: Any) -> dict[str, Any]:
    endpoints = ("GET /count", "GET /square/3")
    for ctx in context(app, tmp_path, endpoints):
        return {m.name: m for m in CacheCheck().collect(ctx, CacheOptions(**options))}
    raise AssertionError("unreachable")


def values(measured: dict[str, Any]) -> dict[str, Any]:
    return {name: m.value for name, m in measured.items()}


PROBE = {"read": "GET /count", "write": {"request": "POST /bump"}, "changes": "data.n"}


def test_a_write_that_does_not_invalidate_fails_the_stale_probe(tmp_path: Path) -> None:
    app = counter_app(signals=True, invalidates=False)
    measured = measure(app, tmp_path, stale_probe={**PROBE, "rounds": 3})
    stale = measured["cache/stale_probe/stale_reads"]
    assert stale.value == 3
    assert "round 1: data.n 0 before POST /bump, 0 read after it, 1 uncached: STALE" in [
        e.text for e in stale.evidence
    ]


def test_a_write_that_invalidates_passes_the_stale_probe(tmp_path: Path) -> None:
    app = counter_app(signals=True, invalidates=True)
    measured = measure(app, tmp_path, stale_probe=PROBE)
    assert measured["cache/stale_probe/stale_reads"].value == 0


def test_a_probe_whose_write_changes_nothing_is_a_config_error(tmp_path: Path) -> None:
    app = counter_app(signals=True, invalidates=True)
    probe = {**PROBE, "write": {"request": "GET /square/2"}}
    with pytest.raises(ConfigError, match="did not change 'data.n'"):
        measure(app, tmp_path, stale_probe=probe)
    with pytest.raises(ConfigError, match="no 'data.m'"):
        measure(app, tmp_path, stale_probe={**PROBE, "changes": "data.m"})


def test_default_sequence_counts_by_signals(tmp_path: Path) -> None:
    measured = values(measure(counter_app(signals=True, invalidates=True), tmp_path))
    assert measured == {
        "cache/GET /count/hits": 1,
        "cache/GET /count/misses": 1,
        "cache/GET /count/hit_ratio": 0.5,
        "cache/GET /square/3/hits": 1,
        "cache/GET /square/3/misses": 1,
        "cache/GET /square/3/hit_ratio": 0.5,
        "cache/sequence/hits": 2,
        "cache/sequence/misses": 2,
        "cache/sequence/hit_ratio": 0.5,
        "cache/GET /count/failed_requests": 0,
        "cache/GET /square/3/failed_requests": 0,
        "cache/sequence/wrong_responses": 0,
    }


def paged_app(*, query_string: bool) -> Flask:
    """``GET /items?page=N`` cached; with ``query_string=False`` the key drops the page."""
    app = Flask("paged")
    app.config.update(CACHE_TYPE="SimpleCache")
    cache = Cache(app)

    @app.get("/items")
    @cache.cached(query_string=query_string)
    def items() -> dict[str, Any]:
        page = int(request.args.get("page", 1))
        return {"page": page, "items": list(range(page * 10, page * 10 + 10))}

    @app.get("/missing")
    def missing() -> tuple[dict[str, str], int]:
        return {"error": "no such thing"}, 404

    return app


def test_a_cache_key_that_drops_the_query_string_serves_wrong_responses(tmp_path: Path) -> None:
    endpoints = ("GET /items?page=1", "GET /items?page=2")
    for ctx in context(paged_app(query_string=False), tmp_path, endpoints):
        measured = {m.name: m for m in CacheCheck().collect(ctx, CacheOptions())}
    wrong = measured["cache/sequence/wrong_responses"]
    # page=2 answered from page 1's entry, twice; the ratio looks better for it.
    assert wrong.value == 2
    first = wrong.evidence[0].text
    assert first.startswith("GET /items?page=2: bodies differ at byte")
    assert '"page":1' in first.replace(" ", "") and '"page":2' in first.replace(" ", "")
    assert measured["cache/sequence/hit_ratio"].value == 0.75
    budgets = {b.pattern: b.max for b in CacheCheck().budgets(CacheOptions())}
    assert budgets["cache/sequence/wrong_responses"] == 0

    for ctx in context(paged_app(query_string=True), tmp_path, endpoints):
        measured = {m.name: m for m in CacheCheck().collect(ctx, CacheOptions())}
    assert measured["cache/sequence/wrong_responses"].value == 0


def test_unexpected_statuses_are_failed_requests(tmp_path: Path) -> None:
    missing = Endpoint.parse("GET /missing")
    expected = Endpoint.parse("GET /missing", expect=[404])
    for endpoints, failed in (((missing,), 2), ((expected,), 0)):
        for ctx in context(paged_app(query_string=True), tmp_path, endpoints):
            measured = {m.name: m for m in CacheCheck().collect(ctx, CacheOptions())}
        assert measured["cache/GET /missing/failed_requests"].value == failed
    # The default 2xx/3xx: the status and the start of the body are the evidence.
    for ctx in context(paged_app(query_string=True), tmp_path, (missing,)):
        measured = {m.name: m for m in CacheCheck().collect(ctx, CacheOptions())}
    assert measured["cache/GET /missing/failed_requests"].evidence[0].text == (
        'GET /missing → 404 (expected 2xx/3xx): {"error":"no such thing"}'
    )


def test_an_app_without_a_cache_backend_skips_the_check(tmp_path: Path) -> None:
    app = Flask("uncached")
    for ctx in context(app, tmp_path, ("GET /",)):
        with pytest.raises(CheckSkipped, match="no cache backend found"):
            list(CacheCheck().collect(ctx, CacheOptions()))


def test_backend_counting_skips_memoize_version_keys(tmp_path: Path) -> None:
    # Without signals the backend is counted; memoize's "_memver" lookups are bookkeeping.
    by_backend = values(measure(counter_app(signals=False, invalidates=True), tmp_path))
    by_signals = values(measure(counter_app(signals=True, invalidates=True), tmp_path))
    assert by_backend == by_signals
    counted_all = values(
        measure(counter_app(signals=False, invalidates=True), tmp_path, ignore_keys=[])
    )
    assert counted_all["cache/GET /square/3/misses"] > by_signals["cache/GET /square/3/misses"]


def test_explicit_sequence_and_a_clear_start_make_runs_identical(tmp_path: Path) -> None:
    app = counter_app(signals=True, invalidates=True)
    sequence = ["GET /count", "GET /count", "GET /count"]
    first = values(measure(app, tmp_path, sequence=sequence))
    assert first["cache/GET /count/hit_ratio"] == pytest.approx(2 / 3)
    assert values(measure(app, tmp_path, sequence=sequence)) == first


def test_an_endpoint_without_any_lookup_has_ratio_zero(tmp_path: Path) -> None:
    app = counter_app(signals=True, invalidates=True)
    measured = measure(app, tmp_path, sequence=["POST /bump"])
    ratio = measured["cache/POST /bump/hit_ratio"]
    assert (ratio.value, measured["cache/POST /bump/misses"].value) == (0.0, 0)
    assert any("no cache lookup" in e.text for e in ratio.evidence)


def test_signals_counting_needs_the_app_to_enable_them(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="CACHE_ENABLE_SIGNALS"):
        measure(counter_app(signals=False, invalidates=True), tmp_path, counting="signals")


def test_bad_options_are_refused() -> None:
    with pytest.raises(ValueError, match="counting"):
        CacheOptions.model_validate({"counting": "guess"})
    with pytest.raises(ValueError, match="unknown HTTP method"):
        CacheOptions.model_validate({"sequence": ["FETCH /x"]})


# --- end to end: the optimized API passes, no_cache fails -------------------------------


def test_no_cache_fails_the_gate_and_optimized_passes(softfactory: SoftFactoryProject) -> None:
    softfactory.configure({"cache": {"stale_probe": STALE_PROBE}}, endpoints=ENDPOINTS)
    softfactory.baseline()
    passing = softfactory.gate()
    assert passing.exit_code == 0, explain(passing)
    measured = {v["name"]: v["current"]["value"] for v in softfactory.results()["verdicts"]}
    assert measured["cache/sequence/hit_ratio"] == 0.5
    assert measured["cache/stale_probe/stale_reads"] == 0

    uncached = softfactory.gate("no_cache")
    assert uncached.exit_code == 1, explain(uncached)
    failing = softfactory.failing()
    assert failing["cache/sequence/hit_ratio"] == "regression"
    assert failing["cache/GET /api/products/hit_ratio"] == "regression"
    assert "cache/sequence/hit_ratio" in uncached.stdout


@pytest.mark.redis
def test_redis_backend_passes_with_keyspace_cross_check(
    softfactory: SoftFactoryProject, redis_url: str, unique_prefix: str
) -> None:
    softfactory.configure(
        {"cache": {"stale_probe": STALE_PROBE}},
        endpoints=ENDPOINTS,
        target_config={"CACHE_REDIS_URL": redis_url, "CACHE_KEY_PREFIX": unique_prefix},
    )
    softfactory.baseline()
    passing = softfactory.gate()
    assert passing.exit_code == 0, explain(passing)
    verdicts = {v["name"]: v["current"] for v in softfactory.results()["verdicts"]}
    assert verdicts["cache/sequence/hit_ratio"]["value"] == 0.5
    assert verdicts["cache/stale_probe/stale_reads"]["value"] == 0
    evidence = [e["text"] for e in verdicts["cache/sequence/hit_ratio"]["evidence"]]
    assert any(text.startswith("INFO keyspace_hits +") for text in evidence)
