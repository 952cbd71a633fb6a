"""Child processes that perfci starts (gunicorn, the Locust runner, pytest): one way to
start them and one way to stop them.

Each child leads its own process group, so stopping it stops everything it
started (gunicorn's workers, Locust's workers), and on Linux it gets SIGTERM
if perfci itself is killed outright.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
from collections.abc import Iterator, Sequence
from typing import Any

_PR_SET_PDEATHSIG = 1
#: Seconds a group gets to exit after SIGTERM before it is killed.
GRACE_SECONDS = 10.0


@contextlib.contextmanager
def interrupts_held() -> Iterator[None]:
    """Hold SIGINT/SIGTERM back while starting a child process; deliver them afterwards.

    A signal that lands while ``subprocess`` forks with a ``preexec_fn`` is
    raised inside CPython's at-fork hooks, which swallow it ("Exception
    ignored in ... _releaseLock"): Ctrl-C would be lost. Held, it arrives
    once the child is started, in ordinary code. The child unblocks them
    (``die_with_parent``).
    """
    held = {signal.SIGINT, signal.SIGTERM}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Linux: this process gets SIGTERM when its parent dies (``preexec_fn``).

    Also unblocks what ``interrupts_held`` held in the parent.
    """
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def start_process_group(command: Sequence[str], **popen: Any) -> subprocess.Popen[bytes]:
    """Start ``command`` as the leader of a new process group that dies with perfci."""
    with interrupts_held():
        return subprocess.Popen(
            list(command), start_new_session=True, preexec_fn=die_with_parent, **popen
        )


def stop_process_group(process: subprocess.Popen[bytes], grace: float = GRACE_SECONDS) -> None:
    """SIGTERM the process group, SIGKILL what is left after ``grace``; safe to call twice.

    Children that outlived the leader still belong to its group and are killed too.
    """
    if process.poll() is None:
        signal_process_group(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            signal_process_group(process.pid, signal.SIGKILL)
            process.wait(timeout=GRACE_SECONDS)
    signal_process_group(process.pid, signal.SIGKILL)


def signal_process_group(pgid: int, sig: signal.Signals) -> None:
    """Send ``sig`` to a process group that may already be gone."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)
