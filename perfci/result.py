"""The result of one run: what reporters render and ``--json`` writes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from perfci.measurement import Measurement, text
from perfci.units import decode_float
from perfci.verdict.model import Judgement, Outcome, Verdict

RESULTS_SCHEMA = 1


@dataclass(frozen=True)
class RunResult:
    """Measurements and verdicts of one run, with where and when they were taken."""

    suite: str
    measurements: tuple[Measurement, ...]
    judgement: Judgement
    exit_code: int
    started_at: str  # ISO 8601, UTC
    duration_s: float
    commit: str | None = None
    branch: str | None = None
    environment: Mapping[str, str] = field(default_factory=dict)
    baseline_path: str | None = None
    checks: tuple[str, ...] = ()  # checks that ran, in order
    skipped_checks: tuple[str, ...] = ()
    # Set when the run could not be judged after measuring (a rule matching nothing, a
    # check crashing): the measurements so far, no verdicts, and exit_code the error's.
    error: str | None = None

    @property
    def verdicts(self) -> tuple[Verdict, ...]:
        return self.judgement.verdicts

    def counts(self) -> dict[Outcome, int]:
        """How many verdicts of each outcome (every outcome present, zeros included)."""
        counts = dict.fromkeys(Outcome, 0)
        for verdict in self.verdicts:
            counts[verdict.outcome] += 1
        return counts

    def to_dict(self) -> dict[str, Any]:
        data = {
            "perfci_results": RESULTS_SCHEMA,
            "suite": self.suite,
            "exit_code": self.exit_code,
            "started_at": self.started_at,
            "duration_s": self.duration_s,
            "commit": self.commit,
            "branch": self.branch,
            "environment": dict(self.environment),
            "baseline_path": self.baseline_path,
            "checks": list(self.checks),
            "skipped_checks": list(self.skipped_checks),
            "counts": {k.value: v for k, v in self.counts().items()},
            "measurements": [m.to_dict() for m in self.measurements],
            "verdicts": [v.to_dict() for v in self.verdicts],
            "unmatched_rules": list(self.judgement.unmatched_rules),
        }
        if self.error is not None:
            data["error"] = self.error
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunResult:
        """Build from ``to_dict`` output (the one decoder of the results format: results
        files, history imports, the history store's rows, the publisher's artifact);
        raises KeyError/TypeError/ValueError on bad data. The caller checks the schema.
        """
        exit_code = data["exit_code"]
        if isinstance(exit_code, bool) or not isinstance(exit_code, int):
            raise TypeError(f"exit_code is not an integer: {exit_code!r}")
        environment = data.get("environment") or {}
        if not isinstance(environment, Mapping):
            raise TypeError("environment is not an object")
        return cls(
            suite=text(data["suite"]),
            measurements=tuple(Measurement.from_dict(m) for m in data.get("measurements") or ()),
            judgement=Judgement(
                verdicts=tuple(Verdict.from_dict(v) for v in data.get("verdicts") or ()),
                unmatched_rules=tuple(text(r) for r in data.get("unmatched_rules") or ()),
            ),
            exit_code=exit_code,
            started_at=text(data.get("started_at") or ""),
            duration_s=decode_float(data.get("duration_s") or 0.0),
            commit=_optional_text(data.get("commit")),
            branch=_optional_text(data.get("branch")),
            environment={text(k): text(v) for k, v in environment.items()},
            baseline_path=_optional_text(data.get("baseline_path")),
            checks=tuple(text(c) for c in data.get("checks") or ()),
            skipped_checks=tuple(text(c) for c in data.get("skipped_checks") or ()),
            error=_optional_text(data.get("error")),
        )


def _optional_text(value: Any) -> str | None:
    return None if value is None else text(value)


#: A run's status by its exit code, as the server and its dashboard list it.
STATUSES = ("passed", "failed", "error")


def status_of(exit_code: int) -> str:
    """A run's status by its exit code: 0 passed, 1 failed, anything else error."""
    return {0: "passed", 1: "failed"}.get(exit_code, "error")


def unmeasured(
    required: Iterable[str], checks: Iterable[str], skipped_checks: Iterable[str] = ()
) -> tuple[str, ...]:
    """The checks of ``required`` that a run which ran ``checks`` (and skipped
    ``skipped_checks``) did not measure, in ``required``'s order; empty when it measured
    them all, so it can be a baseline for them (``--baseline-from server``)."""
    measured = set(checks) - set(skipped_checks)
    return tuple(name for name in required if name not in measured)
