"""The load generator of the 'load' check: Locust as a library, in its own process.

Never import this module in the perfci process: Locust patches the standard
library with gevent when it is imported, and gevent must patch it before the
parent packages are imported (``gevent.monkey --module`` does that first). The
load check runs it as

    python -m gevent.monkey --module perfci.checks.load.runner run SPEC.json

and reads JSON lines from its stdout (``progress``, ``measuring``, ``stage``,
``error``, ``done``; see ``stats`` for the stage format). A users stage runs
Locust users; an arrival-rate stage (``run_rate_stage``) sends requests on a
fixed schedule with geventhttpclient, Locust's own HTTP client, outside
Locust's user model. With ``workers`` or
``master_bind`` in the spec it runs a Locust master and the load comes from
worker processes, local ones it starts itself and external ones started with

    python -m gevent.monkey --module perfci.checks.load.runner worker \
        --master-host HOST [--master-port 5557]

Workers need nothing but this command: the request plan travels from the
master to the workers inside Locust's spawn messages.
"""

# Locust must be imported before anything that opens sockets (gevent monkey-patching).
import locust  # noqa: I001  (import order matters, see above)
from locust import FastHttpUser, task
from locust.env import Environment
from locust.runners import STATE_STOPPED

import argparse
import http.cookiejar
import contextlib
import json
import math
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

# gevent ships no type information (and pyproject.toml's ignore list does not name it).
import gevent
import gevent.event
import gevent.pool
import locust.runners
from geventhttpclient import HTTPClient
from hdrh.histogram import HdrHistogram

import requests

from perfci import die_with_parent
from perfci import LOGIN_PATH, AuthConfig, HttpClient, TargetError, login

from . import RUNNER_COMMAND
from .stats import StageResult, Window, WindowRecorder, encode_hdr, new_hdr, record_us


def _alias_redirect_codes() -> None:
    """``allow_redirects=False`` on every Locust and geventhttpclient pip may pair.

    Locust before 2.47 turns redirects off through the user agent's
    ``redirect_resonse_codes`` (sic), which geventhttpclient 2.5 renamed
    ``redirect_response_codes``: with locust 2.29-2.46 and a newer
    geventhttpclient every request raised AttributeError. The old name is made
    an alias of the new one on Locust's agent; nothing changes where both agree.
    """
    from locust.contrib.fasthttp import LocustUserAgent

    if hasattr(LocustUserAgent, "redirect_resonse_codes"):
        return

    def get(agent: Any) -> Any:
        return agent.redirect_response_codes

    def put(agent: Any, codes: Any) -> None:
        agent.redirect_response_codes = codes

    setattr(LocustUserAgent, "redirect_resonse_codes", property(get, put))  # noqa: B010


_alias_redirect_codes()

#: An arrival-rate request sent later than this after its intended time counts as late.
LATE_SECONDS = 0.010

#: How often workers report to the master (Locust's default is 3 s): windows stay about 1 s.
WORKER_REPORT_INTERVAL = 1.0
PLAN_OPTION = "perfci_plan"


@lru_cache(maxsize=4)
def _plan(text: str) -> dict[str, Any]:
    plan: dict[str, Any] = json.loads(text)
    return plan


class PerfciUser(FastHttpUser):
    """Issues the plan's requests, chosen by weight, as fast as ``wait_time`` allows.

    The plan (requests, weights, timeouts) is read from the environment's
    parsed options, which Locust forwards from the master to every worker.
    """

    def __init__(self, environment: Environment) -> None:
        plan = _plan(getattr(environment.parsed_options, PLAN_OPTION))
        self.plan_requests = plan["requests"]
        self.plan_weights = [r["weight"] for r in self.plan_requests]
        self.plan_wait = float(plan["wait_time"])
        self.plan_auth = plan.get("auth")
        self.plan_headers = plan.get("headers") or {}
        self.network_timeout = float(plan["timeout"])
        self.connection_timeout = float(plan["timeout"])
        self.credentials: dict[str, str] = {}
        self.login_error: str | None = None
        super().__init__(environment)
        # Cookies are the login's only, sent as a header (as in-process): no jar of its own.
        self.client.cookiejar.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))

    def on_start(self) -> None:
        """Log in once for this user (``target.auth``), outside Locust's statistics."""
        if self.plan_auth is None:
            return
        with requests.Session() as session:
            client = HttpClient(session, str(self.host).rstrip("/"), self.plan_headers)
            try:
                self.credentials = login(
                    AuthConfig.model_validate(self.plan_auth), client.send, self.plan_headers
                )
            except TargetError as error:
                self.login_error = error.message

    def wait_time(self) -> float:
        return self.plan_wait

    @task
    def request(self) -> None:
        (chosen,) = random.choices(self.plan_requests, weights=self.plan_weights)
        if self.login_error is not None:
            # Every request of a user that could not log in is a failure: never a pass.
            self.environment.events.request.fire(
                request_type=chosen["method"],
                name=chosen["name"],
                response_time=0,
                response_length=0,
                exception=RuntimeError(self.login_error),
                context={},
            )
            return
        body = chosen.get("body")
        names = {name.lower() for name in chosen["headers"]}
        headers = {k: v for k, v in self.credentials.items() if k.lower() not in names}
        headers.update(chosen["headers"])
        # Redirects are not followed (as in-process): a redirect to a login page, or any
        # status the endpoint does not expect, is a failed request, not a fast one.
        with self.client.request(
            chosen["method"],
            chosen["path"],
            name=chosen["name"],
            headers=headers,
            data=None if body is None else body.encode("latin-1"),
            allow_redirects=False,
            catch_response=True,
        ) as response:
            status = response.status_code or 0
            if not expected(status, response.headers.get("Location"), chosen.get("expect")):
                response.failure(f"HTTP {status}")


def expected(status: int, location: str | None, expect: list[int] | None) -> bool:
    """``Endpoint.expects`` for the plan's plain data (this process imports no Flask)."""
    if expect:
        return status in expect
    if 300 <= status < 400 and location and LOGIN_PATH.search(urlsplit(location).path):
        return False
    return 200 <= status < 400


def emit(event: str, **data: Any) -> None:
    sys.stdout.write(json.dumps({**data, "event": event}) + "\n")
    sys.stdout.flush()


def _options(spec: Mapping[str, Any]) -> argparse.Namespace:
    plan = {key: spec.get(key) for key in ("requests", "wait_time", "timeout", "auth", "headers")}
    return argparse.Namespace(
        headless=True, enable_rebalancing=False, **{PLAN_OPTION: json.dumps(plan)}
    )


def _totals(env: Environment) -> tuple[int, int, dict[int, int]]:
    total = env.stats.total
    return total.num_requests, total.num_failures, dict(total.response_times)


def _errors(env: Environment) -> dict[tuple[str, str], int]:
    # Request names are endpoint subjects, which already start with the method.
    return {(e.name, str(e.error)): e.occurrences for e in env.stats.errors.values()}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _start_local_workers(count: int, port: int) -> list[subprocess.Popen[bytes]]:
    command = [sys.executable, *RUNNER_COMMAND, "worker"]
    command += ["--master-host", "127.0.0.1", "--master-port", str(port)]
    return [
        subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=sys.stderr, preexec_fn=die_with_parent
        )
        for _ in range(count)
    ]


def _wait_for_workers(runner: Any, expected: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while runner.worker_count < expected:
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"only {runner.worker_count} of {expected} Locust workers connected "
                f"within {timeout:g} s"
            )
        gevent.sleep(0.1)


class ResponseTimes:
    """Every response time Locust reports in this process, in an HDR histogram (µs).

    Only a local runner sees every request (under a master they happen in the
    workers, which report Locust's rounded buckets): there this gives the
    stage full-precision percentiles.
    """

    def __init__(self, env: Environment) -> None:
        self.hdr = new_hdr()
        env.events.request.add_listener(self.on_request)  # type: ignore[no-untyped-call]

    def on_request(self, response_time: float, **_: Any) -> None:
        record_us(self.hdr, response_time * 1000.0)  # Locust reports milliseconds

    def reset(self) -> None:
        self.hdr = new_hdr()


def run_stage(
    env: Environment,
    runner: Any,
    users: int,
    spec: Mapping[str, Any],
    index: int,
    times: ResponseTimes | None = None,
) -> StageResult:
    """Ramp to ``users``, then measure for ``duration`` seconds in windows of ``interval``."""
    spawned = gevent.event.Event()

    def on_spawned(**_: Any) -> None:
        spawned.set()

    env.events.spawning_complete.add_listener(on_spawned)  # type: ignore[no-untyped-call]
    try:
        spawn_rate = float(spec["spawn_rate"] or max(users, 1))
        gevent.spawn(runner.start, users, spawn_rate)
        ramp_timeout = users / spawn_rate + float(spec["worker_timeout"])
        if not spawned.wait(timeout=ramp_timeout):
            raise RuntimeError(f"{users} users were not spawned within {ramp_timeout:g} s")
    finally:
        env.events.spawning_complete.remove_listener(on_spawned)  # type: ignore[no-untyped-call]
    emit("measuring", stage=index + 1)  # the check snapshots CPU times here
    errors_before = _errors(env)
    requests, failures, histogram = _totals(env)
    if times is not None:
        times.reset()  # no yield since the totals above: the two agree
    start = time.monotonic()
    recorder = WindowRecorder(start, requests, failures, histogram)
    duration, interval = float(spec["duration"]), float(spec["interval"])
    stages = len(spec["stages"])
    # Windows end on a fixed grid (start + k * interval): a late wake-up on a busy machine
    # shortens the next window instead of shifting every later one, so a stage of
    # ``duration`` seconds yields ceil(duration / interval) windows.
    boundary = start
    while (now := time.monotonic()) < start + duration:
        while boundary <= now:
            boundary = min(boundary + interval, start + duration)
        gevent.sleep(boundary - now)
        requests, failures, histogram = _totals(env)
        hdr = times.hdr if times is not None else None
        if recorder.snapshot(time.monotonic(), requests, failures, histogram, hdr) and times:
            times.reset()
        elapsed = time.monotonic() - start
        measured = sum(w.requests for w in recorder.windows)
        emit(
            "progress",
            stage=index + 1,
            stages=stages,
            users=runner.user_count,
            elapsed=round(elapsed, 1),
            duration=duration,
            requests=measured,
            rps=round(measured / max(elapsed, 1e-9), 1),
            failures=sum(w.failures for w in recorder.windows),
        )
    after = _errors(env)
    errors = [
        (name, error, count - errors_before.get((name, error), 0))
        for (name, error), count in after.items()
        if count > errors_before.get((name, error), 0)
    ]
    return StageResult(
        users=users,
        windows=tuple(recorder.windows),
        errors=tuple(sorted(errors, key=lambda e: -e[2])),
        workers=getattr(runner, "worker_count", 0) if spec["distributed"] else 0,
    )


@dataclass
class _RateWindow:
    requests: int = 0
    failures: int = 0
    hdr: HdrHistogram = field(default_factory=new_hdr)


def rate_login(spec: Mapping[str, Any]) -> tuple[dict[str, str], str | None]:
    """``target.auth`` once for an arrival-rate stage: (credentials, None) or ({}, why not)."""
    auth, shared = spec.get("auth"), dict(spec.get("headers") or {})
    if auth is None:
        return {}, None
    with requests.Session() as session:
        client = HttpClient(session, str(spec["host"]).rstrip("/"), shared)
        try:
            return login(AuthConfig.model_validate(auth), client.send, shared), None
        except TargetError as error:
            return {}, error.message


def run_rate_stage(spec: Mapping[str, Any], stage: Mapping[str, Any], index: int) -> StageResult:
    """Send ``rate`` requests/s on a fixed schedule for ``duration`` s (the open model).

    Request i is due at ``start + i / rate``, whatever the earlier ones are doing:
    it waits for one of ``connections`` connections if they are all busy, and its
    latency is measured from when it was due, not from when it went out (the
    coordinated-omission correction wrk2 makes). Windows are cut by due time, so a
    server stall shows in the windows whose requests it delayed.
    """
    rate, duration = float(stage["rate"]), float(stage["duration"])
    interval, timeout = float(spec["interval"]), float(spec["timeout"])
    plan, weights = spec["requests"], [r["weight"] for r in spec["requests"]]
    # A host with a path (http://gateway/api) prefixes every request, as Locust's users do.
    prefix = urlsplit(spec["host"]).path.rstrip("/")
    client = HTTPClient.from_url(
        spec["host"] + "/",
        concurrency=int(stage["connections"]),
        connection_timeout=timeout,
        network_timeout=timeout,
    )
    windows = [_RateWindow() for _ in range(max(math.ceil(duration / interval - 1e-9), 1))]
    errors: Counter[tuple[str, str]] = Counter()
    completed = [0, 0]  # requests, failures: for the progress lines
    total = max(int(rate * duration), 1)
    late = 0

    # One login for the schedule's connections (target.auth), outside the measurement;
    # a failed one makes every request of the stage a failure, never a pass.
    credentials, login_error = rate_login(spec)

    def send(due: float, start: float) -> None:
        (chosen,) = random.choices(plan, weights=weights)
        error = ""
        try:
            if login_error is not None:
                raise RuntimeError(login_error)
            body = chosen.get("body")
            names = {name.lower() for name in chosen["headers"]}
            headers = {k: v for k, v in credentials.items() if k.lower() not in names}
            headers.update(chosen["headers"])
            path = prefix + chosen["path"]
            response = client.request(
                chosen["method"],
                path,
                body=None if body is None else body.encode("latin-1"),
                headers=headers,
            )
            try:
                response.read()
            finally:
                response.release()
            status = response.status_code
            # The same rule as the closed model's users (expect, login redirects).
            location = response.get("Location")
            location = location if isinstance(location, str) else None
            if not expected(status, location, chosen.get("expect")):
                error = f"HTTP {status}"
        except Exception as failure:  # a connection error or a timeout is a failed request
            error = f"{type(failure).__name__}: {failure}"
        window = windows[min(int((due - start) / interval), len(windows) - 1)]
        window.requests += 1
        completed[0] += 1
        if error:
            window.failures += 1
            completed[1] += 1
            errors[(chosen["name"], error)] += 1
        record_us(window.hdr, (time.monotonic() - due) * 1e6)

    group = gevent.pool.Group()
    emit("measuring", stage=index + 1)
    start = time.monotonic()
    sent, shown = 0, 0
    while sent < total:
        now = time.monotonic()
        due_now = min(total, int((now - start) * rate) + 1)
        while sent < due_now:
            due = start + sent / rate
            late += now - due > LATE_SECONDS
            group.spawn(send, due, start)
            sent += 1
        if int(now - start) > shown:
            shown = int(now - start)
            emit(
                "progress",
                stage=index + 1,
                stages=len(spec["stages"]),
                users=0,
                rate=rate,
                elapsed=round(now - start, 1),
                duration=duration,
                requests=completed[0],
                rps=round(completed[0] / max(now - start, 1e-9), 1),
                failures=completed[1],
            )
        if sent < total:
            gevent.sleep(max(start + sent / rate - time.monotonic(), 0.0))
    group.join(timeout=timeout + 1.0)  # the requests still in flight (each has ``timeout``)
    group.kill()
    client.close()
    seconds = [min(interval, duration - i * interval) for i in range(len(windows))]
    return StageResult(
        users=0,
        rate=rate,
        late=late,
        windows=tuple(
            Window(s, w.requests, w.failures, {}, encode_hdr(w.hdr))
            for s, w in zip(seconds, windows, strict=True)
            if w.requests
        ),
        errors=tuple((n, e, c) for (n, e), c in errors.most_common()),
    )


def run(spec: Mapping[str, Any]) -> int:
    env = Environment(user_classes=[PerfciUser], host=spec["host"], parsed_options=_options(spec))
    workers: list[subprocess.Popen[bytes]] = []
    runner: Any = None
    try:
        if spec["distributed"]:
            host, port = "127.0.0.1", 0
            if spec["master_bind"]:
                host, _, text = spec["master_bind"].rpartition(":")
                port = int(text)
            port = port or _free_port()
            runner = env.create_master_runner(master_bind_host=host, master_bind_port=port)
            workers = _start_local_workers(int(spec["workers"]), port)
            expected = int(spec["workers"]) + int(spec["external_workers"])
            emit("waiting", workers=expected, master=f"{host}:{port}")
            _wait_for_workers(runner, expected, float(spec["worker_timeout"]))
        else:
            runner = env.create_local_runner()
        times = None if spec["distributed"] else ResponseTimes(env)
        for index, stage in enumerate(spec["stages"]):
            if isinstance(stage, Mapping):  # an arrival rate: no Locust users
                if runner.user_count:
                    runner.stop()
                done = run_rate_stage(spec, stage, index)
            else:
                done = run_stage(env, runner, int(stage), spec, index, times)
            result = done.to_dict()
            emit(result.pop("event"), **result)
        emit("done")
        return 0
    except Exception as error:  # reported to the check as one line, with the type
        emit("error", message=f"{type(error).__name__}: {error}")
        return 1
    finally:
        if runner is not None and runner.state != STATE_STOPPED:
            runner.quit()
        for process in workers:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)
            if process.poll() is None:
                process.kill()
                process.wait()


def work(master_host: str, master_port: int) -> int:
    """A Locust worker: takes spawn jobs (and the request plan) from the master until it quits."""
    locust.runners.WORKER_REPORT_INTERVAL = WORKER_REPORT_INTERVAL
    env = Environment(user_classes=[PerfciUser])
    runner = env.create_worker_runner(master_host, master_port)
    runner.greenlet.join()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=" ".join(["python", *RUNNER_COMMAND]))
    commands = parser.add_subparsers(dest="command", required=True)
    run_parser = commands.add_parser(
        "run", help="run the stages of a spec (JSON file, - for stdin)"
    )
    run_parser.add_argument("spec")
    worker = commands.add_parser("worker", help="generate load for a perfci master")
    worker.add_argument("--master-host", default="127.0.0.1")
    worker.add_argument("--master-port", type=int, default=5557)
    args = parser.parse_args(argv)
    # SIGTERM (the check stopping us, or our parent dying) ends the run like Ctrl-C.
    signal.signal(signal.SIGTERM, lambda signum, _frame: sys.exit(128 + signum))
    if args.command == "worker":
        return work(args.master_host, args.master_port)
    with open(args.spec) if args.spec != "-" else contextlib.nullcontext(sys.stdin) as stream:
        spec = json.load(stream)
    return run(spec)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
