"""The built-in 'n_plus_one' check: statements per request, repeated shapes, growth with page size.

For every endpoint it records the statements of one request (cache bypassed,
warmed up first; see :mod:`perfci.checks._capture`) and reports:

* ``queries``: statements sent to the database by the request;
* ``repeated``: the most times any one statement shape (fingerprint) ran in
  the request, 1 when nothing repeats; ten lazy loads of ``Chef.bookings``
  make it 10;
* ``lazy_loads``: lazy loads of relationships (``Book.author``) in the
  request, counted from SQLAlchemy's lazy loader whether they sent SQL or
  were answered from the identity map (ten books of one author send one
  query, and ten on production data); a relationship that never sent SQL
  in the request (a back-reference to an eager-loaded parent) is not counted;
* ``rows``: rows the request's SELECTs returned (loading a whole collection
  instead of counting it shows here, not in statement counts);
* ``growth`` (list endpoints): the request is issued again with the page-size
  parameters at the smallest and the largest of ``sizes``; every shape whose
  count grows adds its extra statements, divided by the extra items asked
  for, and lazy loads count the same way (the larger of the two is
  reported). 0 means the statement count does not depend on the page size;
  1 is the classic N+1. It catches an N+1 whatever the absolute counts;
* ``rows_growth`` (list endpoints): extra rows per extra item asked for.

Statements a request sends from other threads (a thread pool fanning out per
item) are counted with its own (see :mod:`perfci.target.recorder`).
"""

from __future__ import annotations

import pkgutil
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from typing_extensions import override

import perfci
from perfci import (
    BudgetRule,
    Check,
    ConfigError,
    Direction,
    Endpoint,
    Evidence,
    Measurement,
    RecordedQuery,
    Recording,
    RunContext,
    StatusLog,
    failed_requests_budget,
    select_endpoints,
)

from ._capture import Captured, CaptureOptions, capture

#: Fingerprints longer than this are shortened in evidence.
SHAPE_CHARS = 300
#: Shapes listed in the evidence of one metric.
EVIDENCE_SHAPES = 5


class DataGrowth(BaseModel):
    """``checks.n_plus_one.data_growth``: lists without a page size, measured on two seeds."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    endpoints: list[str] = Field(min_length=1, description="Lists with no page parameter.")
    seed: str = Field(description="'module:function' called as function(app, **arguments).")
    small: dict[str, Any] = Field(description="Seed arguments of the smaller data set.")
    large: dict[str, Any] = Field(description="Seed arguments of the larger data set.")
    restore: dict[str, Any] = Field(
        description="Seed arguments that put the run's data back for the checks after this one."
    )


class NPlusOneOptions(CaptureOptions):
    """``checks.n_plus_one`` in perfci.yaml."""

    data_growth: DataGrowth | None = Field(
        default=None,
        description="Lists without a page parameter: the same request on two seed sizes.",
    )

    page_params: list[str] = Field(
        default_factory=lambda: ["per_page", "limit", "page_size"],
        min_length=1,
        description="Query parameters that set a list's page size; the growth test sets "
        "the one the endpoint's request names, else all of them (one by one if the "
        "endpoint refuses them together).",
    )
    page_param: str | None = Field(
        default=None, description="One page-size parameter (replaces page_params)."
    )
    sizes: list[int] = Field(
        default_factory=lambda: [1, 10],
        description="Page sizes of the growth test; the smallest and the largest are compared.",
    )
    lists: list[str] | None = Field(
        default=None,
        description="Endpoints (as in target.endpoints) that get the growth test; "
        "default: every GET endpoint (a page size that an endpoint ignores yields growth 0).",
    )

    @property
    def params(self) -> list[str]:
        return [self.page_param] if self.page_param else list(self.page_params)

    @field_validator("sizes")
    @classmethod
    def _two_sizes(cls, sizes: list[int]) -> list[int]:
        if len(set(sizes)) < 2 or min(sizes) < 1:
            raise ValueError("give at least two different page sizes, each >= 1")
        return sizes


@dataclass(frozen=True)
class Shape:
    """One statement shape within a request: its fingerprint, count and an example."""

    fingerprint: str
    count: int
    example: RecordedQuery

    @property
    def lazy_loaded_from(self) -> str | None:
        return self.example.lazy_loaded_from


def shapes(recording: Recording) -> list[Shape]:
    """The request's statement shapes, most frequent first (then first seen)."""
    counts = recording.fingerprints()
    examples: dict[str, RecordedQuery] = {}
    for query in recording.queries:
        # Prefer an example that SQLAlchemy reported as a lazy load.
        if query.fingerprint not in examples or (
            query.lazy_loaded_from and not examples[query.fingerprint].lazy_loaded_from
        ):
            examples[query.fingerprint] = query
    order = {fp: i for i, fp in enumerate(dict.fromkeys(q.fingerprint for q in recording.queries))}
    ranked = sorted(counts, key=lambda fp: (-counts[fp], order[fp]))
    return [Shape(fp, counts[fp], examples[fp]) for fp in ranked]


def most_repeated(recording: Recording) -> int:
    """The most times one shape ran (0 for a request without statements)."""
    return max(recording.fingerprints().values(), default=0)


@dataclass(frozen=True)
class Growth:
    """How a request's statements grow between two page sizes."""

    small: int
    large: int
    # fingerprint -> (count at small, count at large), only shapes that grew
    grown: dict[str, tuple[int, int]]
    examples: dict[str, RecordedQuery]
    # relationship -> (lazy loads at small, at large), only those that grew
    lazy_grown: dict[str, tuple[int, int]] = field(default_factory=dict)
    rows: tuple[int, int] = (0, 0)

    @property
    def statements_per_item(self) -> float:
        extra = sum(large - small for small, large in self.grown.values())
        return round(extra / (self.large - self.small), 4)

    @property
    def lazy_per_item(self) -> float:
        extra = sum(large - small for small, large in self.lazy_grown.values())
        return round(extra / (self.large - self.small), 4)

    @property
    def per_item(self) -> float:
        """Statements, or lazy loads where more of them grow, per extra item."""
        return max(self.statements_per_item, self.lazy_per_item)

    @property
    def rows_per_item(self) -> float:
        return round((self.rows[1] - self.rows[0]) / (self.large - self.small), 4)


def growth(small: int, at_small: Recording, large: int, at_large: Recording) -> Growth:
    """Compare the shapes of one request at page sizes ``small`` < ``large``.

    Shapes are compared one by one, so a shape that disappears at the larger
    size (a count only run for an empty page) cannot hide one that grew.
    """
    before, after = at_small.fingerprints(), at_large.fingerprints()
    grown = {fp: (before[fp], n) for fp, n in after.items() if n > before[fp]}
    examples = {s.fingerprint: s.example for s in shapes(at_large) if s.fingerprint in grown}
    lazy_before, lazy_after = at_small.lazy_loads, at_large.lazy_loads
    lazy_grown = {k: (lazy_before[k], n) for k, n in lazy_after.items() if n > lazy_before[k]}
    rows = (at_small.rows, at_large.rows)
    return Growth(small, large, grown, examples, lazy_grown, rows)


def _shorten(text: str, limit: int = SHAPE_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def shape_evidence(shape: Shape, note: str) -> list[Evidence]:
    """The fingerprint, how often it ran, an example SQL and its lazy-load origin."""
    evidence = [
        Evidence("fingerprint", _shorten(shape.fingerprint)),
        Evidence("note", note),
        Evidence("sql", shape.example.sql.strip()),
    ]
    if shape.lazy_loaded_from:
        evidence.append(Evidence("lazy load", shape.lazy_loaded_from))
    return evidence


def queries_evidence(found: Sequence[Shape]) -> list[Evidence]:
    if not found:
        return []
    lines = [f"{s.count}× {_shorten(s.fingerprint, 160)}" for s in found[:EVIDENCE_SHAPES]]
    if len(found) > EVIDENCE_SHAPES:
        lines.append(f"… and {len(found) - EVIDENCE_SHAPES} more shapes")
    return [Evidence("statements", "\n".join(lines))]


def lazy_evidence(lazy: Mapping[str, int]) -> list[Evidence]:
    if not lazy:
        return []
    ranked = sorted(lazy.items(), key=lambda item: (-item[1], item[0]))
    return [Evidence("lazy loads", "\n".join(f"{n}× {name}" for name, n in ranked))]


def thread_evidence(recording: Recording) -> list[Evidence]:
    notes = []
    if recording.from_other_threads:
        notes.append(f"{recording.from_other_threads} statement(s) came from other threads")
    if recording.unattributed:
        notes.append(
            f"{recording.unattributed} statement(s) from other threads, sent while other "
            "recordings were open, are counted but not attributed"
        )
    return [Evidence("note", "; ".join(notes))] if notes else []


def growth_evidence(result: Growth, page_param: str) -> list[Evidence]:
    evidence: list[Evidence] = []
    for name, (small, large) in sorted(result.lazy_grown.items()):
        evidence.append(
            Evidence(
                "lazy load",
                f"{name}: {small}× at {page_param}={result.small} and {large}× at "
                f"{page_param}={result.large}: a lazy load per item (N+1 on production data, "
                "even where the identity map answered it)",
            )
        )
    ranked = sorted(result.grown.items(), key=lambda item: (item[1][0] - item[1][1], item[0]))
    for fp, (small, large) in ranked[:EVIDENCE_SHAPES]:
        note = (
            f"ran {small}× at {page_param}={result.small} and {large}× at "
            f"{page_param}={result.large}: it grows with the page (N+1)"
        )
        evidence += shape_evidence(Shape(fp, large, result.examples[fp]), note)
    return evidence


class NPlusOne(Check[NPlusOneOptions]):
    name = "n_plus_one"
    description = (
        "statements, lazy loads and rows per request, repeated shapes, growth with page size"
    )
    Options = NPlusOneOptions

    @override
    def budgets(self, options: NPlusOneOptions) -> Sequence[BudgetRule]:
        return [failed_requests_budget(self.name)]

    def collect(self, ctx: RunContext, options: NPlusOneOptions) -> Iterable[Measurement]:
        for endpoint in select_endpoints(ctx, options):
            yield from self.measure(ctx, endpoint, options)
        if options.data_growth is not None:
            yield from self.measure_data_growth(ctx, options.data_growth, options)

    def measure_data_growth(
        self, ctx: RunContext, spec: DataGrowth, options: NPlusOneOptions
    ) -> Iterable[Measurement]:
        """``data_growth``: statements (and lazy loads) added when the data grows.

        Each list is requested on the ``small`` seed and on the ``large`` one;
        every shape whose count grew adds its extra statements (lazy loads
        likewise; the larger sum is reported). 0 means the request's
        statements do not depend on the data size. The ``restore`` seed runs
        afterwards, whatever happened.
        """
        try:
            seed = pkgutil.resolve_name(spec.seed)
        except (ImportError, AttributeError, ValueError) as error:
            raise ConfigError(
                f"checks.n_plus_one.data_growth.seed: cannot import {spec.seed!r}: {error}"
            ) from None
        endpoints = [Endpoint.parse(text) for text in spec.endpoints]
        known = {e.subject: e for e in ctx.endpoints}
        endpoints = [known.get(e.subject, e) for e in endpoints]
        runs: dict[str, list[Captured]] = {e.subject: [] for e in endpoints}
        try:
            for arguments in (spec.small, spec.large):
                seed(ctx.app, **arguments)
                for endpoint in endpoints:
                    runs[endpoint.subject].append(capture(ctx, endpoint, options, rows=True))
        finally:
            seed(ctx.app, **spec.restore)
        for endpoint in endpoints:
            small, large = runs[endpoint.subject]
            statuses = StatusLog(endpoint)
            ok = [statuses.see(r.endpoint, r.status, r.body, r.location) for r in (small, large)]
            prefix = f"{self.name}/data:{endpoint.subject}"
            if all(ok):
                # Seeds 1 and 2 (small, large): per_item is the extra count itself.
                result = growth(1, small.recording, 2, large.recording)
                yield Measurement(
                    f"{prefix}/data_growth",
                    result.per_item,
                    "queries",
                    Direction.LOWER,
                    evidence=(
                        Evidence(
                            "note",
                            f"{small.recording.count} statements on the small seed, "
                            f"{large.recording.count} on the large one",
                        ),
                        *growth_evidence(result, "seed #"),
                    ),
                )
            yield statuses.measurement(self.name, f"data:{endpoint.subject}")

    def measure(
        self, ctx: RunContext, endpoint: Endpoint, options: NPlusOneOptions
    ) -> Iterable[Measurement]:
        prefix = f"{self.name}/{endpoint.subject}"
        statuses = StatusLog(endpoint)
        captured = capture(ctx, endpoint, options, rows=True)
        statuses.see(endpoint, captured.status, captured.body, captured.location)
        recording = captured.recording
        found = shapes(recording)
        status = [] if captured.ok else [Evidence("note", f"the response was {captured.status}")]
        yield Measurement(
            f"{prefix}/queries",
            recording.count,
            "queries",
            Direction.LOWER,
            evidence=tuple(status + thread_evidence(recording) + queries_evidence(found)),
        )
        top = found[0] if found else None
        repeated_evidence = (
            shape_evidence(top, f"ran {top.count}× in one request")
            if top is not None and top.count > 1
            else []
        )
        yield Measurement(
            f"{prefix}/repeated",
            most_repeated(recording),
            "queries",
            Direction.LOWER,
            evidence=tuple(repeated_evidence),
        )
        lazy = recording.lazy_loads
        yield Measurement(
            f"{prefix}/lazy_loads",
            sum(lazy.values()),
            "loads",
            Direction.LOWER,
            evidence=tuple(lazy_evidence(lazy)),
        )
        yield Measurement(f"{prefix}/rows", recording.rows, "rows", Direction.LOWER)
        if self.is_list(endpoint, options):
            yield from self.measure_growth(ctx, endpoint, options, prefix, statuses)
        yield statuses.measurement(self.name)

    def is_list(self, endpoint: Endpoint, options: NPlusOneOptions) -> bool:
        if options.lists is None:
            return endpoint.method == "GET"
        wanted = {Endpoint.parse(text).subject for text in options.lists}
        return endpoint.subject in wanted

    def measure_growth(
        self,
        ctx: RunContext,
        endpoint: Endpoint,
        options: NPlusOneOptions,
        prefix: str,
        statuses: StatusLog,
    ) -> Iterable[Measurement]:
        small, large = min(options.sizes), max(options.sizes)
        named = [p for p in options.params if any(k == p for k, _ in endpoint.query)]
        # The parameter the request names; else all at once; else one by one.
        attempts = [named[:1]] if named else [options.params]
        if not named and len(options.params) > 1:
            attempts += [[p] for p in options.params]
        failed: list[str] = []
        for params in attempts:
            runs = {
                size: capture(
                    ctx, endpoint.with_query(**dict.fromkeys(params, str(size))), options, rows=True
                )
                for size in (small, large)
            }
            failed = [f"{r.endpoint.subject} → {r.status}" for r in runs.values() if not r.ok]
            if not failed:
                break
        if failed:
            # No growth to judge: the failed requests fail the check (and a baseline
            # that had a growth reports it missing).
            for run in runs.values():
                statuses.see(run.endpoint, run.status, run.body, run.location)
            ctx.progress(f"n_plus_one: no growth test for {endpoint.subject}: {', '.join(failed)}")
            return
        label = "/".join(params)
        result = growth(small, runs[small].recording, large, runs[large].recording)
        yield Measurement(
            f"{prefix}/growth",
            result.per_item,
            "queries/item",
            Direction.LOWER,
            evidence=tuple(growth_evidence(result, label)),
        )
        yield Measurement(
            f"{prefix}/rows_growth",
            result.rows_per_item,
            "rows/item",
            Direction.LOWER,
            evidence=(
                Evidence(
                    "note",
                    f"{result.rows[0]} rows at {label}={small}, {result.rows[1]} at "
                    f"{label}={large}",
                ),
            ),
        )


@perfci.hookimpl
def perfci_checks() -> list[type[Check]]:
    return [NPlusOne]
