"""The load check: window statistics, the Locust runner's protocol and process tree, the gate."""

from __future__ import annotations

import json
import math
import os
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from perfci.checks.load import (
    Load,
    LoadOptions,
    ProgressThrottle,
    build_spec,
    parse_event,
    progress_line,
    run_load,
    stage_measurements,
    stage_subject,
    wait_until_quiet,
)
from perfci.checks.load.stats import (
    StageResult,
    Window,
    WindowRecorder,
    histogram_delta,
    histogram_percentile,
)
from perfci.errors import CheckCrashed, ConfigError
from perfci.measurement import Direction, Kind
from perfci.target.endpoint import Endpoint
from tests.plugins.softfactory import SoftFactoryProject, explain

# --- statistics of windows (pure) --------------------------------------------


def test_histogram_percentile_follows_locust() -> None:
    histogram = {1: 50, 2: 40, 10: 9, 100: 1}
    assert histogram_percentile(histogram, 50) == 1
    assert histogram_percentile(histogram, 90) == 2
    assert histogram_percentile(histogram, 95) == 10
    assert histogram_percentile(histogram, 99.5) == 100
    assert math.isnan(histogram_percentile({}, 95))


def test_histogram_delta_keeps_only_what_was_added() -> None:
    assert histogram_delta({1: 5, 2: 3, 7: 1}, {1: 5, 2: 1}) == {2: 2, 7: 1}


def test_window_recorder_folds_empty_snapshots_into_the_next() -> None:
    recorder = WindowRecorder(started=0.0, requests=10, failures=0, response_times={1: 10})
    assert recorder.snapshot(1.0, 30, 1, {1: 25, 3: 5}) == Window(1.0, 20, 1, {1: 15, 3: 5})
    # A master between worker reports: nothing new, so no window closes...
    assert recorder.snapshot(2.0, 30, 1, {1: 25, 3: 5}) is None
    # ...and the next report covers both seconds.
    window = recorder.snapshot(3.0, 70, 1, {1: 60, 3: 10})
    assert window == Window(2.0, 40, 0, {1: 35, 3: 5})
    assert window.rps == 20.0


def stage(users: int = 5, failures: int = 0) -> StageResult:
    return StageResult(
        users=users,
        windows=(
            Window(1.0, 100, failures, {2: 90, 10: 10}),
            Window(1.0, 120, 0, {2: 100, 20: 20}),
        ),
        errors=(("GET /api/x", "HTTPError 500", failures),) if failures else (),
    )


def test_stage_round_trips_through_the_runner_protocol() -> None:
    original = stage(failures=3)
    assert StageResult.from_dict(json.loads(json.dumps(original.to_dict()))) == original


def test_stage_measurements_name_kind_direction_and_evidence() -> None:
    spec = build_spec("http://h", [Endpoint.parse("GET /api/x")], LoadOptions())
    stages = [(stage(50, failures=11), None)]
    made = {m.name: m for m in stage_measurements(stages, spec, LoadOptions())}
    assert list(made) == [
        "load/50users/rps",
        "load/50users/failure_ratio",
        "load/50users/p95",
        "load/50users/p99",
    ]
    rps = made["load/50users/rps"]
    assert (rps.kind, rps.direction, rps.unit) == (Kind.TIMING, Direction.HIGHER, "req/s")
    assert rps.value == pytest.approx(110.0) and rps.samples == (100.0, 120.0)
    failures = made["load/50users/failure_ratio"]
    assert (failures.kind, failures.direction, failures.unit) == (
        Kind.DETERMINISTIC,
        Direction.LOWER,
        "ratio",
    )
    assert failures.value == pytest.approx(11 / 220)
    assert any("11 x GET /api/x: HTTPError 500" in e.text for e in failures.evidence)
    p95 = made["load/50users/p95"]
    assert (p95.kind, p95.unit, p95.value) == (Kind.TIMING, "ms", 20.0)
    assert p95.samples == (10.0, 20.0)


def test_a_stage_without_any_completed_request_is_a_crash() -> None:
    empty = StageResult(users=5, windows=())
    spec = build_spec("http://h", [Endpoint.parse("/x")], LoadOptions())
    with pytest.raises(CheckCrashed, match="no request completed in the 5-user stage"):
        stage_measurements([(empty, None)], spec, LoadOptions())


# --- options and the spec ------------------------------------------------------


def test_spec_carries_weights_and_the_cache_choice() -> None:
    endpoints = [Endpoint.parse("GET /a?x=1"), Endpoint.parse("POST /b", json={"k": 1})]
    options = LoadOptions(weights={"GET /a?x=1": 3}, bypass_cache=True, workers=2)
    spec = build_spec("http://127.0.0.1:8000/", endpoints, options)
    assert spec["host"] == "http://127.0.0.1:8000"
    assert spec["distributed"] is True
    # Each request as Endpoint.wire builds it: the same bytes as in-process.
    assert spec["requests"] == [
        {
            "name": "GET /a?x=1",
            "method": "GET",
            "path": "/a?x=1",
            "body": None,
            "headers": {"Cache-Control": "no-cache"},
            "expect": [],
            "weight": 3,
        },
        {
            "name": "POST /b",
            "method": "POST",
            "path": "/b",
            "body": '{"k": 1}',
            "headers": {"Content-Type": "application/json", "Cache-Control": "no-cache"},
            "expect": [],
            "weight": 1.0,
        },
    ]


def test_spec_carries_the_login_not_credentials() -> None:
    endpoints = [Endpoint.parse("GET /a").with_credentials({"Cookie": "session=secret"})]
    auth = {"request": "POST /login", "data": {"user": "a"}}
    spec = build_spec("http://h", endpoints, LoadOptions(), auth=auth, headers={"X-T": "1"})
    assert spec["auth"] == auth
    assert spec["headers"] == {"X-T": "1"}
    assert "secret" not in json.dumps(spec["requests"])


def test_weights_must_name_a_loaded_endpoint() -> None:
    with pytest.raises(ConfigError, match=r"'GET /nope' is not one of the loaded endpoints"):
        build_spec("http://h", [Endpoint.parse("/a")], LoadOptions(weights={"GET /nope": 2}))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"stages": [0]}, "at least 1 user"),
        ({"stages": [5, 5]}, "different number of users"),
        ({"master_bind": "5557"}, "expected HOST:PORT"),
        ({"external_workers": 2}, "external_workers needs master_bind"),
        ({"weights": {"GET /a": 0}}, "must be positive"),
    ],
)
def test_options_are_validated(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        LoadOptions(**options)


def test_the_check_holds_failures_to_its_own_limit() -> None:
    (rule,) = Load().budgets(LoadOptions())
    assert (rule.pattern, rule.max, rule.min) == ("load/*users/failure_ratio", 0.0, None)
    (rule,) = Load().budgets(LoadOptions.model_validate({"max_failure_ratio": "1%"}))
    assert rule.max == pytest.approx(0.01)
    assert Load().budgets(LoadOptions(max_failure_ratio=None)) == ()


def test_progress_is_throttled_to_a_few_lines_per_stage() -> None:
    throttle = ProgressThrottle(duration=10)
    events = [{"stage": s, "elapsed": e, "duration": 10} for s in (1, 2) for e in range(1, 11)]
    shown = [(e["stage"], e["elapsed"]) for e in events if throttle.due(e)]
    assert shown == [(stage, second) for stage in (1, 2) for second in (1, 3, 5, 7, 9, 10)]
    line = progress_line(
        {"stage": 1, "stages": 3, "users": 50, "rps": 812.4, "failures": 0}
        | {"elapsed": 4.0, "duration": 10.0}
    )
    assert line == "load: stage 1/3, 50 users, 812 req/s, 0 failures (4/10 s)"


def test_unexpected_runner_output_is_named() -> None:
    assert parse_event(b'{"event": "done"}\n') == {"event": "done"}
    with pytest.raises(CheckCrashed, match="unexpected output from the Locust runner: 'oops'"):
        parse_event(b"oops\n")


# --- the runner subprocess against a tiny HTTP server ------------------------


#: When the test server started: /stall answers nothing for the first second of every two.
STARTED = time.monotonic()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        if self.path.startswith("/stall"):
            phase = (time.monotonic() - STARTED) % 2.0
            if phase < 1.0:
                time.sleep(1.0 - phase)
        status = 404 if self.path.startswith("/missing") else 200
        body = b"ok"
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def http_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def group_gone(pgid: int, within: float = 5.0) -> bool:
    """No process left in the group (killed orphans may take a moment to be reaped)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


def test_waits_for_a_quiet_server(http_server: str) -> None:
    assert wait_until_quiet(http_server + "/ok", quick=1.0)
    # Nothing listens on port 9 (discard) here: never quiet, and the wait ends on time.
    assert not wait_until_quiet("http://127.0.0.1:9/none", timeout=0.3)


@pytest.mark.slow
def test_runner_reports_every_stage_with_failures_and_errors(
    http_server: str, tmp_path: Path
) -> None:
    endpoints = [Endpoint.parse("/ok"), Endpoint.parse("/missing")]
    options = LoadOptions(stages=[2, 3], duration=1.0, wait_time=0.01)
    lines: list[str] = []
    stages = run_load(
        build_spec(http_server, endpoints, options), tmp_path, progress=lines.append, timeout=60
    )
    assert [s.users for s, _ in stages] == [2, 3]
    for result, cpu in stages:
        # The CPU of the runner was measured over the stage (no server pid given).
        assert cpu is not None and cpu.wall > 0 and cpu.requests == result.requests
        assert cpu.processes and {p.role for p in cpu.processes} == {"generator"}
        # Linux's run-queue wait is read where the kernel keeps it.
        assert all(p.waited is None or p.waited >= 0 for p in cpu.processes)
        assert result.requests > 0
        # Half the mix answers 404: Locust counts those as failures.
        assert 0.2 < result.failure_ratio < 0.8
        assert result.errors[0][0] == "GET /missing"
        # One local process sees every response: percentiles at full precision.
        assert result.hdr and all(w.hdr for w in result.windows)
    assert any(line.startswith("load: stage 2/2, 3 users") for line in lines)


@pytest.mark.slow
def test_local_workers_generate_the_load_through_a_master(http_server: str, tmp_path: Path) -> None:
    options = LoadOptions(stages=[2], duration=1.5, wait_time=0.01, workers=1)
    lines: list[str] = []
    ((result, cpu),) = run_load(
        build_spec(http_server, [Endpoint.parse("/ok")], options),
        tmp_path,
        progress=lines.append,
        timeout=60,
    )
    # The runner (master) and its worker are both counted as the generator.
    assert cpu is not None and len([p for p in cpu.processes if p.role == "generator"]) == 2
    assert not result.hdr  # the master sees Locust's buckets only
    assert result.workers == 1 and result.requests > 0 and result.failures == 0
    assert any("waiting for 1 Locust workers" in line for line in lines)


@pytest.mark.slow
def test_an_arrival_rate_stage_shows_a_stall_that_a_closed_model_hides(
    http_server: str, tmp_path: Path
) -> None:
    # /stall stops answering for 1 s every 2 s. On a fixed schedule of 100 req/s, half
    # the requests are due during a stall and wait up to its end, counted from when they
    # were due: p99 is most of the stall.
    rate = {"rate": "100/s", "duration": 4, "connections": 20}
    options = LoadOptions.model_validate({"stages": [rate], "timeout": 5})
    spec = build_spec(http_server, [Endpoint.parse("/stall")], options)
    ((result, cpu),) = run_load(spec, tmp_path, progress=lambda line: None, timeout=60)
    assert (result.rate, result.label, result.failures) == (100.0, "100rps", 0)
    assert result.requests == 400  # every scheduled request, whatever the stalls did
    assert result.hdr and len(result.windows) == 4
    assert result.percentile(99) >= 500.0
    assert result.percentile(50) < result.percentile(99)
    assert cpu is not None and cpu.requests == 400
    (made,) = [m for m in stage_measurements([(result, None)], spec, options) if m.metric == "p99"]
    assert made.name == "load/100rps/p99" and made.value == result.percentile(99)
    assert any("open model" in e.text and "HDR histogram" in e.text for e in made.evidence)


def test_rate_stages_parse_and_refuse_workers() -> None:
    options = LoadOptions.model_validate({"stages": [50, {"rate": "2000/s", "duration": 10}]})
    assert [stage_subject(s) for s in options.stages] == ["50users", "2000rps"]
    spec = build_spec("http://h", [Endpoint.parse("/x")], options)
    assert spec["stages"] == [50, {"rate": 2000.0, "duration": 10.0, "connections": 100}]
    assert LoadOptions.model_validate({"stages": [{"rate": "500 req/s"}]}).stages != []
    with pytest.raises(ValidationError, match="cannot use workers"):
        LoadOptions.model_validate({"stages": [{"rate": 10}], "workers": 2})
    with pytest.raises(ValidationError, match="expected a rate such as 2000/s"):
        LoadOptions.model_validate({"stages": [{"rate": "fast"}]})
    with pytest.raises(ValidationError, match="different number of users"):
        LoadOptions.model_validate({"stages": [{"rate": 10}, {"rate": "10/s"}]})


@pytest.mark.slow
def test_runner_errors_are_one_line_and_leave_no_process(http_server: str, tmp_path: Path) -> None:
    # An external worker that never comes: the master gives up after worker_timeout.
    options = LoadOptions(
        stages=[1], duration=1, master_bind="127.0.0.1:0", external_workers=1, worker_timeout=1
    )
    spec = build_spec(http_server, [Endpoint.parse("/ok")], options)
    with pytest.raises(CheckCrashed, match="only 0 of 1 Locust workers connected within 1 s"):
        run_load(spec, tmp_path, progress=lambda line: None, timeout=60)


@pytest.mark.slow
def test_a_runner_that_overruns_is_killed(http_server: str, tmp_path: Path) -> None:
    options = LoadOptions(stages=[1], duration=30, wait_time=0.05)
    spec = build_spec(http_server, [Endpoint.parse("/ok")], options)
    with pytest.raises(CheckCrashed, match="did not finish in time"):
        run_load(spec, tmp_path, progress=lambda line: None, timeout=2)
    assert group_gone(int((tmp_path / "runner.pid").read_text()))


@pytest.mark.slow
def test_ctrl_c_stops_the_runner_and_its_workers(http_server: str, tmp_path: Path) -> None:
    def interrupt(line: str) -> None:
        if line.startswith("load: stage"):
            raise KeyboardInterrupt

    # A local worker, so the process group holds the runner and its worker.
    options = LoadOptions(stages=[1], duration=30, wait_time=0.05, workers=1)
    spec = build_spec(http_server, [Endpoint.parse("/ok")], options)
    with pytest.raises(KeyboardInterrupt):
        run_load(spec, tmp_path, progress=interrupt, timeout=60)
    assert group_gone(int((tmp_path / "runner.pid").read_text()))


# --- end to end against target_api ------------------------------------------

ENDPOINTS = ["GET /api/coocook/chefs/1", "GET /api/products"]


@pytest.mark.slow
def test_small_load_passes_against_the_optimized_api(softfactory: SoftFactoryProject) -> None:
    softfactory.configure(
        {"load": {"stages": [4], "duration": 1.5}},
        endpoints=ENDPOINTS,
        extra={"budgets": {"load/4users/failure_ratio": {"max": 0}}},
    )
    first = softfactory.baseline()
    assert "load: stage 1/1, 4 users" in first.output
    run = softfactory.gate()
    assert run.exit_code == 0, explain(run)
    outcomes = {v["name"]: v["outcome"] for v in softfactory.results()["verdicts"]}
    assert set(outcomes) == {
        "load/4users/rps",
        "load/4users/failure_ratio",
        "load/4users/p95",
        "load/4users/p99",
    }
    assert outcomes["load/4users/failure_ratio"] == "pass"


@pytest.mark.slow
def test_failures_and_the_slow_fault_break_their_budgets(softfactory: SoftFactoryProject) -> None:
    # One run, two bottlenecks: an endpoint answering 404 (failures) and 150 ms of CPU per
    # request (the slow fault), so the stage's p95 cannot stay under 140 ms.
    softfactory.configure(
        {"load": {"stages": [2], "duration": 1.5}},
        endpoints=["GET /api/products", "GET /api/coocook/chefs/999999"],
        target_config={"SLOW_CPU_MS": 150},
        # No failure budget in perfci.yaml: the check holds failures to 0 itself.
        extra={"budgets": {"load/2users/p95": {"max": "140ms"}}, "baselines": {"required": False}},
    )
    run = softfactory.gate("slow")
    assert run.exit_code == 1, explain(run)
    assert softfactory.failing() == {
        "load/2users/failure_ratio": "budget_violation",
        "load/2users/p95": "budget_violation",
    }
    assert "exceeds the budget max 140 ms" in run.stdout
    assert "exceeds the budget max 0% ('load/*users/failure_ratio', check load)" in run.stdout
    assert "GET /api/coocook/chefs/999999" in run.stdout  # the errors are the evidence


@pytest.mark.slow
def test_an_arrival_rate_stage_through_perfci_run(softfactory: SoftFactoryProject) -> None:
    # The open model from perfci.yaml to verdicts: `rate: 40/s` names the stage's metrics.
    softfactory.configure(
        {"load": {"stages": [{"rate": "40/s", "duration": 2, "connections": 10}]}},
        endpoints=ENDPOINTS,
        extra={"budgets": {"load/40rps/p99": {"max": "5s"}}, "baselines": {"required": False}},
    )
    run = softfactory.gate()
    assert run.exit_code == 0, explain(run)
    assert "load: stage 1/1, 40 req/s scheduled" in run.output
    verdicts = {v["name"]: v for v in softfactory.results()["verdicts"]}
    assert set(verdicts) == {
        "load/40rps/rps",
        "load/40rps/failure_ratio",
        "load/40rps/p95",
        "load/40rps/p99",
    }
    p99 = verdicts["load/40rps/p99"]
    assert p99["mode"] == "budget" and p99["current"]["unit"] == "ms"
    notes = " ".join(e["text"] for e in p99["current"]["evidence"])
    assert "40 req/s on a fixed schedule" in notes and "HDR histogram" in notes
