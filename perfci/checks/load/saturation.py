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
* or the cores it may run on were nearly all busy (``busy``) and other work,
  neither the generator's processes nor the server's, used a real share of
  them (``foreign``, 25% by default), while the server ran on other cores
  (pinned apart, or not measured: ``host:``): a CPU hog or another job on the
  generator's core. Even when the generator got the CPU it needed on
  average, each response could wait for that work to leave the CPU before
  Locust timed it, and its requests/s were capped by the share the scheduler
  gave it, while the server's cores were not shared alike: the stage's
  figures are not the server's alone. Where the generator and the server
  share their cores (no pinning), other work slows both alike: that is a
  busy machine, which the timing verdicts' statistics weigh, not the
  generator's limit;
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

    def generator_cores(self) -> tuple[int, ...]:
        """The cores the generator may run on (every core when unknown), with figures."""
        cores = self.cores(GENERATOR) or tuple(sorted(self.core_busy))
        return tuple(c for c in cores if c in self.core_busy)

    def shares_server_cores(self, cores: tuple[int, ...]) -> bool:
        """Whether the server (measured) may run on every one of ``cores``.

        A server process of unknown affinity may run anywhere.
        """
        servers = [p for p in self.processes if p.role == SERVER]
        if not servers:
            return False
        theirs = set(self.core_busy) if any(not p.cores for p in servers) else set()
        theirs.update(self.cores(SERVER))
        return set(cores) <= theirs

    def foreign_seconds(self, cores: tuple[int, ...]) -> float:
        """Busy seconds of ``cores`` not used by the generator's or the server's processes.

        A server process that may also run elsewhere counts for the part of its
        cores among ``cores`` (its time is assumed spread evenly over them); one
        of unknown affinity counts in full.
        """
        if not cores:
            return 0.0
        busy = sum(self.core_busy.get(c, 0.0) for c in cores)
        ours = 0.0
        for process in self.processes:
            mine = set(process.cores)
            if process.role == GENERATOR or not mine:
                ours += process.seconds
            else:
                ours += process.seconds * len(mine & set(cores)) / len(mine)
        return max(busy - ours, 0.0)

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
            waited = ""
            if busiest.waited is not None:
                runnable = busiest.seconds + busiest.waited
                waited = f", waited for a CPU {busiest.waited / self.wall:.0%}"
                if runnable > 0:
                    waited += f" ({busiest.waited / runnable:.0%} of its runnable time)"
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
            cores = self.generator_cores()
            if cores and any(p.role == GENERATOR for p in self.processes):
                line += (
                    f"; other work on the generator's cores ({_cores(cores)}) "
                    f"{self.foreign_seconds(cores) / (self.wall * len(cores)):.0%}"
                )
        efficiency = self.requests_per_generator_second
        if efficiency is not None:
            line += f"; {efficiency:,.0f} requests per generator CPU-second"
        return line


def generator_bound(
    cpu: StageCpu, *, busy: float = 0.9, share: float = 0.25, foreign: float = 0.25
) -> str | None:
    """Why the generator, not the server, limited this stage; None when it did not.

    ``busy``: the fraction of a core (or of the generator's cores) that counts as
    full; ``share``: the part of its busy cores' time the generator must have
    used for their saturation to be its shortage (when its run-queue wait is
    unknown); ``foreign``: the part of its cores' time other work must have used
    for a full core to count as shared with it. Raises ValueError on a value
    outside (0, 1].
    """
    limits = {"busy": busy, "share": share, "foreign": foreign}
    wrong = {name: value for name, value in limits.items() if not 0 < value <= 1}
    if wrong:
        raise ValueError(f"thresholds must be in (0, 1], got {wrong}")
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
    known = cpu.generator_cores()
    if not known:
        return None
    capacity = cpu.wall * len(known)
    used = sum(cpu.core_busy[c] for c in known)
    full = used / capacity >= busy
    others = cpu.foreign_seconds(known)
    if full and not cpu.shares_server_cores(known) and others / capacity >= foreign:
        return (
            f"generator-bound: the generator's cores ({_cores(known)}) were "
            f"{used / capacity:.0%} busy and other work than the generator and the server "
            f"used {others / capacity:.0%} of them: the generator shared its CPU, so its "
            "requests/s and the response times it measured are not the server's alone"
        )
    if timed:
        return None
    mine = cpu.seconds(GENERATOR)
    if full and used > 0 and mine / used >= share:
        return (
            f"generator-bound: the generator's cores ({_cores(known)}) were "
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
