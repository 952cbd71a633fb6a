"""The built-in 'instructions' check: CPU instructions per request, counted under callgrind.

Timing a request measures the machine as much as the code. Counting the
instructions it executes under a CPU simulator does not: the count hardly
depends on the machine and not at all on its load, so a CPU regression
becomes a deterministic fact, judged like a query count.

The target is built and seeded natively (the runner did that); a worker
process then builds it again from its factory on the same database, under
``valgrind --tool=callgrind --instr-atstart=no`` (see :mod:`.callgrind`).
For each endpoint it issues warm-up requests, then ``requests`` measured
ones, each with the response caches cleared and the garbage collector
collected then disabled around it, and only those instrumented. The check
reports ``instructions/<endpoint>/Ir``: the median instructions per request.

Evidence points at the cause: the C functions with the largest inclusive
cost in the median request's profile (kept as a callgrind file under
``profiles``, for KCachegrind), and the Python functions the request calls
with how often, counted natively with ``sys.setprofile``. The engine lists
what changed in both between the baseline and this run.
"""

from __future__ import annotations

import contextlib
import gc
import os
import platform
import re
import shutil
import sqlite3
import statistics
import sys
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from importlib import metadata
from pathlib import Path
from types import FrameType
from typing import Any, ClassVar

from pydantic import Field

import perfci
from perfci import (
    CacheBypass,
    Check,
    CheckCrashed,
    CheckSkipped,
    Direction,
    Endpoint,
    EndpointOptions,
    Evidence,
    Measurement,
    RunContext,
    bypass_cache_field,
    cache_bypass_headers,
    clear_response_caches,
    counts_evidence,
    select_endpoints,
)

from . import callgrind as _callgrind

#: The A/A spread of Ir measured on the project's VM (docs/checks/instructions.md):
#: (max - min) / median of one endpoint's medians over 11 worker processes, the worst
#: of the 10 dog-food endpoints (benchmarks/bench_instructions.py).
NOISE_FLOOR = "A/A noise floor 0.6% (11 processes, worst endpoint; docs/checks/instructions.md)"


class InstructionsOptions(EndpointOptions):
    """``checks.instructions`` in perfci.yaml."""

    requests: int = Field(
        default=3, ge=1, description="Measured requests per endpoint; the median is reported."
    )
    # Python 3.11+ specializes bytecode after a function ran a few times: counts fall
    # for the first ~8 requests of an endpoint, then hold (docs/checks/instructions.md).
    # Warm-ups run uninstrumented, at a fraction of a measured request's cost.
    warmup: int = Field(
        default=15, ge=1, description="Unmeasured requests per endpoint before the measured ones."
    )
    headers: dict[str, str] = Field(
        default_factory=dict, description="Request headers added to every request."
    )
    renamed: ClassVar[Mapping[str, str]] = {"clear_cache": "bypass_cache"}
    bypass_cache: CacheBypass = bypass_cache_field(True)
    packages: list[str] = Field(
        default_factory=lambda: ["Flask", "Werkzeug", "SQLAlchemy", "Flask-SQLAlchemy"],
        description="Distributions whose versions the counts depend on: a baseline recorded "
        "with other versions is not comparable.",
    )
    profiles: str = Field(
        default=".perfci/callgrind",
        description="Where the median request's callgrind file of each endpoint is kept "
        "(relative to perfci.yaml), to open in KCachegrind.",
    )
    timeout: float = Field(
        default=600.0, gt=0, description="Seconds each worker under valgrind may take."
    )
    processes: int | None = Field(
        default=None,
        ge=1,
        le=256,
        description="Workers under valgrind at once, each measuring a contiguous share of "
        "the endpoints (a count does not depend on the load, so this changes only the wall "
        "time); null: one per core this process may run on.",
    )


class Instructions(Check[InstructionsOptions]):
    name = "instructions"
    description = "CPU instructions per request, counted under valgrind's callgrind"
    Options = InstructionsOptions

    def collect(self, ctx: RunContext, options: InstructionsOptions) -> Iterable[Measurement]:
        endpoints = _distinct(select_endpoints(ctx, options))
        if not endpoints:
            return []
        if not ctx.app_spec:
            raise CheckSkipped("instructions: the run context names no target factory")
        try:
            tools = _callgrind.find_tools()
            shim = _callgrind.build_shim(tools, ctx.workdir / "callgrind")
        except _callgrind.CallgrindUnavailable as error:
            raise CheckSkipped(f"instructions: {error}") from None
        bypass = cache_bypass_headers(options.bypass_cache)
        requests = [
            ctx.prepared(e).with_headers(bypass).with_headers(options.headers) for e in endpoints
        ]
        job = _callgrind.Job(
            app=ctx.app_spec,
            config=ctx.target_settings,
            endpoints=requests,
            warmup=options.warmup,
            requests=options.requests,
            clear_cache=bool(options.bypass_cache),
            shim=shim,
            recipe=ctx.recipe.to_dict() if ctx.recipe is not None else None,
        )
        processes = min(options.processes or len(os.sched_getaffinity(0)), len(endpoints))
        ctx.progress(
            f"instructions: {len(endpoints)} endpoints x {options.requests} requests "
            f"under callgrind (valgrind {tools.version}), {processes} processes at once"
        )
        try:
            statuses, dumps, locations = _callgrind.run_workers(
                tools,
                job,
                ctx.workdir / "callgrind" / "dumps",
                processes=processes,
                cwd=_callgrind.import_root(ctx.app_spec) or ctx.root,
                timeout=options.timeout,
            )
        except _callgrind.WorkerFailed as error:
            raise CheckCrashed(f"instructions: {error}") from None
        failed = [
            problem
            for e, status, location in zip(endpoints, statuses, locations, strict=True)
            if (problem := e.problem(status, location)) is not None
        ]
        if failed:
            # An error page's count is not the endpoint's: it must not pass as an improvement.
            raise CheckCrashed(f"instructions: {'; '.join(failed)}")
        environment = count_environment(options.packages, tools.version)
        profiles = ctx.root / options.profiles
        measurements = []
        for index, (endpoint, request) in enumerate(zip(endpoints, requests, strict=True)):
            mine = [d for d in dumps if d.endpoint == index]
            if len(mine) != options.requests:
                raise CheckCrashed(
                    f"instructions: {endpoint.subject}: {len(mine)} callgrind dumps "
                    f"for {options.requests} requests"
                )
            calls = python_calls(ctx, request, clear_cache=bool(options.bypass_cache))
            measurements.append(
                self.measurement(endpoint, mine, calls, tools, environment, options, profiles)
            )
        return measurements

    def measurement(
        self,
        endpoint: Endpoint,
        dumps: Sequence[_callgrind.Dump],
        calls: Mapping[str, int],
        tools: _callgrind.Tools,
        environment: Mapping[str, str],
        options: InstructionsOptions,
        profiles: Path,
    ) -> Measurement:
        counts = [d.ir for d in dumps]
        median = statistics.median_low(counts)
        floor = max(1, median // 100)
        kept = keep_profile(next(d for d in dumps if d.ir == median), profiles, endpoint)
        spread = (max(counts) - min(counts)) / median if median else 0.0
        notes = [
            f"median of {len(counts)} requests after {options.warmup} warm-up, each with the "
            f"garbage collector collected then disabled"
            + (" and the response cache cleared" if options.bypass_cache else ""),
            f"Ir per request: {', '.join(f'{n:,}' for n in counts)} "
            f"(spread {spread:.1%} of the median); {NOISE_FLOOR}",
        ]
        evidence = [
            Evidence("note", "; ".join(notes)),
            # Every C function above 1% of the request's count, and every Python function
            # called: a function absent from the baseline's table is then known to be
            # below its floor (C) or not called (Python), not merely left out.
            counts_evidence(
                "inclusive Ir by C function",
                _callgrind.inclusive_costs(tools, kept, floor=floor),
                floor=floor,
            ),
            counts_evidence("Python calls", calls),
            Evidence(
                "profile",
                f"{Path(options.profiles) / kept.name} (callgrind_annotate or KCachegrind)",
            ),
        ]
        return Measurement(
            f"{self.name}/{endpoint.subject}/Ir",
            float(median),
            "instructions",
            Direction.LOWER,
            evidence=tuple(evidence),
            environment=environment,
        )


def _distinct(endpoints: Iterable[Endpoint]) -> list[Endpoint]:
    seen: dict[str, Endpoint] = {}
    for endpoint in endpoints:
        seen.setdefault(endpoint.subject, endpoint)
    return list(seen.values())


def keep_profile(dump: _callgrind.Dump, directory: Path, endpoint: Endpoint) -> Path:
    """Copy a dump out of the run's work directory (deleted at the end of the run)."""
    directory.mkdir(parents=True, exist_ok=True)
    slug = re.sub(r"[^A-Za-z0-9]+", "_", endpoint.subject).strip("_")
    kept = directory / f"callgrind.out.{slug}"
    shutil.copyfile(dump.path, kept)
    return kept


def python_calls(ctx: RunContext, endpoint: Endpoint, *, clear_cache: bool) -> dict[str, int]:
    """Calls per Python function in one request, counted natively with ``sys.setprofile``.

    Deterministic like the statement count: the request is warmed up first,
    caches cleared and the garbage collector held off as under callgrind.
    """
    for _ in range(2):
        if clear_cache:
            clear_response_caches(ctx.app)
        ctx.call(endpoint)
    if clear_cache:
        clear_response_caches(ctx.app)
    counts: Counter[str] = Counter()

    def profile(frame: FrameType, event: str, _arg: Any) -> None:
        if event == "call":
            code = frame.f_code
            module = frame.f_globals.get("__name__", "?")
            counts[f"{module}.{code.co_qualname}"] += 1

    with _gc_held():
        previous = sys.getprofile()
        sys.setprofile(profile)
        try:
            ctx.call(endpoint)
        finally:
            sys.setprofile(previous)
    return dict(counts)


@contextlib.contextmanager
def _gc_held() -> Iterator[None]:
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def count_environment(packages: Sequence[str], valgrind: str) -> dict[str, str]:
    """What an instruction count depends on besides the code: the verdict compares these.

    The interpreter (version, implementation, build), the architecture, the
    versions of the target's main packages and of SQLite (its C code runs in
    the process), and valgrind's. Not the CPU model or the machine's load.
    """
    build, compiler = platform.python_build()[0], platform.python_compiler()
    environment = {
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "python build": f"{build}, {compiler}",
        "machine": platform.machine() or "unknown",
        "sqlite": sqlite3.sqlite_version,
        "valgrind": valgrind,
    }
    for package in packages:
        try:
            environment[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            environment[package] = "not installed"
    return environment


@perfci.hookimpl
def perfci_checks() -> list[type[Check]]:
    return [Instructions]
