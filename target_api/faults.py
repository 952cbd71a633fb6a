"""Fault profiles: switches that put the seed report's bottlenecks back.

They exist so perfci's users can watch each check catch its bottleneck. All
are off unless named in the ``FAULTS`` config key or ``PERFCI_FAULTS``.
"""

from __future__ import annotations

import difflib
import time
from collections.abc import Iterable

N_PLUS_ONE = "n_plus_one"
MISSING_INDEXES = "missing_indexes"
NO_CACHE = "no_cache"
SMALL_POOL = "small_pool"
NO_WAL = "no_wal"
FAT_PAYLOAD = "fat_payload"
SLOW = "slow"

#: Every fault name with the bottleneck it puts back.
FAULT_DESCRIPTIONS: dict[str, str] = {
    N_PLUS_ONE: "the chefs list lazy-loads each chef's bookings (one query per chef)",
    MISSING_INDEXES: "seed creates no secondary indexes (filters and joins scan tables)",
    NO_CACHE: "responses are never cached (NullCache backend)",
    SMALL_POOL: "pool_size 5, max_overflow 10, no pre-ping (the report's default pool)",
    NO_WAL: "SQLite keeps the rollback journal (DELETE) and writes begin deferred",
    FAT_PAYLOAD: "every model column is serialized and compression is off",
    SLOW: "each /api request burns SLOW_CPU_MS of CPU in a busy loop",
}

KNOWN_FAULTS: frozenset[str] = frozenset(FAULT_DESCRIPTIONS)


def parse_faults(value: str | Iterable[str] | None) -> frozenset[str]:
    """Turn ``"a,b"`` or ``["a", "b"]`` into a set of known fault names.

    Raises ValueError naming the unknown fault (and the closest known one).
    """
    if value is None:
        return frozenset()
    items = value.split(",") if isinstance(value, str) else list(value)
    names = {str(item).strip() for item in items} - {""}
    for name in sorted(names):
        if name not in KNOWN_FAULTS:
            close = difflib.get_close_matches(name, sorted(KNOWN_FAULTS), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            known = ", ".join(sorted(KNOWN_FAULTS))
            raise ValueError(f"unknown fault {name!r}{hint}; known faults: {known}")
    return frozenset(names)


def burn_cpu(milliseconds: float) -> None:
    """Spin on the CPU for ``milliseconds`` of this thread's CPU time.

    A busy loop, not a sleep: the cost must show up as CPU, as a slow
    serializer or an expensive computation would.
    """
    if milliseconds <= 0:
        return
    deadline = time.thread_time() + milliseconds / 1000.0
    while time.thread_time() < deadline:
        pass
