"""The built-in 'cache' check: hits and misses of a fixed request sequence, and stale reads.

The app's caches are cleared, then a fixed sequence of requests runs
in-process (default: every GET target endpoint, then all of them again), so
the counts are the same in every run. Every GET answer of the sequence (after
its last write) is then compared with the uncached answer to the same
request: a difference is a wrong response (a cache key that drops the query
string serves page 1 for ``?page=2``). A second part writes, then reads: a
cached answer that differs from the freshly computed one is a stale read.
Both are correctness bugs no hit ratio can buy. An app without a
Flask-Caching backend skips the check.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from typing_extensions import override

import perfci
from perfci import (
    BudgetRule,
    Check,
    CheckCrashed,
    CheckOptions,
    CheckSkipped,
    ConfigError,
    Direction,
    Endpoint,
    EndpointConfig,
    Evidence,
    Measurement,
    RunContext,
    StatusLog,
    body_start,
    clear_response_caches,
    failed_requests_budget,
    known_or_parsed,
)

from . import counting as _cache_counting
from .counting import Tally

SEQUENCE_SUBJECT = "sequence"


class StaleProbe(BaseModel):
    """A write followed by a read whose ``changes`` field the write must change."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    read: str
    write: EndpointConfig
    # Dotted path into the read's JSON body, list indexes as numbers: "chefs.0.booking_count".
    changes: str = Field(min_length=1)
    rounds: int = Field(default=2, ge=1, le=20)

    @field_validator("read")
    @classmethod
    def _parses(cls, request: str) -> str:
        Endpoint.parse(request)  # ValueError names what is wrong
        return request


class CacheOptions(CheckOptions):
    """``checks.cache`` in perfci.yaml."""

    # Requests in order ("METHOD /path?query" or {request, json, headers});
    # default: every GET target endpoint, then all of them again.
    sequence: list[str | EndpointConfig] | None = None
    # auto: Flask-Caching signals when the app enables them, else the backend count.
    counting: Literal["auto", "signals", "backend"] = "auto"
    # Backend counting only: keys that are bookkeeping, not answers (fnmatch globs).
    ignore_keys: list[str] = Field(default_factory=lambda: ["*_memver"])
    # Empty the app's caches first (a Redis cache without a key prefix is flushed whole).
    clear: bool = True
    stale_probe: StaleProbe | None = None

    @field_validator("sequence")
    @classmethod
    def _sequence_parses(
        cls, sequence: list[str | EndpointConfig] | None
    ) -> list[str | EndpointConfig] | None:
        for item in sequence or ():
            Endpoint.parse(item if isinstance(item, str) else item.request)
        return sequence


class CacheCheck(Check[CacheOptions]):
    name = "cache"
    description = "cache hits, misses and hit ratio of a fixed request sequence; stale reads"
    Options = CacheOptions

    @override
    def budgets(self, options: CacheOptions) -> Sequence[BudgetRule]:
        """Stale reads and wrong responses are correctness bugs at any count."""
        return [
            BudgetRule("cache/stale_probe/stale_reads", max=0),
            BudgetRule(f"cache/{SEQUENCE_SUBJECT}/wrong_responses", max=0),
            failed_requests_budget(self.name),
        ]

    def collect(self, ctx: RunContext, options: CacheOptions) -> Iterable[Measurement]:
        if not _cache_counting.backends(ctx.app):
            raise CheckSkipped(
                "no cache backend found (no Flask-Caching Cache in "
                "app.extensions['cache']): nothing to measure"
            )
        yield from hit_ratios(ctx, options)
        if options.stale_probe is not None:
            yield from stale_reads(ctx, options.stale_probe)


def sequence_of(ctx: RunContext, options: CacheOptions) -> list[Endpoint]:
    if options.sequence is None:
        reads = [e for e in ctx.endpoints if e.method == "GET"]
        return reads + reads
    known = {e.subject: e for e in ctx.endpoints}
    sequence = []
    for item in options.sequence:
        if isinstance(item, EndpointConfig):
            sequence.append(to_endpoint(item))
        else:
            sequence.append(known_or_parsed(known, item))
    return sequence


def to_endpoint(config: EndpointConfig) -> Endpoint:
    return Endpoint.parse(
        config.request, json=config.json_body, data=config.data, headers=config.headers
    )


def counting(ctx: RunContext, options: CacheOptions, tally: Tally) -> tuple[str, Any]:
    """How hits are counted (a sentence for the evidence) and the context that counts them."""
    mode = options.counting
    if mode == "auto":
        mode = "signals" if _cache_counting.signals_enabled(ctx.app) else "backend"
    if mode == "signals":
        if not _cache_counting.signals_enabled(ctx.app):
            raise ConfigError(
                "checks.cache.counting: signals, but the app does not enable "
                "CACHE_ENABLE_SIGNALS (or Flask-Caching is older than 2.5)"
            )
        return "Flask-Caching signals", _cache_counting.counting_signals(tally)
    ignored = ", ".join(options.ignore_keys) or "none"
    return (
        f"backend lookups (ignored keys: {ignored})",
        _cache_counting.counting_backend(ctx.app, tally, options.ignore_keys),
    )


def hit_ratios(ctx: RunContext, options: CacheOptions) -> Iterator[Measurement]:
    """Hits, misses and hit ratio per endpoint of the sequence, and for the whole sequence."""
    sequence = sequence_of(ctx, options)
    if not sequence:
        return
    if options.clear:
        clear_response_caches(ctx.app)
    tally = Tally()
    how, counter = counting(ctx, options, tally)
    before = _cache_counting.redis_keyspace(ctx.app)
    client = ctx.client()
    statuses: dict[str, list[int]] = {}
    logs: dict[str, StatusLog] = {}
    answers: list[Answer] = []
    guard: AbstractContextManager[None] = counter
    with guard:
        for endpoint in sequence:
            tally.label = endpoint.subject
            response = ctx.call(endpoint, client)
            answer = Answer(endpoint, response.status_code, response.get_data())
            answers.append(answer)
            statuses.setdefault(endpoint.subject, []).append(answer.status)
            log = logs.setdefault(endpoint.subject, StatusLog(endpoint))
            log.see(endpoint, answer.status, answer.body, response.headers.get("Location"))
    after = _cache_counting.redis_keyspace(ctx.app)
    for subject, codes in statuses.items():
        note = Evidence(
            "note",
            f"{len(codes)} requests in the sequence (statuses {', '.join(map(str, codes))}); "
            f"counted by {how}",
        )
        yield from triple(subject, tally.hits[subject], tally.misses[subject], note)
    total = Evidence("note", f"{len(sequence)} requests, counted by {how}")
    evidence = [total]
    if before is not None and after is not None:
        hits = after["keyspace_hits"] - before["keyspace_hits"]
        misses = after["keyspace_misses"] - before["keyspace_misses"]
        # Server-wide counters: other clients and bookkeeping keys count too,
        # so they are shown beside the gated numbers, not gated themselves.
        evidence.append(Evidence("redis", f"INFO keyspace_hits +{hits}, keyspace_misses +{misses}"))
    yield from triple(
        SEQUENCE_SUBJECT, sum(tally.hits.values()), sum(tally.misses.values()), *evidence
    )
    for log in logs.values():
        yield log.measurement("cache")
    yield wrong_responses(ctx, answers)


@dataclass(frozen=True)
class Answer:
    """One response of the sequence."""

    endpoint: Endpoint
    status: int
    body: bytes


def wrong_responses(ctx: RunContext, answers: Sequence[Answer]) -> Measurement:
    """GET answers of the sequence (after its last write) that differ from the uncached answer."""
    last_write = max((i for i, a in enumerate(answers) if a.endpoint.method != "GET"), default=-1)
    compared = [a for a in answers[last_write + 1 :] if a.endpoint.method == "GET"]
    truth: dict[str, Answer] = {}
    client = ctx.client()
    for answer in compared:
        if _request_key(answer.endpoint) not in truth:
            clear_response_caches(ctx.app)
            response = ctx.call(answer.endpoint, client)
            truth[_request_key(answer.endpoint)] = Answer(
                answer.endpoint, response.status_code, response.get_data()
            )
    clear_response_caches(ctx.app)
    pairs = [(a, truth[_request_key(a.endpoint)]) for a in compared]
    wrong = [(a, t) for a, t in pairs if (a.status, a.body) != (t.status, t.body)]
    evidence = [Evidence("wrong response", difference(a, t)) for a, t in wrong[:3]]
    if len(wrong) > 3:
        evidence.append(Evidence("note", f"and {len(wrong) - 3} more"))
    evidence.append(
        Evidence(
            "note", f"{len(compared)} answers compared with uncached answers to the same requests"
        )
    )
    return Measurement(
        f"cache/{SEQUENCE_SUBJECT}/wrong_responses",
        len(wrong),
        "count",
        Direction.LOWER,
        evidence=tuple(evidence),
    )


def _request_key(endpoint: Endpoint) -> str:
    return f"{endpoint.subject} {endpoint.headers!r} {endpoint.json!r}"


def difference(served: Answer, truth: Answer) -> str:
    """Where a served answer and the uncached one differ: status, then the bodies from there."""
    where = served.endpoint.subject
    if served.status != truth.status:
        return f"{where}: served {served.status}, uncached {truth.status}"
    a, b = served.body, truth.body
    at = next(
        (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b))
    )
    start = max(0, at - 40)
    return (
        f"{where}: bodies differ at byte {at}: served …{body_start(a[start:], 120)} "
        f"| uncached …{body_start(b[start:], 120)}"
    )


def triple(subject: str, hits: int, misses: int, *evidence: Evidence) -> Iterator[Measurement]:
    lookups = hits + misses
    notes = list(evidence)
    if lookups == 0:
        notes.append(Evidence("note", "no cache lookup at all: nothing is served from a cache"))
    yield Measurement(f"cache/{subject}/hits", hits, "count", Direction.HIGHER)
    yield Measurement(f"cache/{subject}/misses", misses, "count", Direction.LOWER)
    yield Measurement(
        f"cache/{subject}/hit_ratio",
        hits / lookups if lookups else 0.0,
        "ratio",
        Direction.HIGHER,
        evidence=tuple(notes),
    )


def stale_reads(ctx: RunContext, probe: StaleProbe) -> Iterator[Measurement]:
    """Read, read (cached), write, read: stale when that read differs from an uncached one."""
    read = Endpoint.parse(probe.read)
    write = to_endpoint(probe.write)
    client = ctx.client()
    stale = 0
    evidence = []
    for round_number in range(1, probe.rounds + 1):
        before = field_of(ctx, read, probe.changes, client)
        field_of(ctx, read, probe.changes, client)  # now answered by the cache, if there is one
        response = ctx.call(write, client)
        if response.status_code >= 300:
            body = response.get_data(as_text=True)[:200]
            problem = f"checks.cache.stale_probe: {write.subject} answered {response.status_code}"
            if response.status_code >= 500:
                raise CheckCrashed(f"{problem}: {body}")
            raise ConfigError(f"{problem}: {body}")
        after = field_of(ctx, read, probe.changes, client)
        clear_response_caches(ctx.app)
        truth = field_of(ctx, read, probe.changes, client)
        if truth == before:
            raise ConfigError(
                f"checks.cache.stale_probe: {write.subject} did not change {probe.changes!r} "
                f"of {read.subject} (still {truth!r} uncached): the probe cannot see staleness"
            )
        verdict = "STALE" if after != truth else "fresh"
        if after != truth:
            stale += 1
        evidence.append(
            Evidence(
                "probe",
                f"round {round_number}: {probe.changes} {before!r} before {write.subject}, "
                f"{after!r} read after it, {truth!r} uncached: {verdict}",
            )
        )
    yield Measurement(
        "cache/stale_probe/stale_reads", stale, "count", Direction.LOWER, evidence=tuple(evidence)
    )


def field_of(ctx: RunContext, endpoint: Endpoint, path: str, client: Any) -> Any:
    """The value at dotted ``path`` of ``endpoint``'s JSON answer."""
    response = ctx.call(endpoint, client)
    where = f"checks.cache.stale_probe: {endpoint.subject}"
    if response.status_code != 200:
        raise ConfigError(f"{where} answered {response.status_code}")
    value: Any = response.get_json(silent=True)
    for part in path.split("."):
        if isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        elif isinstance(value, dict) and part in value:
            value = value[part]
        else:
            raise ConfigError(f"{where}: its JSON has no {path!r} (stopped at {part!r})")
    return value


@perfci.hookimpl
def perfci_checks() -> list[type[Check]]:
    return [CacheCheck]
