"""The 'n_plus_one' check on SQLite, PostgreSQL (psycopg 3) and MariaDB, on a small library app.

Each N+1 kind must grow and each eager-load kind must not, on every engine.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from perfci.checks.n_plus_one import NPlusOne, NPlusOneOptions
from perfci.errors import TargetError
from perfci.measurement import Measurement
from perfci.status import refuse_failed_baseline
from perfci.target.context import RunContext
from perfci.target.endpoint import Endpoint
from perfci.testing import run_context
from tests.plugins import library_app


def library(tmp_path: Path, database_url: str, faults: str = "") -> Iterator[RunContext]:
    app = library_app.create_app({"SQLALCHEMY_DATABASE_URI": database_url, "FAULTS": faults})
    seeded = library_app.seed(app)
    with app.app_context():
        engine = app.extensions["sqlalchemy"].engine
        try:
            with run_context(app, tmp_path, seeded=seeded) as ctx:
                yield ctx
        finally:
            engine.dispose()


def measure(ctx: RunContext, endpoint: str) -> dict[str, Measurement]:
    options = NPlusOneOptions(endpoints=[endpoint])
    return {m.metric: m for m in NPlusOne().collect(ctx, options)}


EAGER = [
    "GET /authors/selectin",  # IN list: with casts on psycopg 3
    "GET /authors/subquery",
    "GET /authors/joined",
    "GET /authors/raise",
    "GET /authors/prefetch",  # a manual in_()
    "GET /authors/lazy",
    "GET /books",
    "GET /authors/counts",
]


@pytest.mark.parametrize("endpoint", EAGER)
def test_eager_loading_does_not_grow_on_any_engine(
    tmp_path: Path, database_url: str, endpoint: str
) -> None:
    for ctx in library(tmp_path, database_url):
        measured = measure(ctx, endpoint)
    assert measured["growth"].value == 0, measured["growth"].evidence
    assert measured["lazy_loads"].value == 0
    assert measured["repeated"].value == 1


@pytest.mark.parametrize(
    ("fault", "endpoint", "lazy"),
    [
        ("lazy_children", "GET /authors/lazy", "Author.books"),
        ("lazy_parent", "GET /books", "Book.author"),
        ("threads", "GET /authors/counts", None),
    ],
)
def test_each_n_plus_one_kind_grows_on_every_engine(
    tmp_path: Path, database_url: str, fault: str, endpoint: str, lazy: str | None
) -> None:
    for ctx in library(tmp_path, database_url, fault):
        measured = measure(ctx, endpoint)
    assert float(measured["growth"].value) > 0
    if lazy:
        assert lazy in measured["lazy_loads"].evidence[0].text
        assert any(e.label == "lazy load" and lazy in e.text for e in measured["growth"].evidence)
    else:
        # Sent from a thread pool: counted, and said so.
        notes = [e.text for e in measured["queries"].evidence if e.label == "note"]
        assert notes and "came from other threads" in notes[0]
        assert measured["queries"].value == 1 + 5  # the page and one count per author


def test_identity_map_hides_no_lazy_load(tmp_path: Path, database_url: str) -> None:
    # All books share one author: one query, yet a lazy load per book.
    for ctx in library(tmp_path, database_url, "lazy_parent"):
        measured = measure(ctx, "GET /books")
    assert measured["queries"].value == 2
    assert measured["repeated"].value == 1
    assert measured["lazy_loads"].value == 5
    assert measured["growth"].value == 1.0


def test_loading_a_collection_to_count_it_shows_in_rows(tmp_path: Path, database_url: str) -> None:
    rows = {}
    for faults in ("", "load_to_count"):
        for ctx in library(tmp_path, database_url, faults):
            measured = measure(ctx, "GET /authors/1/total")
        rows[faults] = measured["rows"].value
        assert measured["queries"].value == 2
    assert rows == {"": 2, "load_to_count": 1 + library_app.BOOKS_PER_AUTHOR}


def test_an_error_response_is_a_failed_request_not_an_improvement(
    tmp_path: Path, database_url: str
) -> None:
    # raiseload tripped: the list answers 500 and sends fewer statements.
    for ctx in library(tmp_path, database_url, "raiseload"):
        measured = measure(ctx, "GET /authors/raise")
    failed = measured["failed_requests"]
    assert failed.value == 3  # the request and both requests of the growth test
    assert failed.evidence[0].text.startswith("GET /authors/raise → 500 (expected 2xx/3xx): ")
    assert "growth" not in measured
    budgets = NPlusOne().budgets(NPlusOneOptions())
    assert [(b.pattern, b.max) for b in budgets] == [("n_plus_one/*/failed_requests", 0)]
    with pytest.raises(TargetError, match="refusing to store a baseline built on failed requests"):
        refuse_failed_baseline(list(measured.values()))


def test_an_expected_error_status_is_no_failure(tmp_path: Path, database_url: str) -> None:
    endpoint = Endpoint.parse("GET /authors/999/total", expect=[404])
    for ctx in library(tmp_path, database_url):
        options = NPlusOneOptions(lists=[])
        measured = {m.metric: m for m in NPlusOne().measure(ctx, endpoint, options)}
    assert measured["failed_requests"].value == 0
    refuse_failed_baseline(list(measured.values()))  # nothing to refuse


@pytest.mark.parametrize(("fault", "grows"), [("", False), ("lazy_children", True)])
def test_a_list_without_a_page_parameter_gets_the_data_growth_test(
    tmp_path: Path, database_url: str, fault: str, grows: bool
) -> None:
    spec = {
        "endpoints": ["GET /explore"],
        "seed": "tests.plugins.library_app:seed",
        "small": {"authors": 3},
        "large": {"authors": 8},
        "restore": {},
    }
    options = NPlusOneOptions.model_validate({"endpoints": [], "data_growth": spec})
    for ctx in library(tmp_path, database_url, fault):
        measured = {m.name: m for m in NPlusOne().collect(ctx, options)}
        # The run's data is back for the checks after this one.
        assert ctx.call(Endpoint.parse("GET /authors/30/total")).status_code == 200
    grown = measured["n_plus_one/data:GET /explore/data_growth"]
    assert grown.value == (5 if grows else 0)
    assert measured["n_plus_one/data:GET /explore/failed_requests"].value == 0
    if grows:
        assert any(e.label == "lazy load" and "Author.books" in e.text for e in grown.evidence)
