"""Running the target's own code: its errors, exits, interrupts and hangs become one line."""

from __future__ import annotations

import contextlib
import difflib
import importlib
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import Any

from perfci.errors import TargetError


@contextlib.contextmanager
def importable(root: Path) -> Iterator[None]:
    """``root`` first on ``sys.path`` for the block, then as it was.

    The target's modules (``target.app``, ``target.seed``, whatever its views
    import lazily) and local plugins live beside perfci.yaml, which is not on
    the import path of an installed ``perfci``; for ``--against`` the base
    worker's root is its own tree. Modules imported meanwhile stay imported.
    """
    entry = str(root.resolve())
    if entry in sys.path:
        yield
        return
    sys.path.insert(0, entry)
    try:
        yield
    finally:
        with contextlib.suppress(ValueError):
            sys.path.remove(entry)


class _Hung(BaseException):
    """Raised into target code that ran past its timeout (not an Exception: it can't be caught
    by the target's own ``except Exception``)."""


@contextlib.contextmanager
def target_code(what: str, timeout_s: float | None, *, wrap_errors: bool = True) -> Iterator[None]:
    """Run the target's own code (import, factory, seed, an in-process request).

    Whatever it raises is a ``TargetError`` naming ``what`` (exit 3, one
    line): its exceptions (when ``wrap_errors``), ``sys.exit()`` (which would
    otherwise end perfci with the target's code, 0 included), and a
    ``KeyboardInterrupt`` it raises itself; a real Ctrl-C still propagates.
    In the main thread, code still running after ``timeout_s`` is stopped
    (SIGALRM) and reported the same way; other threads get no timer.
    """
    interrupted = False
    restore: list[Callable[[], object]] = []
    if threading.current_thread() is threading.main_thread():
        previous_int = signal.getsignal(signal.SIGINT)

        def on_sigint(signum: int, frame: FrameType | None) -> None:
            nonlocal interrupted
            interrupted = True
            if callable(previous_int):
                previous_int(signum, frame)
            elif previous_int != signal.SIG_IGN:
                raise KeyboardInterrupt

        signal.signal(signal.SIGINT, on_sigint)
        restore.append(lambda: signal.signal(signal.SIGINT, previous_int))
        if timeout_s is not None:

            def on_alarm(_signum: int, _frame: FrameType | None) -> None:
                raise _Hung

            previous_alarm = signal.signal(signal.SIGALRM, on_alarm)
            signal.setitimer(signal.ITIMER_REAL, timeout_s)
            restore.append(lambda: signal.signal(signal.SIGALRM, previous_alarm))
            restore.append(lambda: signal.setitimer(signal.ITIMER_REAL, 0))
    try:
        yield
    except _Hung:
        raise TargetError(
            f"{what} did not finish within {timeout_s:g} s (a hang? raise target.timeouts)"
        ) from None
    except SystemExit as error:
        raise TargetError(f"{what} called sys.exit({error.code!r})") from None
    except KeyboardInterrupt:
        if interrupted:
            raise
        raise TargetError(f"{what} raised KeyboardInterrupt") from None
    except TargetError:
        raise
    except Exception as error:
        if not wrap_errors:
            raise
        raise TargetError(f"{what} failed: {type(error).__name__}: {error}") from None
    finally:
        for undo in reversed(restore):
            undo()


def find_object(spec: str, timeout_s: float | None = None, *, key: str = "") -> object:
    """Import ``module:name`` (any object); TargetError naming ``key`` (the perfci.yaml key,
    e.g. ``target.app``) and the spec when it is not there, with the closest name."""
    module_name, _, attr = spec.partition(":")
    where = f"{key} {spec!r}: " if key else ""
    with target_code(f"{where}importing {module_name!r}", timeout_s):
        module = importlib.import_module(module_name)
    try:
        found: object = getattr(module, attr)
    except AttributeError:
        names = [n for n in dir(module) if not n.startswith("_")]
        close = difflib.get_close_matches(attr, names, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise TargetError(f"{where}module {module_name!r} has no {attr!r}{hint}") from None
    return found


def import_object(
    spec: str, timeout_s: float | None = None, *, key: str = ""
) -> Callable[..., Any]:
    """Import ``module:name``, which must be callable; TargetError naming the spec otherwise."""
    found = find_object(spec, timeout_s, key=key)
    if not callable(found):
        raise TargetError(f"{key + ' ' if key else ''}{spec!r} is not callable")
    return found
