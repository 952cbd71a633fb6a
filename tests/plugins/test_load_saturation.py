"""The generator-bound rule on made-up CPU figures, and what it does to a stage's metrics."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import replace

import pytest
from pydantic import ValidationError

from perfci.checks.load import LoadOptions, build_spec, stage_measurements
from perfci.checks.load.cpu import pin, restore
from perfci.checks.load.saturation import (
    FIX,
    GENERATOR,
    SERVER,
    ProcessCpu,
    StageCpu,
    generator_bound,
    schedule_slipped,
)
from perfci.checks.load.stats import StageResult, Window
from perfci.measurement import UNJUDGED_LABEL
from perfci.target.endpoint import Endpoint
from tests.plugins.softfactory import SoftFactoryProject, explain


def cpu(
    generator: list[float],
    server: list[float],
    *,
    wall: float = 10.0,
    core_busy: dict[int, float] | None = None,
    generator_cores: tuple[int, ...] = (),
    server_cores: tuple[int, ...] = (),
    requests: int = 30_000,
) -> StageCpu:
    """CPU seconds per process of each side over ``wall`` seconds."""
    processes = [
        ProcessCpu(GENERATOR, 100 + i, "python", s, generator_cores)
        for i, s in enumerate(generator)
    ] + [ProcessCpu(SERVER, 200 + i, "gunicorn", s, server_cores) for i, s in enumerate(server)]
    return StageCpu(wall, tuple(processes), core_busy or {}, requests)


def test_a_locust_process_near_a_full_core_is_generator_bound() -> None:
    # The case: one Locust process at 9.7 of 10 s, gunicorn at 8 s.
    why = generator_bound(cpu([9.7], [4.0, 4.0]))
    assert why == (
        "generator-bound: Locust process 100 (python) used 97% of a core, "
        "its ceiling (one core per process)"
    )


def test_one_busy_worker_among_several_is_enough() -> None:
    assert generator_bound(cpu([2.0, 9.5, 3.0], [5.0])) is not None


def test_a_cpu_hog_on_the_generators_own_core_is_generator_bound() -> None:
    # A CPU hog shares the generator's core 1: the core is full, the generator had half of it.
    figures = cpu(
        [5.0],
        [7.0],
        core_busy={0: 7.2, 1: 9.98},
        generator_cores=(1,),
        server_cores=(0,),
    )
    assert generator_bound(figures) == (
        "generator-bound: the generator's cores (1) were 100% busy and other work than the "
        "generator and the server used 50% of them: the generator shared its CPU, so its "
        "requests/s and the response times it measured are not the server's alone"
    )


def pinned(on_cpu: float, waited: float, core1: float, *, server: bool = True) -> StageCpu:
    """Server on core 0, generator on core 1 (``core1`` busy seconds of 10), waits known."""
    processes = [ProcessCpu(GENERATOR, 100, "python", on_cpu, (1,), waited)]
    if server:
        processes.append(ProcessCpu(SERVER, 200, "gunicorn", 9.9, (0,), 0.2))
    return StageCpu(10.0, tuple(processes), {0: 10.0, 1: core1}, 19_000)


def test_a_hog_the_generator_hardly_waited_for_is_still_generator_bound() -> None:
    # Measured on a quiet machine: with a busy loop on core 1 the generator still got the
    # half core it needed (waited 5% of the stage) and the rps held, but the core was full
    # and the hog had the other half: the figures are not the server's alone.
    why = generator_bound(pinned(4.9, 0.5, 10.0))
    assert why is not None and "other work than the generator and the server used 51%" in why
    # The same with the server not measured (host: a server started outside perfci).
    assert generator_bound(pinned(4.9, 0.5, 10.0, server=False)) is not None


def test_a_pinned_generator_with_its_core_to_itself_is_not_generator_bound() -> None:
    # No hog: core 1 half busy, nearly all of it the generator's.
    assert generator_bound(pinned(4.9, 0.1, 5.2)) is None
    # A full core with little other work (the kernel's network processing, perfci itself).
    assert generator_bound(pinned(8.0, 0.3, 9.95)) is None


def test_other_work_on_the_generators_core_needs_a_real_share_and_a_full_core() -> None:
    assert generator_bound(pinned(7.5, 0.5, 9.5)) is None  # 20% other work
    assert generator_bound(pinned(7.0, 0.5, 9.5)) is not None  # 25%
    assert generator_bound(pinned(4.0, 0.5, 8.5)) is None  # 45% other work, core 85% busy
    assert generator_bound(pinned(7.5, 0.5, 9.5), foreign=0.2) is not None


def test_a_busy_machine_shared_alike_by_an_unpinned_server_is_not_the_generators_limit() -> None:
    # No pinning: the generator and the server share cores 0 and 1, other work has 60% of
    # them. Both wait for CPU alike: a busy machine, not the generator's limit.
    generator = ProcessCpu(GENERATOR, 100, "python", 2.7, (0, 1), 4.8)
    server = ProcessCpu(SERVER, 200, "gunicorn", 6.2, (0, 1), 10.9)
    figures = StageCpu(10.0, (generator, server), {0: 9.7, 1: 9.6}, 9_000)
    assert generator_bound(figures) is None
    # The generator on both cores, the server on core 0 only: core 1 is the generator's.
    alone = replace(server, cores=(0,))
    assert generator_bound(replace(figures, processes=(generator, alone))) is not None


def test_other_work_counts_a_server_on_several_cores_for_its_share_of_them() -> None:
    generator = ProcessCpu(GENERATOR, 100, "python", 3.0, (1,))
    server = ProcessCpu(SERVER, 200, "gunicorn", 8.0, (0, 1))
    figures = StageCpu(10.0, (generator, server), {0: 5.0, 1: 9.0})
    assert figures.foreign_seconds((1,)) == pytest.approx(9.0 - 3.0 - 4.0)
    assert figures.foreign_seconds((0, 1)) == pytest.approx(14.0 - 3.0 - 8.0)
    assert figures.foreign_seconds(()) == 0.0
    assert figures.shares_server_cores((1,)) and not figures.shares_server_cores((1, 2))


def test_without_run_queue_figures_a_full_core_mostly_the_generators_is_its_limit() -> None:
    # Unpinned (affinity unknown), waits unknown: the per-core rule.
    assert generator_bound(cpu([5.0], [4.5], core_busy={0: 9.9, 1: 9.9})) is not None
    assert generator_bound(cpu([3.0], [4.5], core_busy={0: 9.9, 1: 9.9})) is None


def waiting(on_cpu: float, waited: float, *, wall: float = 10.0) -> StageCpu:
    """One generator process on a CPU ``on_cpu`` s and runnable-but-waiting ``waited`` s."""
    generator = ProcessCpu(GENERATOR, 100, "python", on_cpu, (1,), waited)
    server = ProcessCpu(SERVER, 200, "gunicorn", 6.0, (0,), 0.5)
    return StageCpu(wall, (generator, server), {0: 9.9, 1: 10.0}, 30_000)


def test_a_generator_waiting_for_cpu_all_stage_is_generator_bound() -> None:
    # Measured with other work on its core: on a CPU 26% of the stage, in the run queue 71%.
    why = generator_bound(waiting(2.6, 7.1))
    assert why == (
        "generator-bound: Locust process 100 (python) was runnable 97% of the stage "
        "(on a CPU 26%, waiting for one 71%): it never waited for the server, "
        "it was short of CPU"
    )


def test_a_generator_sharing_its_full_core_is_generator_bound_even_when_it_waited_little() -> None:
    # Its core is full of other work and it mostly slept on its sockets: each response it
    # got could still wait for that work to leave the CPU before Locust timed it.
    why = generator_bound(waiting(2.0, 0.5))
    assert why is not None and why.startswith("generator-bound: the generator's cores (1)")


def test_a_server_bound_stage_is_judged() -> None:
    # The slow fault: the server fills both cores, the generator idles waiting for answers.
    assert generator_bound(cpu([0.8], [9.0, 9.0], core_busy={0: 9.9, 1: 9.9})) is None


def test_a_busy_machine_that_is_not_the_generator_is_not_blamed_on_it() -> None:
    # Other work fills the cores; the generator used a small share of them.
    assert generator_bound(cpu([1.5], [2.0], core_busy={0: 9.8, 1: 9.8})) is None


def test_spare_cpu_means_not_generator_bound() -> None:
    figures = cpu([6.0], [6.0], core_busy={0: 6.5, 1: 6.5}, generator_cores=(1,))
    assert generator_bound(figures) is None


def test_the_thresholds_are_configurable_and_checked() -> None:
    assert generator_bound(cpu([7.0], [1.0]), busy=0.7) is not None
    assert generator_bound(cpu([7.0], [1.0])) is None
    with pytest.raises(ValueError, match="must be in"):
        generator_bound(cpu([7.0], [1.0]), busy=0)
    with pytest.raises(ValueError, match="'foreign': 1.5"):
        generator_bound(cpu([7.0], [1.0]), foreign=1.5)


def test_no_figures_no_verdict() -> None:
    assert generator_bound(cpu([], [5.0])) is None
    assert generator_bound(StageCpu(wall=0.0)) is None


def test_the_summary_gives_the_run_queue_wait_when_known() -> None:
    text = waiting(2.6, 7.1).summary()
    assert "busiest pid 100 26%, waited for a CPU 71% (73% of its runnable time))" in text


def test_the_summary_gives_cores_per_side_and_efficiency() -> None:
    text = cpu([9.7], [4.0, 4.0], core_busy={0: 9.0, 1: 9.9}, generator_cores=(1,)).summary()
    assert text == (
        "CPU during the stage: generator 0.97 cores (1 processes, cores 1; busiest pid 100 97%); "
        "server 0.80 cores (2 processes; busiest pid 200 40%); machine per core: 0 90%, 1 99%; "
        "other work on the generator's cores (1) 0%; 3,093 requests per generator CPU-second"
    )


def stage() -> StageResult:
    windows = tuple(Window(1.0, 3000, 0, {2: 2900, 9: 100}) for _ in range(10))
    return StageResult(users=500, windows=windows)


def test_a_generator_bound_stage_marks_throughput_and_latency_not_failures() -> None:
    spec = build_spec("http://h", [Endpoint.parse("GET /api/x")], LoadOptions())
    made = {
        m.name: m for m in stage_measurements([(stage(), cpu([9.7], [8.0]))], spec, LoadOptions())
    }
    for metric in ("rps", "p95", "p99"):
        why = made[f"load/500users/{metric}"].unjudged
        assert why is not None and why.startswith("generator-bound: Locust process 100")
        assert why.endswith(FIX)
    assert made["load/500users/failure_ratio"].unjudged is None  # failures are still facts
    notes = [e.text for e in made["load/500users/rps"].evidence if e.label == "note"]
    assert any(n.startswith("CPU during the stage: generator 0.97 cores") for n in notes)


def test_a_stage_with_cpu_to_spare_is_judged_and_says_its_cpu() -> None:
    spec = build_spec("http://h", [Endpoint.parse("GET /api/x")], LoadOptions())
    made = stage_measurements([(stage(), cpu([3.0], [8.0]))], spec, LoadOptions())
    assert all(m.unjudged is None for m in made)
    assert all(
        any(e.label == "note" and e.text.startswith("CPU during") for e in m.evidence) for m in made
    )
    assert not any(e.label == UNJUDGED_LABEL for m in made for e in m.evidence)


# --- pinning (os.sched_setaffinity) -------------------------------------------------------

needs_two_cores = pytest.mark.skipif(
    len(os.sched_getaffinity(0)) < 2, reason="pinning two sides apart needs 2 cores"
)


def test_pin_restricts_a_process_tree_and_restore_gives_its_cores_back() -> None:
    cores = sorted(os.sched_getaffinity(0))
    # A thread started before the pinning, like gunicorn's request threads: pinned too.
    code = "import threading, time; threading.Thread(target=time.sleep, args=(30,)).start()"
    child = subprocess.Popen([sys.executable, "-c", code])
    try:
        deadline = time.monotonic() + 10
        while len(os.listdir(f"/proc/{child.pid}/task")) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        threads = {int(tid) for tid in os.listdir(f"/proc/{child.pid}/task")}
        assert len(threads) == 2
        before = pin(child.pid, cores[:1])
        assert before == {tid: set(cores) for tid in threads}
        assert all(os.sched_getaffinity(tid) == {cores[0]} for tid in threads)
        restore(before)
        assert all(os.sched_getaffinity(tid) == set(cores) for tid in threads)
    finally:
        child.kill()
        child.wait()
    restore(before)  # a process that is gone is skipped


def test_cpu_affinity_is_validated() -> None:
    options = LoadOptions.model_validate({"cpu_affinity": {"server": [0], "generator": [1]}})
    assert options.cpu_affinity is not None and options.cpu_affinity.generator == [1]
    with pytest.raises(ValidationError, match=r"share core\(s\) \[1\]"):
        LoadOptions.model_validate({"cpu_affinity": {"server": [0, 1], "generator": [1]}})
    with pytest.raises(ValidationError, match="numbered from 0"):
        LoadOptions.model_validate({"cpu_affinity": {"server": [-1], "generator": [1]}})
    with pytest.raises(ValidationError, match=r"generator: core\(s\) \[4096\] are not available"):
        LoadOptions.model_validate({"cpu_affinity": {"server": [0], "generator": [4096]}})


# --- end to end: perfci run ----------------------------------------------------------------


@pytest.mark.slow
@needs_two_cores
def test_a_generator_bound_stage_fails_its_budget_and_is_not_judged(
    softfactory: SoftFactoryProject,
) -> None:
    # generator_busy 1%: any Locust process counts as at its ceiling, so the stage is
    # generator-bound whatever the machine's load; pinned, each side on its own core.
    softfactory.configure(
        {
            "load": {
                "stages": [4],
                "duration": 1.5,
                "generator_busy": "1%",
                "cpu_affinity": {"server": [0], "generator": [1]},
            }
        },
        endpoints=["GET /api/products"],
        extra={
            "budgets": {"load/4users/rps": {"min": "1 req/s"}},
            "baselines": {"required": False},
        },
    )
    run = softfactory.gate()
    assert run.exit_code == 1, explain(run)
    assert softfactory.failing() == {"load/4users/rps": "budget_violation"}, explain(run)
    assert "('load/4users/rps', perfci.yaml:" in run.stdout, explain(run)
    assert "cannot be held: generator-bound: Locust process" in run.stdout, explain(run)
    verdicts = {v["name"]: v for v in softfactory.results()["verdicts"]}
    evidence = [e["text"] for e in verdicts["load/4users/p95"]["current"]["evidence"]]
    assert "pinned: server cores 0, generator cores 1" in evidence, evidence
    (cpu,) = [text for text in evidence if text.startswith("CPU during the stage")]
    assert "cores 1;" in cpu.split("; server")[0] and "cores 0;" in cpu.split("; server")[1], cpu
    # No baseline: p95 is new, and says why it could not be judged anyway.
    assert any(n.startswith("generator-bound: ") for n in verdicts["load/4users/p95"]["notes"])
    failures = verdicts["load/4users/failure_ratio"]  # still a fact, held by the check's 0%
    assert (failures["outcome"], failures["mode"]) == ("new", "budget")
    assert not any("generator-bound" in n for n in failures["notes"])


@pytest.mark.slow
@needs_two_cores
def test_a_cpu_hog_on_the_generators_core_makes_the_stage_generator_bound(
    softfactory: SoftFactoryProject,
) -> None:
    # The acceptance: the server on core 0, the generator on core 1 with a busy
    # loop pinned beside it. The loop never sleeps, so core 1 is full and the loop has at
    # least the half the scheduler leaves it: generator-bound at the default thresholds,
    # whichever rule says it (shared core, or runnable all stage), whatever else runs.
    first, second = sorted(os.sched_getaffinity(0))[:2]
    softfactory.configure(
        {
            "load": {
                "stages": [4],
                "duration": 2,
                "cpu_affinity": {"server": [first], "generator": [second]},
            }
        },
        endpoints=["GET /api/products"],
        extra={
            "budgets": {"load/4users/rps": {"min": "1 req/s"}},
            "baselines": {"required": False},
        },
    )
    hog = subprocess.Popen(
        [sys.executable, "-c", "while True: pass"],
        preexec_fn=lambda: os.sched_setaffinity(0, {second}),
    )
    try:
        run = softfactory.gate()
    finally:
        hog.kill()
        hog.wait()
    assert run.exit_code == 1, explain(run)
    assert softfactory.failing() == {"load/4users/rps": "budget_violation"}, explain(run)
    verdicts = {v["name"]: v for v in softfactory.results()["verdicts"]}
    for metric in ("rps", "p95", "p99"):
        verdict = verdicts[f"load/4users/{metric}"]
        reasons = " ".join([verdict["reason"] or "", *verdict["notes"]])
        assert "generator-bound: " in reasons, explain(run)
    assert verdicts["load/4users/failure_ratio"]["outcome"] == "new"


@pytest.mark.slow
def test_a_stage_with_cpu_to_spare_is_judged_as_the_servers(
    softfactory: SoftFactoryProject,
) -> None:
    # 2 users with 50 ms of think time: the generator idles, nothing is marked.
    softfactory.configure(
        {"load": {"stages": [2], "duration": 1.5, "wait_time": 0.05}},
        endpoints=["GET /api/products"],
        extra={
            "budgets": {"load/2users/rps": {"min": "1 req/s"}},
            "baselines": {"required": False},
        },
    )
    run = softfactory.gate()
    assert run.exit_code == 0, explain(run)
    verdicts = {v["name"]: v for v in softfactory.results()["verdicts"]}
    # No baseline: the budget judged it, and held (a generator-bound stage would fail it).
    assert verdicts["load/2users/rps"]["outcome"] == "new"
    assert verdicts["load/2users/rps"]["mode"] == "budget"
    assert "generator-bound" not in run.stdout


def test_an_arrival_rate_the_generator_could_not_keep_is_generator_bound() -> None:
    assert schedule_slipped(0, 20_000) is None
    assert schedule_slipped(1_999, 20_000) is None  # under 10%
    assert schedule_slipped(5_000, 20_000) == (
        "generator-bound: 5,000 of 20,000 requests (25%) left the generator more than "
        "10 ms after they were due: it could not keep the arrival rate"
    )
    assert schedule_slipped(0, 0) is None


def test_a_slipped_schedule_marks_the_rate_stage() -> None:
    windows = tuple(Window(1.0, 2000, 0, {}) for _ in range(10))
    late = StageResult(users=0, windows=windows, rate=2000.0, late=9_000)
    spec = build_spec("http://h", [Endpoint.parse("GET /api/x")], LoadOptions())
    made = {
        m.metric: m for m in stage_measurements([(late, cpu([3.0], [8.0]))], spec, LoadOptions())
    }
    assert made["rps"].name == "load/2000rps/rps"
    why = made["p99"].unjudged
    assert why is not None and why.startswith("generator-bound: 9,000 of 20,000 requests")
