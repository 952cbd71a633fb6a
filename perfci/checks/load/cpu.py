"""CPU of the load generator and of the server during a stage, read with psutil.

``CpuWatch.start`` snapshots the CPU times of two process trees (the Locust
runner with its workers, the server with its workers) and of every core;
``stop`` snapshots again and returns the differences as a ``StageCpu`` for
``saturation.generator_bound``. ``pin`` applies ``cpu_affinity``.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import psutil

from .saturation import ProcessCpu, StageCpu


@dataclass(frozen=True)
class _Snapshot:
    at: float  # time.monotonic()
    processes: dict[int, ProcessCpu]  # pid -> cumulative CPU seconds so far
    core_busy: dict[int, float]  # core -> cumulative non-idle seconds


def _tree(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


def _process_cpu(role: str, process: psutil.Process) -> ProcessCpu | None:
    try:
        with process.oneshot():
            times = process.cpu_times()
            cores = tuple(process.cpu_affinity() or ())
            name = process.name()
    except psutil.Error:  # gone, or not ours to read
        return None
    return ProcessCpu(role, process.pid, name, times.user + times.system, cores, _waited(process))


def _waited(process: psutil.Process) -> float | None:
    """Seconds the process was runnable but waiting for a CPU, summed over its threads.

    Linux's ``/proc/PID/task/TID/schedstat`` (on-CPU ns, run-queue ns, slices);
    None where it is missing or reads zero everywhere (scheduler statistics off).
    """
    total, seen = 0, False
    try:
        tasks = os.listdir(f"/proc/{process.pid}/task")
    except OSError:
        return None
    for task in tasks:
        try:
            with open(f"/proc/{process.pid}/task/{task}/schedstat") as stream:
                on_cpu, waiting, _slices = (int(v) for v in stream.read().split()[:3])
        except (OSError, ValueError):
            continue
        total += waiting
        seen = seen or bool(on_cpu or waiting)
    return total / 1e9 if seen else None


def _core_busy() -> dict[int, float]:
    busy = {}
    for core, times in enumerate(psutil.cpu_times(percpu=True)):
        idle = times.idle + getattr(times, "iowait", 0.0)
        busy[core] = (
            sum(times) - idle - getattr(times, "guest", 0.0) - getattr(times, "guest_nice", 0.0)
        )
    return busy


class CpuWatch:
    """Measures the CPU of process trees by role (``{"generator": pid, "server": pid}``)."""

    def __init__(self, roots: Mapping[str, int | None]) -> None:
        self.roots = {role: pid for role, pid in roots.items() if pid is not None}
        self._start: _Snapshot | None = None

    def _snapshot(self) -> _Snapshot:
        processes = {}
        for role, pid in self.roots.items():
            for process in _tree(pid):
                cpu = _process_cpu(role, process)
                if cpu is not None:
                    processes[cpu.pid] = cpu
        return _Snapshot(time.monotonic(), processes, _core_busy())

    def start(self) -> None:
        """Snapshot at the start of a stage's measured part."""
        self._start = self._snapshot()

    def stop(self, requests: int) -> StageCpu | None:
        """The CPU used since ``start``; None without a ``start``."""
        before, self._start = self._start, None
        if before is None:
            return None
        after = self._snapshot()
        processes = []
        for pid, now in after.processes.items():
            then = before.processes.get(pid)
            used = now.seconds - (then.seconds if then is not None else 0.0)
            waited = None
            if now.waited is not None:
                before_waited = then.waited if then is not None and then.waited else 0.0
                waited = max(now.waited - before_waited, 0.0)
            processes.append(ProcessCpu(now.role, pid, now.name, max(used, 0.0), now.cores, waited))
        return StageCpu(
            wall=after.at - before.at,
            processes=tuple(processes),
            core_busy={
                core: max(busy - before.core_busy.get(core, 0.0), 0.0)
                for core, busy in after.core_busy.items()
            },
            requests=requests,
        )


def _tasks(pid: int) -> list[int]:
    """The thread ids of a process (affinity is per thread: each one is pinned)."""
    try:
        return [int(tid) for tid in os.listdir(f"/proc/{pid}/task")]
    except OSError:
        return [pid]


def pin(pid: int, cores: Sequence[int]) -> dict[int, set[int]]:
    """Restrict the process tree of ``pid``, every thread of it, to ``cores``.

    Returns the affinities it had, per thread id (for ``restore``). Processes and
    threads it starts later inherit the affinity. Raises OSError when a core is not
    available to us (``os.sched_setaffinity``).
    """
    before: dict[int, set[int]] = {}
    # Until a pass finds nothing new: a process the tree forked while it was being pinned
    # (gunicorn still booting a worker) kept the old affinity and was not listed yet.
    for _ in range(10):
        found = False
        for process in _tree(pid):
            for tid in _tasks(process.pid):
                if tid in before:
                    continue
                with contextlib.suppress(ProcessLookupError):
                    before[tid] = os.sched_getaffinity(tid)
                    os.sched_setaffinity(tid, cores)
                    found = True
        if not found:
            break
    return before


def restore(affinities: Mapping[int, set[int]]) -> None:
    """Give threads back the affinities ``pin`` returned (gone ones are skipped)."""
    for tid, cores in affinities.items():
        with contextlib.suppress(ProcessLookupError):
            os.sched_setaffinity(tid, cores)
