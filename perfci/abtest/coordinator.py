"""``perfci run --against REF``: the A/B measurer, two worker processes driven in rounds."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from perfci.abtest.overlay import prepare_base
from perfci.abtest.worktree import Worktree, resolve_ref
from perfci.config.model import Config
from perfci.errors import CheckCrashed, ConfigError, ExitCode, PerfciError, TargetError
from perfci.gate import Sides
from perfci.measurement import Measurement, percentile
from perfci.process import die_with_parent, interrupts_held

Progress = Callable[[str], None]


def _worker_preexec() -> None:  # pragma: no cover - runs in the child before exec
    """Ctrl-C reaches the coordinator only, which stops the workers itself.

    An ignored SIGINT survives exec, and Python then installs no
    KeyboardInterrupt handler: no traceback from a worker still importing.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent()  # also unblocks what ``interrupts_held`` held


class Worker:
    """One measurement worker process (perfci.abtest.worker) and its JSON-lines pipe.

    The worker runs in the directory of its ``config_path``: the target's
    code, seed, local plugins and files all come from that tree.
    """

    def __init__(
        self,
        label: str,
        config_path: Path,
        *,
        env: dict[str, str] | None = None,
        relay: Progress = lambda _line: None,
    ) -> None:
        self.label = label
        self._relay = relay
        environ = dict(os.environ)
        environ.update(env or {})
        with interrupts_held():
            self.process = subprocess.Popen(
                # -P: the worker's directory does not go first on sys.path, so a tree that
                # holds a copy of perfci itself does not replace the running perfci.
                [
                    sys.executable,
                    "-P",
                    "-m",
                    "perfci.abtest.worker",
                    *("--config", str(config_path), "--label", label),
                ],
                cwd=config_path.parent,
                env=environ,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                bufsize=1,
                preexec_fn=_worker_preexec,
            )
        self._stderr_tail: list[str] = []
        assert self.process.stderr is not None
        self._pump = threading.Thread(
            target=self._forward, args=(self.process.stderr,), daemon=True
        )
        self._pump.start()

    def _forward(self, stream: IO[str]) -> None:
        for line in stream:
            text = line.rstrip()
            self._stderr_tail = [*self._stderr_tail[-4:], text]
            self._relay(text)

    def receive(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            self.process.wait(timeout=30)
            tail = " | ".join(t for t in self._stderr_tail if t) or "no output"
            raise TargetError(
                f"{self.label} worker exited with code {self.process.returncode}: {tail}"
            )
        message: dict[str, Any] = json.loads(line)
        if "error" in message:
            code = ExitCode(message.get("exit_code", ExitCode.TARGET))
            error_type: type[PerfciError] = {
                ExitCode.USAGE: ConfigError,
                ExitCode.TARGET: TargetError,
            }.get(code, CheckCrashed)
            raise error_type(f"{self.label}: {message['error']}")
        return message

    def send(self, message: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(json.dumps(message) + "\n")
            self.process.stdin.flush()
        except BrokenPipeError:
            self.receive()  # raises with the worker's last words
            raise

    def collect(self, checks: Sequence[str]) -> list[Measurement]:
        self.send({"collect": list(checks)})
        return [Measurement.from_dict(m) for m in self.receive()["measurements"]]

    def stop(self, *, polite: bool = True) -> None:
        """Ask politely, then SIGTERM (its session stops its gunicorn), then SIGKILL.

        ``polite=False`` (an interrupt, an error) goes straight to SIGTERM: a
        worker busy building or seeding its target reads no ``quit`` until done.
        """
        if self.process.poll() is None:
            try:
                if not polite:
                    raise OSError("interrupted: no time for a polite quit")
                self.send({"quit": True})
                self.process.wait(timeout=20)
            except (OSError, subprocess.TimeoutExpired, PerfciError):
                self.process.send_signal(signal.SIGTERM)
                try:
                    self.process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait(timeout=10)
        self._pump.join(timeout=5)
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


class ABMeasurer:
    """Base and head measured in one run: a ``perfci.gate.Measurer``.

    Deterministic checks are collected once from each side; timing checks in
    ``rounds`` alternating rounds (A B, B A, ...), so drift on a shared machine
    hits both alike, their samples pooled per side. The alternation goes on
    across calls: a confirmation starts with the side that went second last.
    """

    same_run = True
    foreign: tuple[str, ...] = ()

    def __init__(
        self,
        base: Worker,
        head: Worker,
        *,
        deterministic: Iterable[str],
        rounds: int,
        compared: str,
        progress: Progress = lambda _message: None,
    ) -> None:
        self.base = base
        self.head = head
        self.deterministic = frozenset(deterministic)
        self.rounds = rounds
        self.compared = compared
        self.progress = progress
        self._partial: list[Measurement] = []
        self._rounds_done = 0

    def measure(self, checks: Sequence[str]) -> Sides:
        self._partial = []
        once = [c for c in checks if c in self.deterministic]
        timing = [c for c in checks if c not in self.deterministic]
        base_ms = self.base.collect(once) if once else []
        head_ms = self.head.collect(once) if once else []
        self._partial = list(head_ms)
        if timing:
            per_side: dict[str, list[list[Measurement]]] = {"base": [], "head": []}
            for index in range(self.rounds):
                first_base = self._rounds_done % 2 == 0
                order = (self.base, self.head) if first_base else (self.head, self.base)
                self._rounds_done += 1
                for worker in order:
                    self.progress(f"round {index + 1}/{self.rounds}: {worker.label}")
                    per_side[worker.label].append(worker.collect(timing))
            base_ms += merge_rounds(per_side["base"])
            head_ms += merge_rounds(per_side["head"])
        self._partial = list(head_ms)
        return Sides(head_ms, base_ms)

    @property
    def partial(self) -> list[Measurement]:
        return list(self._partial)


@contextmanager
def against_ref(
    config: Config,
    deterministic: Iterable[str],
    ref: str,
    *,
    rounds: int | None = None,
    progress: Progress = lambda _message: None,
    relay: Progress = lambda _line: None,
    base_env: dict[str, str] | None = None,
    head_env: dict[str, str] | None = None,
) -> Iterator[ABMeasurer]:
    """REF checked out into a temporary worktree, both trees' workers started and ready.

    The base tree is measured with the head's perfci.yaml (one measurement
    plan for both sides); files that plan names and the base lacks are copied
    in from the head (``perfci.abtest.overlay``). Leaving stops both workers
    and removes the worktree, on every exit path.
    """
    commit = resolve_ref(config.root, ref)
    progress(f"checking out {ref} ({commit[:12]}) into a temporary worktree")
    with Worktree(config.root, commit) as tree:
        base_config, copied = prepare_base(config, tree)
        if copied:
            progress(f"base tree: copied from the head: {', '.join(copied)}")
        workers: list[Worker] = []
        try:
            progress("starting the base and head measurement workers")
            base = Worker("base", base_config, env=base_env, relay=relay)
            workers.append(base)
            head = Worker("head", config.path, env=head_env, relay=relay)
            workers.append(head)
            base.receive()
            head.receive()
            yield ABMeasurer(
                base,
                head,
                deterministic=deterministic,
                rounds=rounds or config.model.timing.rounds,
                compared=f"{ref} @ {commit[:12]} (measured in this run)",
                progress=progress,
            )
        except BaseException:
            for worker in workers:
                worker.stop(polite=False)
            raise
        else:
            for worker in workers:
                worker.stop()


def merge_rounds(rounds: Iterable[Sequence[Measurement]]) -> list[Measurement]:
    """One measurement per name: samples and calibration pooled, value the median of rounds.

    The statistic is the first round's: the engine judges it on the pooled samples.
    """
    grouped: dict[str, list[Measurement]] = {}
    for measurements in rounds:
        for m in measurements:
            grouped.setdefault(m.name, []).append(m)
    merged = []
    for name, parts in grouped.items():
        first = parts[0]
        numbers = [p.value for p in parts if not isinstance(p.value, str)]
        value: float | str = (
            percentile([float(v) for v in numbers], "median")
            if numbers and len(numbers) == len(parts)
            else first.value
        )
        merged.append(
            Measurement(
                name=name,
                value=value,
                unit=first.unit,
                direction=first.direction,
                kind=first.kind,
                samples=tuple(s for p in parts for s in p.samples),
                evidence=first.evidence,
                calibration=tuple(s for p in parts for s in p.calibration),
                statistic=first.statistic,
            )
        )
    return merged
