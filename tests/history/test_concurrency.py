"""Concurrent writers lose nothing: threads and processes recording into one store."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from perfci.history import HistoryStore
from perfci.history.store import _use_wal
from tests.history.factory import make_run

ROOT = Path(__file__).resolve().parents[2]
WRITERS = 6
PROCESSES = 4
RUNS_EACH = 5

# Each process opens the store itself (a fresh file: they also race to create the schema).
WRITER = """
import sys, time
from pathlib import Path
from perfci.history import HistoryStore
from tests.history.factory import make_run
url, writer, count, gate = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4])
(gate / f"ready-{writer}").touch()
while not (gate / "go").exists():  # imports done: every process starts writing at once
    time.sleep(0.005)
for i in range(count):
    with HistoryStore(url) as store:
        store.record(make_run(writer * 100 + i, seed=i), uid=f"p{writer}-{i}")
"""


def _threads(url: str, *, shared: bool) -> None:
    errors: list[BaseException] = []
    barrier = threading.Barrier(WRITERS)
    common = HistoryStore(url) if shared else None

    def write(writer: int) -> None:
        try:
            barrier.wait()
            for i in range(RUNS_EACH):
                store = common or HistoryStore(url)
                try:
                    store.record(make_run(writer * 100 + i, seed=i), uid=f"t{writer}-{i}")
                finally:
                    if common is None:
                        store.close()
        except BaseException as error:  # reported by the assert below
            errors.append(error)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if common is not None:
        common.close()
    assert errors == []


def _assert_all_there(url: str, prefix: str, writers: int = WRITERS) -> None:
    with HistoryStore(url) as store:
        stored = store.history()
    uids = {s.uid for s in stored}
    assert uids == {f"{prefix}{w}-{i}" for w in range(writers) for i in range(RUNS_EACH)}
    expected = make_run(0, seed=0)
    first = next(s for s in stored if s.uid == f"{prefix}0-0")
    assert first.result == expected  # complete rows, not just ids
    assert all(len(s.result.verdicts) == len(expected.verdicts) for s in stored)


def test_threads_with_their_own_stores(store_url: str) -> None:
    _threads(store_url, shared=False)
    _assert_all_there(store_url, "t")


def test_threads_sharing_one_store(store_url: str) -> None:
    _threads(store_url, shared=True)
    _assert_all_there(store_url, "t")


def test_processes_writing_to_one_sqlite_file(sqlite_url: str, tmp_path: Path) -> None:
    path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PYTHONPATH": path}
    gate = tmp_path / "gate"
    gate.mkdir()
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, sqlite_url, str(w), str(RUNS_EACH), str(gate)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(PROCESSES)
    ]
    deadline = time.monotonic() + 60
    while len(list(gate.glob("ready-*"))) < PROCESSES and time.monotonic() < deadline:
        if any(p.poll() not in (None, 0) for p in processes):
            break
        time.sleep(0.01)
    (gate / "go").touch()
    failures = []
    for process in processes:
        _, err = process.communicate(timeout=120)
        if process.returncode != 0:
            failures.append(err)
    assert failures == []
    _assert_all_there(sqlite_url, "p", writers=PROCESSES)


class _RacingCursor:
    """A cursor whose WAL switch loses the race ``losses`` times ("database is locked")."""

    def __init__(self, losses: int) -> None:
        self.losses = losses
        self.mode = "delete"

    def execute(self, sql: str) -> _RacingCursor:
        if sql == "PRAGMA journal_mode = WAL":
            if self.losses:
                self.losses -= 1
                raise sqlite3.OperationalError("database is locked")
            self.mode = "wal"
        return self

    def fetchone(self) -> tuple[str]:
        return (self.mode,)


def test_the_wal_switch_retries_a_lost_race_and_gives_up_at_the_timeout() -> None:
    cursor = _RacingCursor(losses=3)
    _use_wal(cursor, timeout_s=5)
    assert cursor.mode == "wal"
    hopeless = _RacingCursor(losses=10_000)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        _use_wal(hopeless, timeout_s=0.05)
