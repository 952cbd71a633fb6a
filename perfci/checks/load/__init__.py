"""The built-in 'load' check: throughput, failures and tail latency at stages of users.

Locust generates the load in a subprocess (``_load_runner``): it patches the
standard library with gevent when imported, so it never enters the perfci
process. The runner reports each stage as JSON lines; this module turns them
into measurements and always stops the whole process tree.
"""

from __future__ import annotations

import contextlib
import json
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import requests
from pydantic import Field, field_validator, model_validator

import perfci
from perfci import (
    BudgetRule,
    CacheBypass,
    Check,
    CheckCrashed,
    ConfigError,
    Direction,
    Endpoint,
    EndpointOptions,
    Evidence,
    Fraction,
    Kind,
    Measurement,
    RunContext,
    bypass_cache_field,
    cache_bypass_headers,
    select_endpoints,
    start_process_group,
    stop_process_group,
)

from .stats import StageResult, stage_label, summarize_errors

#: How the Locust runner is started: gevent patches the standard library before the runner's
#: parent packages (perfci, which imports ssl through requests) are imported.
RUNNER_COMMAND = ("-m", "gevent.monkey", "--module", "perfci.checks.load.runner")
#: Seconds the runner may take beyond its stages (start-up, ramps, shutdown).
RUNNER_SLACK = 60.0


class LoadOptions(EndpointOptions):
    """``checks.load`` in perfci.yaml."""

    stages: list[int] = Field(default_factory=lambda: [50, 100, 500], min_length=1)
    duration: float = Field(default=10.0, gt=0)  # measured seconds per stage, after its ramp
    spawn_rate: float | None = Field(default=None, gt=0)  # users/s; null: a stage ramps in 1 s
    wait_time: float = Field(default=0.0, ge=0)  # seconds each user waits between requests
    weights: dict[str, float] = Field(default_factory=dict)  # endpoint subject -> weight (1)
    # Load as clients see it: cached responses count. The latency check bypasses the cache.
    bypass_cache: CacheBypass = bypass_cache_field(False)
    timeout: float = Field(default=10.0, gt=0)  # seconds per request before it fails
    workers: int = Field(default=0, ge=0, le=64)  # local Locust worker processes; 0: one process
    # Listen for external workers ("0.0.0.0:5557"); they run the documented worker command.
    master_bind: str | None = None
    external_workers: int = Field(default=0, ge=0)  # how many external workers to wait for
    worker_timeout: float = Field(default=60.0, gt=0)  # seconds to wait for workers to connect
    # Load this URL instead of the gunicorn perfci starts (e.g. a staging host).
    host: str | None = None
    # The check's own limit on every stage's failure ratio, whatever the baseline
    # says ("0%": a failed request fails the build); null: only perfci.yaml budgets.
    max_failure_ratio: Fraction | None = 0.0

    @field_validator("stages")
    @classmethod
    def _positive(cls, stages: list[int]) -> list[int]:
        if any(users < 1 for users in stages):
            raise ValueError("every stage needs at least 1 user")
        if len(set(stages)) != len(stages):
            raise ValueError("each stage must have a different number of users")
        return stages

    @field_validator("master_bind")
    @classmethod
    def _host_port(cls, value: str | None) -> str | None:
        if value is not None:
            host, _, port = value.rpartition(":")
            if not host or not port.isdigit() or not 0 <= int(port) < 65536:
                raise ValueError(f"expected HOST:PORT such as 0.0.0.0:5557, got {value!r}")
        return value

    @field_validator("weights")
    @classmethod
    def _weights(cls, weights: dict[str, float]) -> dict[str, float]:
        for subject, weight in weights.items():
            if weight <= 0:
                raise ValueError(f"weight of {subject!r} must be positive, got {weight}")
        return weights

    @model_validator(mode="after")
    def _external_needs_bind(self) -> LoadOptions:
        if self.external_workers and not self.master_bind:
            raise ValueError("external_workers needs master_bind (the address workers connect to)")
        return self


class Load(Check[LoadOptions]):
    name = "load"
    description = "throughput, failure ratio and p95/p99 at stages of concurrent users (Locust)"
    Options = LoadOptions
    deterministic = False

    def budgets(self, options: LoadOptions) -> Sequence[BudgetRule]:
        """Failed requests fail the build even when the baseline had them too."""
        if options.max_failure_ratio is None:
            return ()
        return [BudgetRule("load/*users/failure_ratio", max=options.max_failure_ratio)]

    def collect(self, ctx: RunContext, options: LoadOptions) -> Iterable[Measurement]:
        endpoints = select_endpoints(ctx, options)
        if not endpoints:
            raise ConfigError("checks.load: no endpoints to load (set target.endpoints)")
        host = options.host or ctx.base_url
        spec = build_spec(host, endpoints, options)
        stages = run_load(
            spec,
            ctx.workdir / "load",
            progress=ctx.progress,
            timeout=runner_timeout(options),
        )
        if options.host is None:
            # Requests gunicorn accepted before the load stopped are still being served;
            # the checks after this one must not time a server busy with them.
            server = ctx.server()
            wait_until_quiet(server.base_url + server.settings.health)
        return stage_measurements(stages, spec, options)


def build_spec(host: str, endpoints: Sequence[Endpoint], options: LoadOptions) -> dict[str, Any]:
    """The runner's JSON input: what to request, how hard and for how long."""
    subjects = {e.subject for e in endpoints}
    unknown = sorted(set(options.weights) - subjects)
    if unknown:
        raise ConfigError(
            f"checks.load.weights: {unknown[0]!r} is not one of the loaded endpoints "
            f"({', '.join(sorted(subjects))})"
        )
    extra = cache_bypass_headers(options.bypass_cache)
    requests: dict[str, dict[str, Any]] = {}
    for endpoint in endpoints:
        requests.setdefault(
            endpoint.subject,
            {
                "name": endpoint.subject,
                "method": endpoint.method,
                "path": endpoint.path_and_query,
                "json": endpoint.json,
                "headers": {**dict(endpoint.headers), **extra},
                "weight": options.weights.get(endpoint.subject, 1.0),
            },
        )
    return {
        "host": host.rstrip("/"),
        "stages": list(options.stages),
        "duration": options.duration,
        "spawn_rate": options.spawn_rate,
        "wait_time": options.wait_time,
        "timeout": options.timeout,
        "interval": 1.0,
        "requests": list(requests.values()),
        "distributed": bool(options.workers or options.master_bind),
        "workers": options.workers,
        "external_workers": options.external_workers,
        "master_bind": options.master_bind,
        "worker_timeout": options.worker_timeout,
    }


def runner_timeout(options: LoadOptions) -> float:
    """How long the whole runner may take before it is killed."""
    ramps = sum(users / (options.spawn_rate or users) for users in options.stages)
    waiting = options.worker_timeout if options.workers or options.master_bind else 0.0
    per_stage = options.duration + options.timeout
    return len(options.stages) * per_stage + ramps + waiting + RUNNER_SLACK


def run_load(
    spec: Mapping[str, Any],
    directory: Path,
    *,
    progress: Callable[[str], None],
    timeout: float,
) -> list[StageResult]:
    """Run the Locust runner on ``spec``; its stages. Every process it started is stopped."""
    directory.mkdir(parents=True, exist_ok=True)
    spec_path = directory / "spec.json"
    spec_path.write_text(json.dumps(spec, indent=2))
    log_path = directory / "locust.log"
    with log_path.open("wb") as log:
        process = start_process_group(  # its own process group: the runner and its workers
            [sys.executable, *RUNNER_COMMAND, "run", str(spec_path)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=log,
        )
    # The runner leads its process group (its workers included): kept for post-mortems.
    (directory / "runner.pid").write_text(f"{process.pid}\n")
    try:
        return _follow(process, spec, log_path, progress, deadline=time.monotonic() + timeout)
    finally:
        stop_runner(process)


def _follow(
    process: subprocess.Popen[bytes],
    spec: Mapping[str, Any],
    log_path: Path,
    progress: Callable[[str], None],
    *,
    deadline: float,
) -> list[StageResult]:
    assert process.stdout is not None
    lines: queue.Queue[bytes | None] = queue.Queue()
    reader = threading.Thread(target=_pump, args=(process.stdout, lines), daemon=True)
    reader.start()
    stages: list[StageResult] = []
    shown = ProgressThrottle(float(spec["duration"]))
    while True:
        try:
            line = lines.get(timeout=max(deadline - time.monotonic(), 0.0))
        except queue.Empty:
            raise CheckCrashed(
                "load: the Locust runner did not finish in time and was stopped; "
                f"log: {_tail(log_path)}"
            ) from None
        if line is None:
            code = process.wait()
            raise CheckCrashed(
                f"load: the Locust runner exited with code {code} before finishing; "
                f"log: {_tail(log_path)}"
            )
        event = parse_event(line)
        kind = event.get("event")
        if kind == "done":
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=10)  # let it stop its workers itself
            return stages
        if kind == "error":
            raise CheckCrashed(f"load: {event.get('message')}; log: {_tail(log_path)}")
        if kind == "stage":
            stages.append(StageResult.from_dict(event))
        elif kind == "waiting":
            progress(f"load: waiting for {event['workers']} Locust workers on {event['master']}")
        elif kind == "progress" and shown.due(event):
            progress(progress_line(event))


def _pump(stream: Any, lines: queue.Queue[bytes | None]) -> None:
    for line in iter(stream.readline, b""):
        lines.put(line)
    lines.put(None)


def parse_event(line: bytes) -> dict[str, Any]:
    """One JSON line of the runner; anything else is a crash worth reporting as such."""
    try:
        event = json.loads(line)
    except ValueError:
        event = None
    if not isinstance(event, dict):
        text = line.decode(errors="replace").strip()[:200]
        raise CheckCrashed(f"load: unexpected output from the Locust runner: {text!r}")
    return event


class ProgressThrottle:
    """Lets about five progress lines through per stage, plus its first and last."""

    def __init__(self, duration: float) -> None:
        self.step = max(duration / 5.0, 1.0)
        self.stage = 0
        self.last = 0.0

    def due(self, event: Mapping[str, Any]) -> bool:
        stage, elapsed = int(event["stage"]), float(event["elapsed"])
        final = elapsed >= float(event["duration"]) - 0.05
        if stage != self.stage or final or elapsed - self.last >= self.step:
            self.stage, self.last = stage, elapsed
            return True
        return False


def progress_line(event: Mapping[str, Any]) -> str:
    return (
        f"load: stage {event['stage']}/{event['stages']}, {event['users']} users, "
        f"{float(event['rps']):.0f} req/s, {event['failures']} failures "
        f"({float(event['elapsed']):.0f}/{float(event['duration']):g} s)"
    )


def stage_measurements(
    stages: Sequence[StageResult], spec: Mapping[str, Any], options: LoadOptions
) -> list[Measurement]:
    """Four metrics per stage: rps, failure_ratio, p95 and p99."""
    measurements: list[Measurement] = []
    mix = ", ".join(f"{r['name']} x{r['weight']:g}" for r in spec["requests"])
    for stage in stages:
        label = stage_label(stage.users)
        if stage.requests == 0:
            raise CheckCrashed(
                f"load: no request completed in the {stage.users}-user stage "
                f"({options.duration:g} s); is the target answering at {spec['host']}?"
            )
        workers = f", {stage.workers} Locust workers" if stage.workers else ""
        how = Evidence(
            "note",
            f"{stage.users} users for {stage.seconds:.1f} s after their ramp{workers}, "
            f"wait {options.wait_time:g} s; {stage.requests} requests, {stage.failures} failed; "
            f"mix: {mix}",
        )
        evidence = [how]
        if stage.errors:
            evidence.append(Evidence("errors", summarize_errors(stage.errors)))
        rps = stage.rps_samples()
        measurements.append(
            Measurement(
                f"load/{label}/rps",
                stage.rps,
                "req/s",
                Direction.HIGHER,
                Kind.TIMING,
                samples=tuple(rps),
                evidence=(*evidence, Evidence("note", "samples: throughput of each ~1 s window")),
            )
        )
        # A failed request is a fact, not a timing: any failure where the baseline had none
        # is a regression, and a budget {max: 0} holds the "no failures" requirement.
        measurements.append(
            Measurement(
                f"load/{label}/failure_ratio",
                stage.failure_ratio,
                "ratio",
                Direction.LOWER,
                Kind.DETERMINISTIC,
                evidence=tuple(evidence),
            )
        )
        for q in (95, 99):
            measurements.append(
                Measurement(
                    f"load/{label}/p{q}",
                    stage.percentile(q),
                    "ms",
                    Direction.LOWER,
                    Kind.TIMING,
                    samples=tuple(stage.percentile_samples(q)),
                    evidence=(
                        *evidence,
                        Evidence("note", f"value: p{q} of the stage; samples: p{q} of each window"),
                    ),
                )
            )
    return measurements


def wait_until_quiet(
    url: str, *, quick: float = 0.05, in_a_row: int = 3, timeout: float = 15.0
) -> bool:
    """Poll ``url`` until ``in_a_row`` answers in a row take under ``quick`` seconds.

    False when the server is still slow after ``timeout`` (a busy machine): the run
    goes on, the checks after this one judge what they see.
    """
    deadline = time.monotonic() + timeout
    fast = 0
    with requests.Session() as session:
        while fast < in_a_row and time.monotonic() < deadline:
            started = time.monotonic()
            try:
                session.get(url, timeout=timeout)
            except requests.RequestException:
                fast = 0
                time.sleep(0.1)
                continue
            fast = fast + 1 if time.monotonic() - started < quick else 0
    return fast >= in_a_row


def stop_runner(process: subprocess.Popen[bytes]) -> None:
    """Stop the runner and its workers (one process group); safe to call twice."""
    stop_process_group(process)
    if process.stdout is not None:
        process.stdout.close()


def _tail(path: Path, lines: int = 3) -> str:
    try:
        text = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return "(no log)"
    tail = [line.strip() for line in text[-lines:] if line.strip()]
    return " | ".join(tail) or "(empty log)"


@perfci.hookimpl
def perfci_checks() -> list[type[Check]]:
    return [Load]
