"""A burst of concurrent in-process requests that all want a connection at once.

Each pool checkout of the burst is held (inside the pool's ``checkout``
event) until either every request of the burst holds a connection or no new
checkout arrived for ``settle`` seconds. The peak number of connections out
at once is then ``min(burst, what the pool can give)`` whatever the
scheduling: a deterministic answer to "can this pool serve N concurrent
requests?", where an unheld burst would measure the thread scheduler.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.pool import Pool

from perfci import Endpoint, RunContext

# However slowly the machine runs, a held burst never lasts longer than this.
MAX_HOLD_SECONDS = 60.0


@dataclass
class BurstResult:
    """What one burst saw."""

    requests: int
    peak: int = 0
    timeouts: int = 0
    # "GET /path → 500", one per failed request, in request order.
    failures: list[str] = field(default_factory=list)
    timeout_messages: list[str] = field(default_factory=list)
    # True when every request held a connection at once before release.
    filled: bool = False


class CheckoutGate:
    """Counts checked-out connections and holds each checkout until the burst is full.

    Released when ``target`` connections are out at once, or when ``settle``
    seconds pass without a new checkout (the pool gives no more), whichever
    comes first. After release it only counts.
    """

    def __init__(self, target: int, settle: float, clock: Callable[[], float] = time.monotonic):
        self.target = target
        self.settle = settle
        self._clock = clock
        self._cond = threading.Condition()
        self._started = clock()
        self._last_checkout = self._started
        self.out = 0
        self.peak = 0
        self.released = False
        self.filled = False

    def checkout(self, *_: Any) -> None:
        with self._cond:
            self.out += 1
            self.peak = max(self.peak, self.out)
            self._last_checkout = self._clock()
            if self.out >= self.target and not self.released:
                self.filled = True
                self._release()
            while not self.released:
                now = self._clock()
                quiet_until = self._last_checkout + self.settle
                if now >= quiet_until or now - self._started >= MAX_HOLD_SECONDS:
                    self._release()
                    break
                self._cond.wait(quiet_until - now)

    def checkin(self, *_: Any) -> None:
        with self._cond:
            self.out -= 1

    def release(self) -> None:
        with self._cond:
            self._release()

    def _release(self) -> None:
        self.released = True
        self._cond.notify_all()


@contextmanager
def counting_timeouts(pool: Pool, result: BurstResult) -> Iterator[None]:
    """Count ``sqlalchemy.exc.TimeoutError`` raised by this pool's checkout.

    The target's error handlers turn the exception into a 500 before perfci
    could see it, so the pool's own ``_do_get`` is wrapped on this instance for
    the duration of the burst (the pool has no event for a timed-out wait).
    """
    original = pool._do_get
    lock = threading.Lock()

    def do_get() -> Any:
        try:
            return original()
        except sa_exc.TimeoutError as error:
            with lock:
                result.timeouts += 1
                if len(result.timeout_messages) < 3:
                    result.timeout_messages.append(str(error).split("\n")[0])
            raise

    setattr(pool, "_do_get", do_get)  # noqa: B010  # an instance attribute, removed below
    try:
        yield
    finally:
        vars(pool).pop("_do_get", None)


def run_burst(
    ctx: RunContext,
    endpoints: Sequence[Endpoint],
    size: int,
    settle: float,
) -> BurstResult:
    """Send ``size`` requests at once, round-robin over ``endpoints``, from ``size`` threads."""
    pool = ctx.engine.pool
    result = BurstResult(requests=size)
    gate = CheckoutGate(size, settle)
    start = threading.Barrier(size)

    def one(index: int) -> str | None:
        endpoint = endpoints[index % len(endpoints)]
        client = ctx.client()
        with suppress(threading.BrokenBarrierError):
            start.wait(timeout=MAX_HOLD_SECONDS)
        response = ctx.call(endpoint, client)
        if response.status_code >= 500:
            return f"{endpoint.subject} → {response.status_code}"
        return None

    event.listen(pool, "checkout", gate.checkout)
    event.listen(pool, "checkin", gate.checkin)
    try:
        with counting_timeouts(pool, result), ThreadPoolExecutor(max_workers=size) as executor:
            outcomes = list(executor.map(one, range(size)))
    finally:
        gate.release()
        event.remove(pool, "checkout", gate.checkout)
        event.remove(pool, "checkin", gate.checkin)
    result.peak = gate.peak
    result.filled = gate.filled
    result.failures = [outcome for outcome in outcomes if outcome]
    return result
