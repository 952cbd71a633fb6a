"""perfci.process: a child's whole process group is stopped, whatever it started."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from perfci.process import start_process_group, stop_process_group

# The leader starts a grandchild that ignores SIGTERM, prints its pid, then waits.
LEADER = """
import signal, subprocess, sys
child = subprocess.Popen([sys.executable, "-c",
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"])
print(child.pid, flush=True)
child.wait()
"""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


def _dies(pid: int) -> bool:
    """SIGKILL is delivered asynchronously: give the process a generous while to go."""
    deadline = time.monotonic() + 30
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.01)
    return not _alive(pid)


def test_stop_kills_the_leader_and_what_it_started_and_may_repeat() -> None:
    process = start_process_group([sys.executable, "-c", LEADER], stdout=subprocess.PIPE)
    assert process.stdout is not None
    grandchild = int(process.stdout.readline())
    assert os.getpgid(grandchild) == process.pid  # the leader's group, not perfci's
    stop_process_group(process, grace=0.5)
    process.stdout.close()
    assert process.returncode is not None
    assert _dies(grandchild)  # it ignored SIGTERM: the group's SIGKILL reached it
    stop_process_group(process)  # a second stop is harmless
