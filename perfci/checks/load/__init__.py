"""The built-in 'load' check: throughput, failures and tail latency at stages of users
(closed model) or of an arrival rate (open model).

Locust generates the load in a subprocess (``runner``): it patches the
standard library with gevent when imported, so it never enters the perfci
process. The runner reports each stage as JSON lines; this module turns them
into measurements and always stops the whole process tree. Around each
stage's measured part it reads the CPU of the generator and of the server
(``cpu``); a stage the generator limited (``saturation``) is marked so that
the verdict engine does not judge it as the server's.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any

import requests
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

import perfci
from perfci import (
    UNJUDGED_LABEL,
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

from .cpu import CpuWatch, pin, restore
from .saturation import FIX, StageCpu, generator_bound, schedule_slipped
from .stats import StageResult, stage_label, summarize_errors

#: How the Locust runner is started: gevent patches the standard library before the runner's
#: parent packages (perfci, which imports ssl through requests) are imported.
RUNNER_COMMAND = ("-m", "gevent.monkey", "--module", "perfci.checks.load.runner")
#: Seconds the runner may take beyond its stages (start-up, ramps, shutdown).
RUNNER_SLACK = 60.0


class CpuAffinity(BaseModel):
    """``checks.load.cpu_affinity``: the cores of the server and of the load generator."""

    model_config = ConfigDict(extra="forbid")

    server: list[int] = Field(min_length=1)
    generator: list[int] = Field(min_length=1)

    @model_validator(mode="after")
    def _separate(self) -> CpuAffinity:
        if any(core < 0 for core in (*self.server, *self.generator)):
            raise ValueError("cores are numbered from 0")
        shared = sorted(set(self.server) & set(self.generator))
        if shared:
            raise ValueError(f"the server and the generator share core(s) {shared}")
        available = os.sched_getaffinity(0)
        for role, cores in (("server", self.server), ("generator", self.generator)):
            missing = sorted(set(cores) - available)
            if missing:
                raise ValueError(
                    f"{role}: core(s) {missing} are not available here "
                    f"(available: {sorted(available)})"
                )
        return self


def _parse_rate(value: Any) -> Any:
    """``2000/s``, ``2000 req/s``, ``2000``: requests per second (other values go to pydantic)."""
    if isinstance(value, str):
        text = value.strip().lower()
        for suffix in ("req/s", "/s", "rps"):
            if text.endswith(suffix):
                text = text.removesuffix(suffix).strip()
                break
        try:
            return float(text)
        except ValueError:
            raise ValueError(f"expected a rate such as 2000/s, got {value!r}") from None
    return value


class RateStage(BaseModel):
    """An arrival-rate (open model) stage: ``{rate: 2000/s, duration: 10, connections: 100}``.

    Requests are sent on a fixed schedule whatever the responses do, and each
    one's latency is measured from the time it was meant to be sent.
    """

    model_config = ConfigDict(extra="forbid")

    rate: Annotated[float, BeforeValidator(_parse_rate), Field(gt=0, le=1_000_000)]
    duration: float | None = Field(default=None, gt=0)  # seconds; null: the check's duration
    # Most requests in flight at once (the connection pool); more wait for a connection,
    # and that wait counts in their latency.
    connections: int = Field(default=100, ge=1, le=10_000)


def _stage_kind(value: Any) -> str:
    return "rate" if isinstance(value, dict | RateStage) else "users"


#: A stage: users (an int) or an arrival rate (a mapping), each validated as its own kind
#: so that a bad rate is reported as a bad rate, not as "expected an integer".
Stage = Annotated[
    Annotated[int, Tag("users")] | Annotated[RateStage, Tag("rate")],
    Discriminator(_stage_kind),
]


class LoadOptions(EndpointOptions):
    """``checks.load`` in perfci.yaml."""

    # Closed model: a number of users each; open model: {rate: 2000/s, ...} (RateStage).
    stages: list[Stage] = Field(
        default_factory=lambda: list[int | RateStage]([50, 100, 500]), min_length=1
    )
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
    # Pin the server perfci starts and the generator to separate cores (os.sched_setaffinity);
    # null: no pinning. The server's own affinity is given back after the check.
    cpu_affinity: CpuAffinity | None = None
    # A generator process on a CPU (or runnable: on one or waiting for one) this share of
    # the stage makes it generator-bound: its rps/p95/p99 are not judged (saturation.py).
    generator_busy: Fraction = Field(default=0.9, gt=0, le=1)

    @field_validator("stages")
    @classmethod
    def _positive(cls, stages: list[int | RateStage]) -> list[int | RateStage]:
        if any(isinstance(users, int) and users < 1 for users in stages):
            raise ValueError("every stage needs at least 1 user")
        labels = [stage_subject(stage) for stage in stages]
        if len(set(labels)) != len(labels):
            raise ValueError("each stage must have a different number of users (or rate)")
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
        rated = any(isinstance(stage, RateStage) for stage in self.stages)
        if rated and (self.workers or self.master_bind):
            raise ValueError(
                "arrival-rate stages run in one local process: they cannot use workers or "
                "master_bind"
            )
        return self


def stage_subject(stage: int | RateStage) -> str:
    """The subject of a configured stage's metrics: ``500users`` or ``2000rps``."""
    if isinstance(stage, RateStage):
        return stage_label(0, stage.rate)
    return stage_label(stage)


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
        # A login over HTTP first: a failing one is exit 3 before any load. Then every
        # Locust user logs in once (on_start, outside the statistics) and sends its own.
        with ctx.http_client(host):
            pass
        spec = build_spec(
            host,
            [e.under_headers(ctx.shared_headers) for e in endpoints],
            options,
            auth=None if ctx.auth is None else ctx.auth.model_dump(mode="json", by_alias=True),
            headers=ctx.shared_headers,
        )
        server = ctx.server() if options.host is None else None
        restore_server: dict[int, set[int]] = {}
        if server is not None and server.pid is not None and options.cpu_affinity:
            restore_server = pin(server.pid, options.cpu_affinity.server)
        try:
            stages = run_load(
                spec,
                ctx.workdir / "load",
                progress=ctx.progress,
                timeout=runner_timeout(options),
                server_pid=server.pid if server is not None else None,
                generator_cores=options.cpu_affinity.generator if options.cpu_affinity else None,
            )
        finally:
            restore(restore_server)
        if server is not None:
            # Requests gunicorn accepted before the load stopped are still being served;
            # the checks after this one must not time a server busy with them.
            wait_until_quiet(server.base_url + server.health)
        return stage_measurements(stages, spec, options)


def build_spec(
    host: str,
    endpoints: Sequence[Endpoint],
    options: LoadOptions,
    *,
    auth: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The runner's JSON input: what to request, how hard and for how long.

    ``auth`` (``target.auth`` as data) is the login each Locust user runs
    first, with ``headers`` (``target.headers``).
    """
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
        # The one request builder, as in-process; each user adds its own login's credentials.
        wire = endpoint.with_credentials({}).wire(extra)
        requests.setdefault(
            endpoint.subject,
            {
                "name": endpoint.subject,
                "method": wire.method,
                "path": wire.target,
                "body": None if wire.body is None else wire.body.decode("latin-1"),
                "headers": dict(wire.headers),
                "expect": list(endpoint.expect),
                "weight": options.weights.get(endpoint.subject, 1.0),
            },
        )
    return {
        "host": host.rstrip("/"),
        "stages": [
            {
                "rate": stage.rate,
                "duration": stage.duration or options.duration,
                "connections": stage.connections,
            }
            if isinstance(stage, RateStage)
            else stage
            for stage in options.stages
        ],
        "duration": options.duration,
        "spawn_rate": options.spawn_rate,
        "wait_time": options.wait_time,
        "timeout": options.timeout,
        "interval": 1.0,
        "requests": list(requests.values()),
        "auth": None if auth is None else dict(auth),
        "headers": dict(headers or {}),
        "distributed": bool(options.workers or options.master_bind),
        "workers": options.workers,
        "external_workers": options.external_workers,
        "master_bind": options.master_bind,
        "worker_timeout": options.worker_timeout,
    }


def runner_timeout(options: LoadOptions) -> float:
    """How long the whole runner may take before it is killed."""
    ramps = sum(
        users / (options.spawn_rate or users) for users in options.stages if isinstance(users, int)
    )
    waiting = options.worker_timeout if options.workers or options.master_bind else 0.0
    durations = sum(
        (stage.duration or options.duration) if isinstance(stage, RateStage) else options.duration
        for stage in options.stages
    )
    return durations + len(options.stages) * options.timeout + ramps + waiting + RUNNER_SLACK


def run_load(
    spec: Mapping[str, Any],
    directory: Path,
    *,
    progress: Callable[[str], None],
    timeout: float,
    server_pid: int | None = None,
    generator_cores: Sequence[int] | None = None,
) -> list[tuple[StageResult, StageCpu | None]]:
    """Run the Locust runner on ``spec``; its stages, each with the CPU both sides used.

    ``server_pid``: the server's process (its tree is measured too); ``generator_cores``:
    pin the runner (and the workers it starts) to these cores. Every process it started
    is stopped.
    """
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
        if generator_cores:
            pin(process.pid, generator_cores)  # before it starts any worker: they inherit it
        watch = CpuWatch({"generator": process.pid, "server": server_pid})
        return _follow(
            process, spec, log_path, progress, watch, deadline=time.monotonic() + timeout
        )
    finally:
        stop_runner(process)


def _follow(
    process: subprocess.Popen[bytes],
    spec: Mapping[str, Any],
    log_path: Path,
    progress: Callable[[str], None],
    watch: CpuWatch,
    *,
    deadline: float,
) -> list[tuple[StageResult, StageCpu | None]]:
    assert process.stdout is not None
    lines: queue.Queue[bytes | None] = queue.Queue()
    reader = threading.Thread(target=_pump, args=(process.stdout, lines), daemon=True)
    reader.start()
    stages: list[tuple[StageResult, StageCpu | None]] = []
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
        if kind == "measuring":
            watch.start()
        elif kind == "stage":
            stage = StageResult.from_dict(event)
            stages.append((stage, watch.stop(stage.requests)))
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
    load = f"{event['rate']:g} req/s scheduled" if event.get("rate") else f"{event['users']} users"
    return (
        f"load: stage {event['stage']}/{event['stages']}, {load}, "
        f"{float(event['rps']):.0f} req/s, {event['failures']} failures "
        f"({float(event['elapsed']):.0f}/{float(event['duration']):g} s)"
    )


def stage_measurements(
    stages: Sequence[tuple[StageResult, StageCpu | None]],
    spec: Mapping[str, Any],
    options: LoadOptions,
) -> list[Measurement]:
    """Four metrics per stage: rps, failure_ratio, p95 and p99.

    A stage whose CPU figures say the generator was the bottleneck
    (``saturation.generator_bound``) carries ``UNJUDGED_LABEL`` evidence on its
    rps and percentiles: the engine does not judge them as the server's, and a
    budget on them fails. Its failure ratio is still a fact and still judged.
    """
    measurements: list[Measurement] = []
    mix = ", ".join(f"{r['name']} x{r['weight']:g}" for r in spec["requests"])
    for stage, cpu in stages:
        label = stage.label
        what = f"{stage.rate:g} req/s" if stage.rate is not None else f"{stage.users}-user"
        if stage.requests == 0:
            raise CheckCrashed(
                f"load: no request completed in the {what} stage "
                f"({stage.seconds or options.duration:g} s); is the target answering at "
                f"{spec['host']}?"
            )
        workers = f", {stage.workers} Locust workers" if stage.workers else ""
        if stage.rate is not None:
            model = (
                f"{stage.rate:g} req/s on a fixed schedule for {stage.seconds:.1f} s "
                f"(open model; latency from each request's intended send time, "
                f"{stage.late} sent more than 10 ms late)"
            )
        else:
            model = (
                f"{stage.users} users for {stage.seconds:.1f} s after their ramp{workers}, "
                f"wait {options.wait_time:g} s"
            )
        precision = (
            "HDR histogram, 3 significant digits"
            if stage.hdr
            else "Locust's buckets, rounded above 100 ms"
        )
        how = Evidence(
            "note",
            f"{model}; {stage.requests} requests, {stage.failures} failed; "
            f"percentiles: {precision}; mix: {mix}",
        )
        evidence = [how]
        if options.cpu_affinity is not None:
            pinned = options.cpu_affinity
            server = "not pinned (host:)" if options.host else ",".join(map(str, pinned.server))
            evidence.append(
                Evidence(
                    "note",
                    f"pinned: server cores {server}, "
                    f"generator cores {','.join(map(str, pinned.generator))}",
                )
            )
        if cpu is not None:
            evidence.append(Evidence("note", cpu.summary()))
        if stage.errors:
            evidence.append(Evidence("errors", summarize_errors(stage.errors)))
        why = generator_bound(cpu, busy=options.generator_busy) if cpu is not None else None
        if why is None and stage.rate is not None:
            why = schedule_slipped(stage.late, stage.requests)
        timing = (*evidence, Evidence(UNJUDGED_LABEL, f"{why}; {FIX}")) if why else tuple(evidence)
        rps = stage.rps_samples()
        measurements.append(
            Measurement(
                f"load/{label}/rps",
                stage.rps,
                "req/s",
                Direction.HIGHER,
                Kind.TIMING,
                samples=tuple(rps),
                evidence=(*timing, Evidence("note", "samples: throughput of each ~1 s window")),
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
                        *timing,
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
