"""A representative judgement against a committed golden file (every outcome, every mode).

Regenerate after an intended change with ``PERFCI_UPDATE_GOLDEN=1 pytest tests/verdict``
and review the diff of ``golden/judgement.json`` like code.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

from perfci.measurement import Direction, Measurement
from perfci.verdict import AckRule, BudgetRule, Judgement, Rules, ThresholdRule, judge
from tests.golden import check_golden
from tests.verdict.builders import TODAY, count, lognormal, timed

GOLDEN = Path(__file__).parent / "golden" / "judgement.json"
CHEFS = "GET /api/coocook/chefs"


def scenario() -> tuple[list[Measurement], list[Measurement], Rules]:
    probe_base, probe_slow = lognormal(2.0, 0.05, 60, seed=1), lognormal(2.6, 0.05, 60, seed=2)
    baseline = [
        count(f"n_plus_one/{CHEFS}/queries", 3),
        count(f"n_plus_one/{CHEFS}/repeated_shapes", 0, unit="shapes"),
        count("indexes/GET /api/bookings/full_scans", 2, unit="scans"),
        count("pool/engine/pool_class", "QueuePool", unit=""),
        count("payload/GET /api/products?page=2/bytes", 20_000, unit="B"),
        timed(f"latency/{CHEFS}/p50", lognormal(10, 0.1, 400, seed=3)),
        timed(f"latency/{CHEFS}/p95", lognormal(10, 0.1, 400, seed=4), value=14.0),
        timed("latency/GET /api/users/p50", lognormal(8, 0.1, 400, seed=5)),
        timed("latency/GET /api/campaigns/p50", lognormal(20, 1.2, 30, seed=6)),
        timed("latency/GET /health/p50", lognormal(1, 0.05, 200, seed=7), calibration=probe_base),
        timed(
            "load/GET /api/coocook/chefs/throughput",
            lognormal(400, 0.05, 50, seed=8),
            unit="req/s",
            direction=Direction.HIGHER,
        ),
        count("cache/GET /api/products/hit_ratio", 0.9, unit="ratio", direction=Direction.HIGHER),
        count("sns/GET /api/sns/posts/queries", 4),  # its check is skipped this run
        count("scenarios/GET /api/scenarios/queries", 7),  # no longer produced: missing
    ]
    current = [
        count(f"n_plus_one/{CHEFS}/queries", 51),  # N+1 is back, acknowledged
        count(f"n_plus_one/{CHEFS}/repeated_shapes", 1, unit="shapes"),  # from zero
        count("indexes/GET /api/bookings/full_scans", 1, unit="scans"),  # improvement
        count("pool/engine/pool_class", "NullPool", unit=""),  # equal fact changed
        count("payload/GET /api/products?page=2/bytes", 21.5, unit="KB"),  # unit converted
        timed(f"latency/{CHEFS}/p50", lognormal(13, 0.1, 400, seed=9)),  # regression
        timed(f"latency/{CHEFS}/p95", lognormal(10, 0.1, 400, seed=10), value=31.0),  # budget
        timed("latency/GET /api/users/p50", lognormal(8, 0.1, 400, seed=11)),  # pass
        timed("latency/GET /api/campaigns/p50", lognormal(26, 1.2, 30, seed=12)),  # noisy
        timed(
            "latency/GET /health/p50",
            lognormal(1.3, 0.05, 200, seed=13),
            calibration=probe_slow,
        ),  # slower machine, normalized pass
        timed(
            "load/GET /api/coocook/chefs/throughput",
            lognormal(300, 0.05, 50, seed=14),
            unit="req/s",
            direction=Direction.HIGHER,
        ),  # throughput regression, expired acknowledgement
        count("cache/GET /api/products/hit_ratio", 0.85, unit="ratio", direction=Direction.HIGHER),
        Measurement("payload/GET /api/chefs/gzip_bytes", 5120, "B", Direction.LOWER),  # budget
        Measurement("payload/GET /api/chefs/bytes", 20480, "B", Direction.LOWER),  # new
    ]
    rules = Rules(
        today=TODAY,
        thresholds=(
            ThresholdRule("cache/*", 0.02, source="perfci.yaml:20"),
            ThresholdRule("latency/GET /api/nothing/*", 0.5, source="perfci.yaml:21"),
        ),
        budgets=(
            BudgetRule(f"latency/{CHEFS}/p95", max=25, unit="ms", source="perfci.yaml:30"),
            BudgetRule("payload/*/gzip_bytes", max=4, unit="KiB", source="perfci.yaml:31"),
            BudgetRule("sns/*", max=1, source="perfci.yaml:32"),
        ),
        acknowledgements=(
            AckRule("n_plus_one/*/queries", "chef N+1, fixed in #123", source="perfci.yaml:40"),
            AckRule("load/*", "old load regression", dt.date(2025, 1, 31), "perfci.yaml:41"),
            AckRule("pool/GET /gone/*", "nothing left to acknowledge", source="perfci.yaml:42"),
        ),
        skipped_checks=frozenset({"sns"}),
    )
    return current, baseline, rules


def serialize(judgement: Judgement) -> dict[str, Any]:
    """The verdict fields a report shows, with floats rounded so the file is stable."""

    def number(value: float | None, digits: int = 6) -> float | str | None:
        if value is None:
            return None
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return float(f"{value:.{digits}g}")

    verdicts = []
    for verdict in judgement.verdicts:
        data = verdict.to_dict()
        verdicts.append(
            {
                "name": data["name"],
                "outcome": data["outcome"],
                "mode": data["mode"],
                "reason": data["reason"],
                "change": number(verdict.change),
                "threshold": number(verdict.threshold),
                "p_value": number(verdict.p_value, 3),
                "budget": data["budget"],
                "acknowledged": data["acknowledged"],
                "notes": data["notes"],
            }
        )
    return {"verdicts": verdicts, "unmatched_rules": list(judgement.unmatched_rules)}


def test_judgement_matches_the_golden_file() -> None:
    actual = serialize(judge(*scenario()))
    check_golden(GOLDEN, json.dumps(actual, indent=2, ensure_ascii=False) + "\n")


def test_the_golden_scenario_covers_every_outcome_and_mode() -> None:
    judgement = judge(*scenario())
    assert {v.outcome for v in judgement.verdicts} == set(type(judgement.verdicts[0].outcome))
    assert {v.mode for v in judgement.verdicts} == set(type(judgement.verdicts[0].mode)) - {
        type(judgement.verdicts[0].mode).SAME_RUN
    }
    assert judgement.failed
    assert judgement.unmatched_rules


def test_judging_twice_gives_the_same_judgement() -> None:
    assert judge(*scenario()) == judge(*scenario())
