"""Hand-built run histories: several runs of one suite, one with an injected regression.

Built from Measurement/Verdict/Judgement directly (not by the engine): the
history and report tests pin down storage and drawing, not judging.
"""

from __future__ import annotations

import datetime as dt
import random

from perfci.measurement import Direction, Evidence, Kind, Measurement, timing
from perfci.result import RunResult
from perfci.verdict.model import BudgetRule, Judgement, Mode, Outcome, Verdict

SUITE = "default"
REGRESSED = "n_plus_one/GET /api/coocook/chefs/queries"
N_PLUS_ONE_SQL = "SELECT chefs.id, chefs.name FROM chefs WHERE chefs.user_id = ?"
THRESHOLD = 0.10
LATENCY = "latency/GET /api/coocook/chefs/p95"
LATENCY_BUDGET = BudgetRule(LATENCY, max=25.0, unit="ms", source="perfci.yaml:14")

# metric -> (baseline value, unit, direction)
_BASELINE: dict[str, tuple[float, str, Direction]] = {
    REGRESSED: (2, "queries", Direction.LOWER),
    "n_plus_one/GET /api/products/queries": (3, "queries", Direction.LOWER),
    "indexes/GET /api/bookings/full_scans": (0, "count", Direction.LOWER),
    "payload/GET /api/products/bytes": (20480, "B", Direction.LOWER),
    "cache/GET /api/products/hit_ratio": (0.9, "ratio", Direction.HIGHER),
    "load/50users/rps": (820.0, "req/s", Direction.HIGHER),
    "load/50users/failure_ratio": (0.0, "ratio", Direction.LOWER),
    "load/50users/p95": (21.0, "ms", Direction.LOWER),
    "load/50users/p99": (34.0, "ms", Direction.LOWER),
    "load/500users/rps": (1460.0, "req/s", Direction.HIGHER),
    "load/500users/failure_ratio": (0.0, "ratio", Direction.LOWER),
    "load/500users/p95": (88.0, "ms", Direction.LOWER),
    "load/500users/p99": (131.0, "ms", Direction.LOWER),
    "load/100users/rps": (1190.0, "req/s", Direction.HIGHER),
    "load/100users/failure_ratio": (0.0, "ratio", Direction.LOWER),
    "load/100users/p95": (36.0, "ms", Direction.LOWER),
    "load/100users/p99": (52.0, "ms", Direction.LOWER),
}
_LATENCY_BASE = [18.0, 18.4, 18.9, 19.1, 19.5, 18.2, 18.7, 19.0]


def make_run(
    index: int, *, regressed: bool = False, suite: str = SUITE, seed: int | None = None
) -> RunResult:
    """Run ``index`` (0 = oldest): small noise on timings; ``regressed`` injects an N+1."""
    rng = random.Random(index if seed is None else seed)
    started = dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC) + dt.timedelta(days=index)
    verdicts: list[Verdict] = []
    for name, (base, unit, direction) in _BASELINE.items():
        kind = Kind.TIMING if unit in ("ms", "req/s") else Kind.DETERMINISTIC
        value = base
        if kind is Kind.TIMING:
            value = round(base * rng.uniform(0.96, 1.04), 1)
        if name == "cache/GET /api/products/hit_ratio":
            value = round(rng.choice([0.9, 0.92, 0.91]), 2)
        evidence: tuple[Evidence, ...] = ()
        outcome, reason = Outcome.PASS, "within the 10% threshold"
        if regressed and name == REGRESSED:
            value = 31
            evidence = (
                Evidence("sql", N_PLUS_ONE_SQL + "\n-- repeated 30 times"),
                Evidence("note", "statement shape repeated 30 times: an N+1 query"),
            )
            outcome = Outcome.REGRESSION
            reason = "queries per request grew from 2 to 31 (+1450.0%), past the 10% threshold"
        current = Measurement(name, value, unit, direction, kind, evidence=evidence)
        baseline = Measurement(name, base, unit, direction, kind)
        change = (value - base) / base if base else 0.0
        verdicts.append(
            Verdict(
                name=name,
                outcome=outcome,
                mode=Mode.BASELINE if kind is Kind.TIMING else Mode.EXACT,
                reason=reason,
                current=current,
                baseline=baseline,
                change=change,
                threshold=THRESHOLD,
            )
        )
    head = timing(LATENCY, [v * rng.uniform(0.95, 1.05) for v in _LATENCY_BASE], statistic="p95")
    before = timing(LATENCY, _LATENCY_BASE, statistic="p95")
    verdicts.append(
        Verdict(
            name=LATENCY,
            outcome=Outcome.PASS,
            mode=Mode.BASELINE,
            reason="p95 within 10% of the baseline and under the 25 ms budget",
            current=head,
            baseline=before,
            change=float(head.value) / float(before.value) - 1,
            threshold=THRESHOLD,
            p_value=0.41,
            budget=LATENCY_BUDGET,
        )
    )
    pool = Measurement("pool/engine/pool_class", "QueuePool", "", Direction.EQUAL)
    verdicts.append(
        Verdict("pool/engine/pool_class", Outcome.PASS, Mode.EXACT, "unchanged", pool, pool)
    )
    judgement = Judgement(tuple(verdicts))
    return RunResult(
        suite=suite,
        measurements=tuple(v.current for v in verdicts if v.current is not None),
        judgement=judgement,
        exit_code=1 if judgement.failed else 0,
        started_at=started.isoformat(timespec="seconds"),
        duration_s=round(40 + rng.random() * 5, 3),
        commit=f"{index:02d}{'c0ffee' * 6}"[:40],
        branch="main",
        environment={"python": "3.11.7", "cpu": "Test CPU", "cores": "2"},
        baseline_path="baselines/default.json",
        checks=("pool", "n_plus_one", "indexes", "latency", "payload", "cache", "load"),
    )


def make_history(count: int = 6, *, regressed_at: int | None = -1) -> list[RunResult]:
    """``count`` runs oldest first; the run at ``regressed_at`` (default: the last) regressed."""
    target = None if regressed_at is None else range(count)[regressed_at]
    return [make_run(i, regressed=i == target) for i in range(count)]
