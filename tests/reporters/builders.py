"""Hand-built run results for the reporter tests, and the golden-file fixture.

The results are built from Measurement/Verdict/Judgement directly, not by the
verdict engine: these tests pin down how a verdict looks, not how it is reached.
Set ``PERFCI_UPDATE_GOLDEN=1`` to rewrite the golden files (tests/golden.py).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from perfci.measurement import Direction, Evidence, Measurement, timing
from perfci.result import RunResult
from perfci.verdict.model import AckRule, BudgetRule, Judgement, Mode, Outcome, Verdict

GOLDEN = Path(__file__).parent / "golden"

N_PLUS_ONE_SQL = (
    "SELECT chefs.id, chefs.name FROM chefs WHERE chefs.user_id = ?\n"
    "-- repeated 30 times with different parameters"
)


def _count(name: str, value: float, evidence: tuple[Evidence, ...] = ()) -> Measurement:
    return Measurement(name, value, "queries", Direction.LOWER, evidence=evidence)


def _pass(name: str, value: float, unit: str, direction: Direction = Direction.LOWER) -> Verdict:
    measurement = Measurement(name, value, unit, direction)
    return Verdict(
        name=name,
        outcome=Outcome.PASS,
        mode=Mode.EXACT,
        reason=f"{name.rsplit('/', 1)[1]} unchanged",
        current=measurement,
        baseline=measurement,
        change=0.0,
        threshold=0.10,
    )


def sample_verdicts() -> list[Verdict]:
    """One verdict of every outcome, in engine (run) order, not report order."""
    head_latency = timing(
        "latency/GET /api/coocook/chefs/p95", [30.0, 31.5, 29.8, 33.0, 32.2], statistic="p95"
    )
    base_latency = timing(
        "latency/GET /api/coocook/chefs/p95", [18.0, 19.1, 18.4, 18.9, 19.5], statistic="p95"
    )
    noisy_head = timing("latency/GET /api/products/p50", [10.0, 25.0, 8.0, 30.0, 12.0])
    noisy_base = timing("latency/GET /api/products/p50", [11.0, 9.0, 22.0, 10.0, 28.0])
    return [
        _pass("pool/engine/pool_class", 0, "count"),
        Verdict(
            name="pool/engine/pool_class_name",
            outcome=Outcome.PASS,
            mode=Mode.EXACT,
            reason="pool class unchanged",
            current=Measurement("pool/engine/pool_class_name", "QueuePool", "", Direction.EQUAL),
            baseline=Measurement("pool/engine/pool_class_name", "QueuePool", "", Direction.EQUAL),
        ),
        Verdict(
            name="n_plus_one/GET /api/coocook/chefs/queries",
            outcome=Outcome.REGRESSION,
            mode=Mode.EXACT,
            reason="queries per request grew from 2 to 31 (+1450.0%), past the 10% threshold",
            current=_count(
                "n_plus_one/GET /api/coocook/chefs/queries",
                31,
                (
                    Evidence("sql", N_PLUS_ONE_SQL),
                    Evidence("note", "statement shape repeated 30 times: an N+1 query"),
                ),
            ),
            baseline=_count("n_plus_one/GET /api/coocook/chefs/queries", 2),
            change=14.5,
            threshold=0.10,
        ),
        Verdict(
            name="indexes/GET /api/bookings/full_scans",
            outcome=Outcome.REGRESSION,
            mode=Mode.EXACT,
            reason="full-table scans grew from 0 to 1, past the 10% threshold",
            current=Measurement(
                "indexes/GET /api/bookings/full_scans",
                1,
                "count",
                Direction.LOWER,
                evidence=(
                    Evidence("sql", "SELECT * FROM bookings WHERE chef_id = ? ORDER BY date"),
                    Evidence("plan", "SCAN bookings\nUSE TEMP B-TREE FOR ORDER BY"),
                ),
            ),
            baseline=Measurement(
                "indexes/GET /api/bookings/full_scans", 0, "count", Direction.LOWER
            ),
            change=float("inf"),
            threshold=0.10,
        ),
        Verdict(
            name="latency/GET /api/coocook/chefs/p95",
            outcome=Outcome.BUDGET,
            mode=Mode.BASELINE,
            reason="p95 is 32.8 ms, over the 25 ms budget",
            current=head_latency,
            baseline=base_latency,
            change=0.68,
            threshold=0.10,
            p_value=0.0079,
            budget=BudgetRule(
                "latency/GET /api/coocook/chefs/p95", max=25.0, unit="ms", source="perfci.yaml:14"
            ),
        ),
        Verdict(
            name="latency/GET /api/products/p50",
            outcome=Outcome.NOISY,
            mode=Mode.BASELINE,
            reason="median moved +2.0% but the samples vary by ±60%: too noisy to judge at 10%",
            current=noisy_head,
            baseline=noisy_base,
            change=0.02,
            threshold=0.10,
            p_value=0.84,
        ),
        Verdict(
            name="payload/GET /api/campaigns/bytes",
            outcome=Outcome.ACKNOWLEDGED,
            mode=Mode.EXACT,
            reason="response grew from 10.2 KB to 12.3 KB (+20.0%), acknowledged",
            current=Measurement(
                "payload/GET /api/campaigns/bytes", 12288, "bytes", Direction.LOWER
            ),
            baseline=Measurement(
                "payload/GET /api/campaigns/bytes", 10240, "bytes", Direction.LOWER
            ),
            change=0.20,
            threshold=0.10,
            acknowledged=AckRule(
                "payload/GET /api/campaigns/*",
                reason="campaign descriptions now included (#42)",
                expires=dt.date(2027, 1, 31),
                source="perfci.yaml:31",
            ),
        ),
        Verdict(
            name="cache/GET /api/products/hit_ratio",
            outcome=Outcome.IMPROVEMENT,
            mode=Mode.EXACT,
            reason="hit ratio rose from 80.0% to 95.0%",
            current=Measurement(
                "cache/GET /api/products/hit_ratio", 0.95, "ratio", Direction.HIGHER
            ),
            baseline=Measurement(
                "cache/GET /api/products/hit_ratio", 0.80, "ratio", Direction.HIGHER
            ),
            change=0.1875,
            threshold=0.10,
        ),
        Verdict(
            name="load/50 users/throughput",
            outcome=Outcome.NEW,
            mode=Mode.BUDGET,
            reason="new metric: no baseline to compare with",
            current=Measurement("load/50 users/throughput", 812.4, "req/s", Direction.HIGHER),
        ),
        Verdict(
            name="n_plus_one/GET /api/search?q=a|b `x`/queries",
            outcome=Outcome.MISSING,
            mode=Mode.EXACT,
            reason="in the baseline but not measured: was the endpoint `search` | removed?",
            baseline=_count("n_plus_one/GET /api/search?q=a|b `x`/queries", 3),
        ),
        _pass("n_plus_one/GET /api/users/queries", 1, "queries"),
        _pass("payload/GET /api/users/bytes", 2048, "bytes"),
        _pass("latency/GET /api/users/p95", 0.0042, "s"),
    ]


def make_result(
    verdicts: list[Verdict], *, exit_code: int | None = None, **extra: object
) -> RunResult:
    judgement = Judgement(tuple(verdicts))
    measurements = tuple(v.current for v in verdicts if v.current is not None)
    fields: dict[str, object] = {
        "suite": "default",
        "measurements": measurements,
        "judgement": judgement,
        "exit_code": (1 if judgement.failed else 0) if exit_code is None else exit_code,
        "started_at": "2026-11-29T02:00:00Z",
        "duration_s": 42.5,
        "commit": "3f2a9c1d0b7e",
        "branch": "feature/chef-list",
        "environment": {
            "python": "3.11.7",
            "platform": "Linux-x86_64",
            "cpu": "Test CPU",
            "cores": "2",
        },
        "baseline_path": "baselines/default.json",
        "checks": ("pool", "n_plus_one", "indexes", "latency", "payload", "cache", "load"),
    }
    fields.update(extra)
    return RunResult(**fields)  # type: ignore[arg-type]
