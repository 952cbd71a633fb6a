"""The verdict engine (pure: no I/O, see README.md) and the data it takes and gives."""

from perfci.verdict.engine import judge, judge_pair, threshold_for
from perfci.verdict.model import (
    AckRule,
    BudgetRule,
    Judgement,
    Mode,
    Outcome,
    Rules,
    ThresholdRule,
    Verdict,
)

__all__ = [
    "AckRule",
    "BudgetRule",
    "Judgement",
    "Mode",
    "Outcome",
    "Rules",
    "ThresholdRule",
    "Verdict",
    "judge",
    "judge_pair",
    "threshold_for",
]
