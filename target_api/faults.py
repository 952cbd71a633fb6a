"""Fault profiles: switches that put the seed report's bottlenecks back.

They exist so perfci's users can watch each check catch its bottleneck. All
are off unless named in the ``FAULTS`` config key or ``PERFCI_FAULTS``.
"""

from __future__ import annotations

import difflib
import hashlib
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
    SLOW: "each /api request hashes a fixed amount of data, about SLOW_CPU_MS of CPU",
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


#: SHA-256 over one block is the unit of the ``slow`` fault's work.
HASH_BLOCK = bytes(4096)
#: Blocks hashed per millisecond of CPU on the project's 2-core VM (2.06 µs a block,
#: measured with time.thread_time over 20,000 blocks). The work is fixed by this
#: constant, not by a clock: the same count on every machine and every run.
HASH_BLOCKS_PER_MS = 485


def hash_blocks(milliseconds: float) -> int:
    """The number of blocks ``burn_cpu(milliseconds)`` hashes."""
    return max(0, round(milliseconds * HASH_BLOCKS_PER_MS))


def burn_cpu(milliseconds: float) -> str:
    """Hash a fixed amount of data: about ``milliseconds`` of CPU on the project's VM.

    Real work, not a sleep and not a spin on the clock: the cost shows up as
    CPU and as executed instructions (the ``instructions`` check counts them
    under callgrind, where a clock spin would cost next to nothing), the way a
    slow serializer or an expensive computation would. Returns the digest.
    """
    digest = hashlib.sha256()
    for _ in range(hash_blocks(milliseconds)):
        digest.update(HASH_BLOCK)
    return digest.hexdigest()
