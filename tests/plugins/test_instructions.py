"""The instructions check: Ir per request under callgrind, its evidence, its verdicts."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import shutil
from pathlib import Path

import pytest
from flask import Flask

from perfci.checks.instructions import Instructions, InstructionsOptions, count_environment
from perfci.checks.instructions import callgrind as _callgrind
from perfci.errors import CheckCrashed, CheckSkipped
from perfci.measurement import Direction, Evidence, Measurement, counts_evidence, parse_counts
from perfci.target.endpoint import Endpoint
from perfci.testing import run_context
from perfci.verdict.engine import judge
from perfci.verdict.model import Outcome, Rules
from tests.plugins.softfactory import SoftFactoryProject, explain

# What callgrind 3.19 writes for a dump a client requested: summary 0, the count in totals.
DUMP = """\
# callgrind format
version: 1
creator: callgrind-3.19.0
pid: 8382
cmd:  python worker.py
part: 3

desc: I1 cache:
desc: Trigger: Client Request: perfci 1 2

positions: line
events: Ir
summary: 0


totals: 104433445
"""


def test_total_ir_reads_the_totals_line_not_the_zero_summary() -> None:
    assert _callgrind.total_ir(DUMP) == 104_433_445
    with pytest.raises(ValueError, match="totals"):
        _callgrind.total_ir("events: Ir\n")


def test_read_dumps_keeps_measured_requests_only(tmp_path: Path) -> None:
    (tmp_path / "callgrind.out.1.2").write_text(DUMP)
    (tmp_path / "callgrind.out.1.1").write_text(
        DUMP.replace("perfci 1 2", "perfci priming").replace("104433445", "9")
    )
    (tmp_path / "callgrind.out.1").write_text(
        DUMP.replace("Client Request: perfci 1 2", "Program termination")
    )
    dumps = _callgrind.read_dumps(tmp_path)
    assert [(d.endpoint, d.request, d.ir) for d in dumps] == [(1, 2, 104_433_445)]


def job(endpoints: int) -> _callgrind.Job:
    return _callgrind.Job(
        app="toy:create_app",
        config={},
        endpoints=[Endpoint.parse(f"GET /e{n}") for n in range(endpoints)],
        warmup=1,
        requests=2,
        clear_cache=True,
        shim=Path("shim.so"),
    )


def test_a_job_splits_into_contiguous_shares_in_order() -> None:
    shares = job(10).split(3)
    assert [(first, [e.path for e in share.endpoints]) for first, share in shares] == [
        (0, ["/e0", "/e1", "/e2"]),
        (3, ["/e3", "/e4", "/e5"]),
        (6, ["/e6", "/e7", "/e8", "/e9"]),
    ]
    assert all(share.requests == 2 and share.warmup == 1 for _, share in shares)
    assert [first for first, _ in job(2).split(8)] == [0, 1]  # no more shares than endpoints
    ((first, whole),) = job(4).split(1)
    assert first == 0 and list(whole.endpoints) == list(job(4).endpoints)


def test_workers_side_by_side_report_as_one_job(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[str, list[str]]] = []

    def run_worker(
        tools: _callgrind.Tools, share: _callgrind.Job, directory: Path, **kwargs: object
    ) -> tuple[list[int], list[_callgrind.Dump]]:
        # Each share numbers its endpoints from 0; its status says which endpoint it was.
        seen.append((directory.name, [e.path for e in share.endpoints]))
        directory.mkdir(parents=True)
        paths = [e.path for e in share.endpoints]
        locations = [f"{p}/next" for p in paths]
        (directory / "result.json").write_text(json.dumps({"locations": locations}))
        dumps = [
            _callgrind.Dump(i, r, 1_000 * int(p[2:]) + r, directory / f"d{i}.{r}")
            for i, p in enumerate(paths)
            for r in range(share.requests)
        ]
        return [200 + int(p[2:]) for p in paths], dumps

    monkeypatch.setattr(_callgrind, "run_worker", run_worker)
    tools = _callgrind.Tools("valgrind", "cc", None, "3.19.0")
    statuses, dumps, locations = _callgrind.run_workers(
        tools, job(5), tmp_path, processes=2, cwd=tmp_path, timeout=60
    )
    assert sorted(seen) == [("worker0", ["/e0", "/e1"]), ("worker1", ["/e2", "/e3", "/e4"])]
    assert statuses == [200, 201, 202, 203, 204]
    assert [(d.endpoint, d.request, d.ir) for d in dumps] == [
        (e, r, 1_000 * e + r) for e in range(5) for r in range(2)
    ]
    assert locations == [f"/e{n}/next" for n in range(5)]  # from each worker's result.json


def test_a_failed_worker_fails_the_whole_job(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def run_worker(
        tools: _callgrind.Tools, share: _callgrind.Job, directory: Path, **kwargs: object
    ) -> tuple[list[int], list[_callgrind.Dump]]:
        if share.endpoints[0].path == "/e1":
            raise _callgrind.WorkerFailed("the worker under valgrind exited with 1: boom")
        return [200], []

    monkeypatch.setattr(_callgrind, "run_worker", run_worker)
    tools = _callgrind.Tools("valgrind", "cc", None, "3.19.0")
    with pytest.raises(_callgrind.WorkerFailed, match="boom"):
        _callgrind.run_workers(tools, job(2), tmp_path, processes=2, cwd=tmp_path, timeout=60)


ANNOTATE = """\
--------------------------------------------------------------------------------
Ir                   file:function
--------------------------------------------------------------------------------
9,000,000 (99.9%)  /src/Python/ceval.c:_PyEval_EvalFrameDefault [/lib/libpython3.11.so]
5,000,000 (55.0%)  /src/Modules/_hashopenssl.c:_hashlib_HASH_update [/lib/_hashlib.so]
4,900,000 (54.0%)  /src/Include/internal/pycore_call.h:_hashlib_HASH_update
  800,000 ( 8.0%)  /src/Objects/object.c:PyObject_GetAttr'2 [/lib/libpython3.11.so]
  900,000 ( 9.0%)  /src/Objects/object.c:PyObject_GetAttr [/lib/libpython3.11.so]
  700,000 ( 7.0%)  ???:0x000000000029ad80 [/usr/lib/x86_64-linux-gnu/libcrypto.so.3]
"""


def test_inclusive_costs_name_each_c_function_once_without_the_dispatch_functions() -> None:
    costs = _callgrind.parse_annotate(ANNOTATE, floor=0)
    assert costs == {"_hashlib_HASH_update": 5_000_000, "PyObject_GetAttr": 900_000}
    assert _callgrind.parse_annotate(ANNOTATE, floor=1_000_000) == {
        "_hashlib_HASH_update": 5_000_000
    }


def test_counts_evidence_round_trips_with_its_floor() -> None:
    evidence = counts_evidence("Python calls", {"app.serialize_chef": 12, "app.view": 1})
    assert parse_counts(evidence) == ({"app.serialize_chef": 12, "app.view": 1}, 0)
    cut = counts_evidence("C", {"big": 5_000, "small": 10}, floor=100)
    assert parse_counts(cut) == ({"big": 5_000}, 100)
    assert parse_counts(Evidence("note", "12  not a table")) is None


def test_a_row_below_the_floor_is_not_taken_for_a_change() -> None:
    def costs(table: dict[str, int]) -> Measurement:
        return Measurement(
            "instructions/GET /x/Ir",
            float(sum(table.values())),
            "instructions",
            Direction.LOWER,
            evidence=(counts_evidence("C", table, floor=1_000),),
        )

    before = costs({"view": 50_000, "edge": 1_100})
    after = costs({"view": 50_000, "edge": 900, "sha256": 9_000})
    verdict = judge([after], [before], RULES).verdicts[0]
    # edge fell from 1,100 to below 1,000: at least 101 fewer; sha256 came from below 1,000.
    assert verdict.notes == ("C: sha256 < 1,000 → 9,000; edge 1,100 → < 1,000",)


def ir(value: float, environment: dict[str, str], calls: int = 12) -> Measurement:
    return Measurement(
        "instructions/GET /chefs/Ir",
        value,
        "instructions",
        Direction.LOWER,
        evidence=(counts_evidence("Python calls", {"app.serialize_chef": calls, "app.view": 1}),),
        environment=environment,
    )


HERE = {"python": "CPython 3.11.7", "machine": "x86_64", "Flask": "3.1.3"}
RULES = Rules(today=dt.date(2026, 11, 30))


def test_ir_from_another_cpu_with_the_same_environment_is_judged() -> None:
    # The baseline's machine differs (another CPU model): timings would be "too noisy",
    # an instruction count is judged, with the calls that changed as the cause.
    foreign = dataclasses.replace(RULES, baseline_machine_differences=("cpu: Xeon → EPYC",))
    verdict = judge([ir(2_400_000, HERE, calls=24)], [ir(2_000_000, HERE)], foreign).verdicts[0]
    assert verdict.outcome is Outcome.REGRESSION
    assert "Python calls: app.serialize_chef 12 → 24" in verdict.notes


def test_a_small_change_still_shows_its_cause() -> None:
    verdict = judge([ir(2_100_000, HERE, calls=13)], [ir(2_000_000, HERE)], RULES).verdicts[0]
    assert verdict.outcome is Outcome.PASS
    assert "Python calls: app.serialize_chef 12 → 13" in verdict.notes


def test_ir_from_another_interpreter_is_not_comparable_and_names_the_difference() -> None:
    other = {**HERE, "python": "CPython 3.12.1"}
    verdict = judge([ir(3_000_000, HERE)], [ir(2_000_000, other)], RULES).verdicts[0]
    assert verdict.outcome is Outcome.NEW
    assert "another environment: python: CPython 3.12.1 → CPython 3.11.7" in verdict.reason


def test_measurement_environment_round_trips_and_bad_shapes_are_refused() -> None:
    measurement = ir(2_000_000, HERE)
    assert Measurement.from_dict(measurement.to_dict()).environment == HERE
    with pytest.raises(ValueError, match="environment"):
        Measurement.from_dict({**measurement.to_dict(), "environment": ["python"]})


def test_count_environment_names_what_the_count_depends_on() -> None:
    environment = count_environment(["Flask", "no-such-dist"], "3.19.0")
    assert {"python", "python build", "machine", "sqlite", "valgrind", "Flask"} <= set(environment)
    assert environment["no-such-dist"] == "not installed"
    assert environment["valgrind"] == "3.19.0"


def test_without_valgrind_the_check_is_skipped_with_the_install_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("perfci.checks.instructions.callgrind.shutil.which", lambda _name: None)
    app = Flask("instructions_test")
    with run_context(app, tmp_path, endpoints=["GET /"]) as ctx:
        ctx = dataclasses.replace(ctx, app_spec="target_api:create_app")
        with pytest.raises(CheckSkipped, match=r"valgrind not found.*apt-get install valgrind"):
            list(Instructions().collect(ctx, InstructionsOptions()))


def _require_valgrind() -> None:
    if shutil.which("valgrind") and _callgrind.HEADER.exists():
        return
    message = "valgrind (with its headers) is not installed"
    if os.environ.get("PERFCI_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{message}; PERFCI_REQUIRE_SERVICES=1 makes this a failure")
    pytest.skip(message)


@pytest.mark.slow
def test_gate_passes_then_catches_extra_cpu_work(softfactory: SoftFactoryProject) -> None:
    _require_valgrind()
    softfactory.configure(
        {"instructions": {"requests": 3, "warmup": 12}},
        endpoints=["GET /health", "GET /api/products"],
        # About 0.1 ms of hashing on /api requests under the slow fault: 48 blocks of 4 KiB.
        target_config={"SLOW_CPU_MS": 0.1},
    )
    softfactory.baseline()
    same = softfactory.gate()
    assert same.exit_code == 0, explain(same)
    slow = softfactory.gate("slow")
    assert slow.exit_code == 1, explain(slow)
    assert softfactory.failing() == {"instructions/GET /api/products/Ir": "regression"}
    verdict = next(
        v
        for v in softfactory.results()["verdicts"]
        if v["name"] == "instructions/GET /api/products/Ir"
    )
    notes = " ".join(verdict["notes"])
    assert "target_api.faults.burn_cpu 0 → 1" in notes
    assert "EVP_DigestUpdate < " in notes  # OpenSSL's hashing, by its C name, from below 1%
    profiles = list((softfactory.path / ".perfci" / "callgrind").iterdir())
    assert {p.name for p in profiles} == {
        "callgrind.out.GET_health",
        "callgrind.out.GET_api_products",
    }


@pytest.fixture
def fake_callgrind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The worker's side replaced: statuses it reports are the returned list's items."""
    statuses = [200]
    monkeypatch.setattr(
        _callgrind, "find_tools", lambda: _callgrind.Tools("valgrind", "cc", None, "3.19.0")
    )
    monkeypatch.setattr(_callgrind, "build_shim", lambda tools, directory: tmp_path / "shim.so")

    def run_worker(
        tools: _callgrind.Tools, job: _callgrind.Job, directory: Path, **kwargs: object
    ) -> tuple[list[int], list[_callgrind.Dump]]:
        directory.mkdir(parents=True, exist_ok=True)
        dumps = []
        for request, ir in enumerate((1_000, 1_200, 1_010)):
            path = directory / f"callgrind.out.1.{request}"
            path.write_text(DUMP)
            dumps.append(_callgrind.Dump(0, request, ir, path))
        return statuses, dumps

    monkeypatch.setattr(_callgrind, "run_worker", run_worker)
    return statuses


def view_app() -> Flask:
    app = Flask("instructions_view")

    def helper() -> int:
        return 1

    @app.get("/thing")
    def thing() -> dict[str, int]:
        return {"n": helper() + helper()}

    return app


def test_the_median_request_with_its_python_calls_and_environment(
    tmp_path: Path, fake_callgrind: list[int]
) -> None:
    with run_context(view_app(), tmp_path, endpoints=["GET /thing"]) as ctx:
        ctx = dataclasses.replace(ctx, app_spec="instructions_view:create_app")
        [measurement] = Instructions().collect(ctx, InstructionsOptions())
    assert measurement.name == "instructions/GET /thing/Ir"
    assert measurement.value == 1_010
    assert measurement.environment["valgrind"] == "3.19.0"
    tables = {e.label: parse_counts(e) for e in measurement.evidence}
    calls, floor = tables["counts: Python calls"] or ({}, -1)
    assert calls["test_instructions.view_app.<locals>.helper"] == 2
    assert floor == 0
    assert "1,000, 1,200, 1,010" in measurement.evidence[0].text
    assert (tmp_path / ".perfci" / "callgrind" / "callgrind.out.GET_thing").exists()


def test_an_error_response_is_a_crash_not_a_cheaper_request(
    tmp_path: Path, fake_callgrind: list[int]
) -> None:
    fake_callgrind[0] = 500
    with run_context(view_app(), tmp_path, endpoints=["GET /thing"]) as ctx:
        ctx = dataclasses.replace(ctx, app_spec="instructions_view:create_app")
        with pytest.raises(CheckCrashed, match="GET /thing answered HTTP 500"):
            list(Instructions().collect(ctx, InstructionsOptions()))


def test_the_worker_imports_the_target_from_where_this_process_did() -> None:
    import target_api

    assert _callgrind.import_root("target_api:create_app") == Path(target_api.__file__).parents[1]
    assert _callgrind.import_root("never_imported_module:create_app") is None
