"""Drives two measurement workers, base and head, in interleaved rounds."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from perfci.errors import CheckCrashed, ConfigError, ExitCode, PerfciError, TargetError
from perfci.measurement import Measurement, percentile
from perfci.verdict.confirm import confirm as confirm_regressions
from perfci.verdict.confirm import timing_regressions
from perfci.verdict.model import Judgement

Progress = Callable[[str], None]
Judge = Callable[[Sequence[Measurement], Sequence[Measurement]], Judgement]


class Worker:
    """One measurement worker process (perfci.abtest.worker) and its JSON-lines pipe."""

    def __init__(
        self,
        label: str,
        config_path: Path,
        root: Path,
        *,
        env: dict[str, str] | None = None,
    ) -> None:
        self.label = label
        environ = dict(os.environ)
        environ.update(env or {})
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "perfci.abtest.worker",
                "--config",
                str(config_path),
                "--root",
                str(root),
                "--label",
                label,
            ],
            cwd=root,
            env=environ,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self._stderr_tail: list[str] = []
        assert self.process.stderr is not None
        self._pump = threading.Thread(
            target=self._forward, args=(self.process.stderr,), daemon=True
        )
        self._pump.start()

    def _forward(self, stream: IO[str]) -> None:
        for line in stream:
            self._stderr_tail = [*self._stderr_tail[-4:], line.rstrip()]
            sys.stderr.write(line)

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

    def stop(self) -> None:
        """Ask politely, then SIGTERM (its session stops its gunicorn), then SIGKILL."""
        if self.process.poll() is None:
            try:
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


@dataclass
class ABRun:
    """What the two trees measured, and the verdicts after confirmation."""

    base: list[Measurement]
    head: list[Measurement]
    judgement: Judgement
    rounds: int
    confirmed: dict[str, str] = field(default_factory=dict)  # metric -> note


def run_ab(
    config_path: Path,
    *,
    head_root: Path,
    base_root: Path,
    deterministic: Sequence[str],
    timing: Sequence[str],
    rounds: int,
    judge: Judge,
    confirm: bool = True,
    progress: Progress = lambda message: None,
    base_env: dict[str, str] | None = None,
    head_env: dict[str, str] | None = None,
) -> ABRun:
    """Measure base and head; timing checks in ``rounds`` alternating rounds.

    A timing metric judged a regression is measured again (another ``rounds``
    rounds, only its checks) when ``confirm`` is set, and fails only if the
    second measurement agrees.
    """
    workers: list[Worker] = []
    try:
        progress("starting the base and head measurement workers")
        base = Worker("base", config_path, base_root, env=base_env)
        workers.append(base)
        head = Worker("head", config_path, head_root, env=head_env)
        workers.append(head)
        base.receive()
        head.receive()
        base_ms = base.collect(deterministic) if deterministic else []
        head_ms = head.collect(deterministic) if deterministic else []
        if timing:
            b, h = _rounds(base, head, timing, rounds, progress)
            base_ms += b
            head_ms += h
        judgement = judge(head_ms, base_ms)
        confirmed: dict[str, str] = {}
        suspects = timing_regressions(judgement)
        if confirm and suspects:
            checks = sorted({name.split("/", 1)[0] for name in suspects})
            progress(
                f"re-measuring {len(suspects)} suspected timing regression(s): {', '.join(checks)}"
            )
            b2, h2 = _rounds(base, head, checks, rounds, progress)
            second = judge(h2, b2)
            judgement, confirmed = confirm_regressions(judgement, second, suspects)
        return ABRun(base_ms, head_ms, judgement, rounds, confirmed)
    finally:
        for worker in workers:
            worker.stop()


def _rounds(
    base: Worker, head: Worker, checks: Sequence[str], rounds: int, progress: Progress
) -> tuple[list[Measurement], list[Measurement]]:
    per_side: dict[str, list[list[Measurement]]] = {"base": [], "head": []}
    for index in range(rounds):
        order = (base, head) if index % 2 == 0 else (head, base)
        for worker in order:
            progress(f"round {index + 1}/{rounds}: {worker.label}")
            per_side[worker.label].append(worker.collect(checks))
    return merge_rounds(per_side["base"]), merge_rounds(per_side["head"])


def merge_rounds(rounds: Iterable[Sequence[Measurement]]) -> list[Measurement]:
    """One measurement per name: samples and calibration pooled, value the median of rounds."""
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
            )
        )
    return merged
