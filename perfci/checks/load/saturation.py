"""Is a load stage measuring the server, or its own load generator? Pure: no psutil here.

The check samples the CPU of the generator's processes (the Locust runner and
its workers), of the server's (gunicorn and its workers) and of every core at
the start and the end of a stage's measured part (``cpu.py``); the
differences come here as a ``StageCpu``, and ``generator_bound`` decides.

A generator is the bottleneck when it cannot send faster, whatever the server
does:

* one of its processes used nearly a full core (``busy``, 90% by default):
  a Locust process is single-threaded (gevent), so that process is at its
  ceiling of requests per CPU-second;
* or one of its processes was *runnable* nearly all the time (``busy``): on
  a CPU or waiting in the run queue for one (Linux's
  ``/proc/PID/schedstat``). It never waited for the server; it was short of
  CPU (a CPU hog on its core, the server on the same cores, other work), so
  requests waited in the generator, not in the server;
* where the run-queue wait is not available: the cores it may run on were
  nearly all busy (``busy``) and a large share of that (``share``, 25% by
  default) was the generator's own.

The tests feed made-up figures; nothing here reads the machine.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

GENERATOR = "generator"
SERVER = "server"

#: What the output says to do about a generator-bound stage.
FIX = (
    "fix: give the generator CPU of its own: pin it and the server to separate cores "
    "(cpu_affinity), add local Locust workers on spare cores (workers: N), point host: at "
    "a server on another machine, or run distributed workers (master_bind + "
    "external_workers, docs/checks/load.md)"
)


@dataclass(frozen=True)
class ProcessCpu:
    """CPU one process used during a stage's measured part."""

    role: str  # GENERATOR or SERVER
    pid: int
    name: str
    seconds: float  # CPU seconds, user + system
    cores: tuple[int, ...] = ()  # the cores it may run on (its affinity); () unknown
    waited: float | None = None  # seconds runnable but waiting for a CPU; None: unknown


@dataclass(frozen=True)
class StageCpu:
    """CPU figures of one stage: ``wall`` seconds of measurement, per process, per core.

    ``core_busy`` maps a core number to its non-idle seconds during the stage
    (every process on the machine, not only ours); empty when unknown.
    """

    wall: float
    processes: tuple[ProcessCpu, ...] = ()
    core_busy: Mapping[int, float] = field(default_factory=dict)
    requests: int = 0

    def seconds(self, role: str) -> float:
        """CPU seconds of every process in ``role``."""
        return sum(p.seconds for p in self.processes if p.role == role)

    def cores(self, role: str) -> tuple[int, ...]:
        """The cores the processes in ``role`` may run on (union of their affinities)."""
        return tuple(sorted({c for p in self.processes if p.role == role for c in p.cores}))

    @property
    def requests_per_generator_second(self) -> float | None:
        """Requests sent per CPU-second of the generator; None when it used none."""
        used = self.seconds(GENERATOR)
        return self.requests / used if used > 0 else None

    def summary(self) -> str:
        """One line for the evidence: cores used by each side, per-core load, efficiency."""
        if self.wall <= 0:
            return "CPU: not measured"
        parts = []
        for role in (GENERATOR, SERVER):
            members = [p for p in self.processes if p.role == role]
            if not members:
                parts.append(f"{role} not measured")
                continue
            busiest = max(members, key=lambda p: p.seconds)
            cores = self.cores(role)
            pinned = f", cores {_cores(cores)}" if cores else ""
            waited = (
                f", waited for a CPU {busiest.waited / self.wall:.0%}"
                if busiest.waited is not None
                else ""
            )
            parts.append(
                f"{role} {self.seconds(role) / self.wall:.2f} cores "
                f"({len(members)} processes{pinned}; busiest pid {busiest.pid} "
                f"{busiest.seconds / self.wall:.0%}{waited})"
            )
        line = "CPU during the stage: " + "; ".join(parts)
        if self.core_busy:
            line += "; machine per core: " + ", ".join(
                f"{core} {busy / self.wall:.0%}" for core, busy in sorted(self.core_busy.items())
            )
        efficiency = self.requests_per_generator_second
        if efficiency is not None:
            line += f"; {efficiency:,.0f} requests per generator CPU-second"
        return line


def generator_bound(cpu: StageCpu, *, busy: float = 0.9, share: float = 0.25) -> str | None:
    """Why the generator, not the server, limited this stage; None when it did not.

    ``busy``: the fraction of a core (or of the generator's cores) that counts as
    full; ``share``: the part of its busy cores' time the generator must have
    used for their saturation to be its shortage. Raises ValueError on a
    ``busy`` or ``share`` outside (0, 1].
    """
    if not (0 < busy <= 1 and 0 < share <= 1):
        raise ValueError(f"busy and share must be in (0, 1], got {busy} and {share}")
    if cpu.wall <= 0:
        return None
    generators = [p for p in cpu.processes if p.role == GENERATOR]
    if not generators:
        return None
    top = max(generators, key=lambda p: p.seconds)
    if top.seconds / cpu.wall >= busy:
        return (
            f"generator-bound: Locust process {top.pid} ({top.name}) used "
            f"{top.seconds / cpu.wall:.0%} of a core, its ceiling (one core per process)"
        )
    timed = [p for p in generators if p.waited is not None]
    if timed:
        late = max(timed, key=lambda p: p.seconds + (p.waited or 0.0))
        waited = late.waited or 0.0
        if (late.seconds + waited) / cpu.wall >= busy:
            return (
                f"generator-bound: Locust process {late.pid} ({late.name}) was runnable "
                f"{(late.seconds + waited) / cpu.wall:.0%} of the stage (on a CPU "
                f"{late.seconds / cpu.wall:.0%}, waiting for one {waited / cpu.wall:.0%}): "
                "it never waited for the server, it was short of CPU"
            )
        return None
    cores = cpu.cores(GENERATOR) or tuple(sorted(cpu.core_busy))
    known = [c for c in cores if c in cpu.core_busy]
    if not known:
        return None
    capacity = cpu.wall * len(known)
    used = sum(cpu.core_busy[c] for c in known)
    mine = cpu.seconds(GENERATOR)
    if used / capacity >= busy and used > 0 and mine / used >= share:
        return (
            f"generator-bound: the generator's cores ({_cores(tuple(known))}) were "
            f"{used / capacity:.0%} busy, {mine / used:.0%} of it the generator's own "
            "processes: it was short of CPU"
        )
    return None


def schedule_slipped(late: int, sent: int, *, share: float = 0.1) -> str | None:
    """Why an arrival-rate stage's generator could not keep its schedule; None when it did.

    ``late``: requests it sent more than 10 ms after they were due (the runner counts
    at send time, before any wait for a connection, so a busy server does not make a
    request late: only a generator too slow to start it does); ``sent``: all of them.
    """
    if sent <= 0 or late / sent < share:
        return None
    return (
        f"generator-bound: {late:,} of {sent:,} requests ({late / sent:.0%}) left the "
        "generator more than 10 ms after they were due: it could not keep the arrival rate"
    )


def _cores(cores: tuple[int, ...]) -> str:
    return ",".join(str(c) for c in cores)
