"""The 'n_plus_one' check: shapes, repetition and growth, in-process and through the gate."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask_caching import Cache
from pydantic import ValidationError

from perfci.checks.n_plus_one import (
    NPlusOne,
    NPlusOneOptions,
    growth,
    most_repeated,
    shapes,
)
from perfci.measurement import Measurement
from perfci.target.context import RunContext, clear_response_caches
from perfci.target.endpoint import Endpoint
from perfci.target.recorder import RecordedQuery, Recording, fingerprint
from perfci.testing import run_context
from tests.plugins.softfactory import TEST_SCALE, SoftFactoryProject, explain

CHEFS = "SELECT chefs.id FROM chefs LIMIT ?"
BOOKINGS = "SELECT bookings.id FROM bookings WHERE ? = bookings.chef_id"
COUNT = "SELECT count(*) FROM chefs"


def recording(*statements: str | tuple[str, str]) -> Recording:
    """A Recording of ``statements``; a (sql, origin) pair is a lazy load."""
    result = Recording()
    for item in statements:
        sql, lazy = item if isinstance(item, tuple) else (item, None)
        result.queries.append(RecordedQuery(sql, (), fingerprint(sql), lazy))
    return result


def test_shapes_rank_by_count_and_prefer_a_lazy_load_example() -> None:
    found = shapes(recording(CHEFS, BOOKINGS, (BOOKINGS, "Chef.bookings"), BOOKINGS, COUNT))
    assert [(s.count, s.fingerprint) for s in found] == [
        (3, fingerprint(BOOKINGS)),
        (1, fingerprint(CHEFS)),
        (1, fingerprint(COUNT)),
    ]
    assert found[0].lazy_loaded_from == "Chef.bookings"


def test_most_repeated() -> None:
    assert most_repeated(recording()) == 0
    assert most_repeated(recording(CHEFS, COUNT)) == 1
    assert most_repeated(recording(CHEFS, *[BOOKINGS] * 4)) == 4


def test_growth_counts_extra_statements_per_extra_item() -> None:
    small = recording(CHEFS, BOOKINGS)
    large = recording(CHEFS, *[(BOOKINGS, "Chef.bookings")] * 10)
    result = growth(1, small, 10, large)
    assert result.per_item == 1.0
    assert result.grown == {fingerprint(BOOKINGS): (1, 10)}
    assert result.examples[fingerprint(BOOKINGS)].lazy_loaded_from == "Chef.bookings"


def test_growth_is_zero_when_counts_do_not_depend_on_the_page() -> None:
    assert growth(1, recording(CHEFS), 10, recording(CHEFS)).per_item == 0


def test_a_vanishing_shape_does_not_hide_one_that_grows() -> None:
    # The count runs only for an empty page; the N+1 must still show.
    small = recording(CHEFS, COUNT)
    large = recording(CHEFS, *[BOOKINGS] * 5)
    assert growth(1, small, 10, large).per_item == round(5 / 9, 4)


@pytest.mark.parametrize("sizes", [[5], [3, 3], [0, 10]])
def test_sizes_need_two_different_positive_values(sizes: list[int]) -> None:
    with pytest.raises(ValidationError, match="two different page sizes"):
        NPlusOneOptions(sizes=sizes)


def test_unknown_options_are_errors() -> None:
    with pytest.raises(ValidationError):
        NPlusOneOptions.model_validate({"page_size": "per_page"})


def test_clear_response_caches_empties_every_flask_caching_backend() -> None:
    app = Flask("cached")
    app.config["CACHE_TYPE"] = "SimpleCache"
    cache = Cache(app)
    with app.app_context():
        cache.set("k", 1)
        assert clear_response_caches(app) == 1
        assert cache.get("k") is None
    assert clear_response_caches(Flask("plain")) == 0


def test_configured_headers_win_over_the_endpoints() -> None:
    endpoint = Endpoint.parse("GET /x", headers={"Accept": "a", "Cache-Control": "max-age=5"})
    merged = endpoint.with_headers({"Cache-Control": "no-cache"})
    assert dict(merged.headers) == {"Accept": "a", "Cache-Control": "no-cache"}
    assert endpoint.with_headers({}) is endpoint


# --- in-process against target_api ------------------------------------------------

CHEF_LIST = Endpoint.parse("GET /api/coocook/chefs?per_page=10")
CHEF_DETAIL = Endpoint.parse("GET /api/coocook/chefs/1")


def target_context(tmp_path: Path, faults: str) -> Iterator[RunContext]:
    from target_api import create_app
    from target_api.extensions import db
    from target_api.seed import seed_database

    app = create_app(
        {
            "FAULTS": faults,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'target.db'}",
            "CACHE_KEY_PREFIX": f"n-plus-one-{tmp_path.name}:",
        }
    )
    seeded = seed_database(app, TEST_SCALE)
    with app.app_context():
        try:
            endpoints = (CHEF_LIST, CHEF_DETAIL)
            with run_context(app, tmp_path, endpoints=endpoints, seeded=seeded) as ctx:
                yield ctx
        finally:
            db.engine.dispose()


@pytest.fixture
def optimized(tmp_path: Path) -> Iterator[RunContext]:
    yield from target_context(tmp_path, "")


@pytest.fixture
def lazy(tmp_path: Path) -> Iterator[RunContext]:
    yield from target_context(tmp_path, "n_plus_one")


def collect(ctx: RunContext, **options: object) -> dict[str, Measurement]:
    measured = NPlusOne().collect(ctx, NPlusOneOptions.model_validate(options))
    return {m.name.removeprefix("n_plus_one/"): m for m in measured}


def test_optimized_api_issues_one_statement_per_list(optimized: RunContext) -> None:
    measured = collect(optimized)
    values = {name: m.value for name, m in measured.items()}
    assert values == {
        f"{CHEF_LIST.subject}/queries": 1,
        f"{CHEF_LIST.subject}/repeated": 1,
        f"{CHEF_LIST.subject}/lazy_loads": 0,
        f"{CHEF_LIST.subject}/rows": 10,
        f"{CHEF_LIST.subject}/growth": 0,
        f"{CHEF_LIST.subject}/rows_growth": 1.0,
        f"{CHEF_DETAIL.subject}/queries": 2,
        f"{CHEF_DETAIL.subject}/repeated": 1,
        f"{CHEF_DETAIL.subject}/lazy_loads": 0,
        f"{CHEF_DETAIL.subject}/rows": 6,  # the chef and its latest bookings
        f"{CHEF_DETAIL.subject}/growth": 0,
        f"{CHEF_DETAIL.subject}/rows_growth": 0,
        f"{CHEF_LIST.subject}/failed_requests": 0,
        f"{CHEF_DETAIL.subject}/failed_requests": 0,
    }


def test_a_cached_response_would_hide_every_statement(optimized: RunContext) -> None:
    # Why the check clears the cache: warmed up, the list is served from it.
    measured = collect(optimized, bypass_cache=False, endpoints=[CHEF_LIST.subject])
    assert measured[f"{CHEF_LIST.subject}/queries"].value == 0
    bypass = {"Cache-Control": "no-cache"}  # target_api's own bypass works alone as well
    measured = collect(optimized, bypass_cache=False, headers=bypass, endpoints=[CHEF_LIST.subject])
    assert measured[f"{CHEF_LIST.subject}/queries"].value == 1


def test_lazy_loads_are_counted_repeated_and_grow_with_the_page(lazy: RunContext) -> None:
    measured = collect(lazy, lists=[CHEF_LIST.subject])
    assert measured[f"{CHEF_LIST.subject}/queries"].value == 12
    repeated = measured[f"{CHEF_LIST.subject}/repeated"]
    assert repeated.value == 10
    evidence = {e.label: e.text for e in repeated.evidence}
    assert evidence["lazy load"] == "Chef.bookings"
    assert "FROM bookings" in evidence["sql"]
    assert evidence["note"] == "ran 10× in one request"
    grown = measured[f"{CHEF_LIST.subject}/growth"]
    assert grown.value == 1.0
    notes = [e.text for e in grown.evidence if e.label == "note"]
    assert notes == ["ran 1× at per_page=1 and 10× at per_page=10: it grows with the page (N+1)"]
    assert measured[f"{CHEF_LIST.subject}/lazy_loads"].value == 10
    assert measured[f"{CHEF_LIST.subject}/lazy_loads"].evidence[0].text == "10× Chef.bookings"
    # Only the listed endpoints get the growth test.
    assert f"{CHEF_DETAIL.subject}/growth" not in measured


# --- through the gate ---------------------------------------------------------------


def test_gate_fails_on_the_n_plus_one_fault_and_passes_the_optimized_api(
    softfactory: SoftFactoryProject,
) -> None:
    softfactory.configure(
        {"n_plus_one": {}},
        endpoints=["GET /api/coocook/chefs?per_page=10", "GET /api/products"],
    )
    softfactory.baseline()

    passed = softfactory.gate()
    assert passed.exit_code == 0, explain(passed)

    failed = softfactory.gate("n_plus_one")
    assert failed.exit_code == 1, explain(failed)
    failing = softfactory.failing()
    chefs = "n_plus_one/GET /api/coocook/chefs?per_page=10"
    assert {f"{chefs}/queries", f"{chefs}/repeated", f"{chefs}/growth"} <= set(failing)
    assert not any("products" in name for name in failing)
    assert "GET /api/coocook/chefs?per_page=10/growth" in failed.stdout
    assert "Chef.bookings" in failed.stdout
