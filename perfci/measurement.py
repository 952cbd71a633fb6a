"""What a check observes: a named value with its unit, direction and evidence."""

from __future__ import annotations

import dataclasses
import math
import re
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from perfci.units import decode_float


class Direction(StrEnum):
    """Which way is better."""

    LOWER = "lower"  # e.g. queries per request, latency
    HIGHER = "higher"  # e.g. throughput, hit ratio
    EQUAL = "equal"  # a fact that must not change, e.g. the pool class


class Kind(StrEnum):
    """Deterministic facts are compared exactly; timings need statistics."""

    DETERMINISTIC = "deterministic"
    TIMING = "timing"


@dataclass(frozen=True)
class Evidence:
    """One piece of evidence shown with a verdict: ``label`` is e.g. sql, plan, note."""

    label: str
    text: str

    def to_dict(self) -> dict[str, str]:
        return {"label": self.label, "text": self.text}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Evidence:
        return cls(label=text(data["label"]), text=text(data["text"]))


#: The label prefix of evidence that is a table of counts (``counts_evidence``): the
#: verdict engine lists what changed in it between the baseline and this run.
COUNTS_LABEL = "counts: "
#: The row of a count table that gives its floor: rows below it were left out.
OMITTED = "(smaller rows omitted)"


def counts_evidence(title: str, counts: Mapping[str, int], *, floor: int = 0) -> Evidence:
    """A table of ``name → count`` (calls per function, cost per function), largest first.

    ``floor``: the table lists every row of at least this count and leaves out
    the rest (a row ``OMITTED`` says so); 0 means the table is complete, so a
    name it lacks counts 0.
    """
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    rows = [f"{n:>14,}  {name}" for name, n in ranked if n >= floor]
    if floor > 0:
        rows.append(f"{floor:>14,}  {OMITTED}")
    return Evidence(COUNTS_LABEL + title, "\n".join(rows))


def parse_counts(evidence: Evidence) -> tuple[dict[str, int], int] | None:
    """``(rows, floor)`` of a ``counts_evidence`` item; None for any other evidence."""
    if not evidence.label.startswith(COUNTS_LABEL):
        return None
    counts: dict[str, int] = {}
    for line in evidence.text.splitlines():
        number, _, name = line.strip().partition("  ")
        if name:
            counts[name.strip()] = int(number.replace(",", ""))
    floor = counts.pop(OMITTED, 0)
    return counts, floor


#: The label of evidence saying why a value does not measure its subject (e.g. the load
#: generator, not the server, was the bottleneck), so that it is only a bound in the
#: subject's disfavour (the server did at least that well): the verdict engine does not
#: judge such a value as the subject's, and a budget on it fails with that reason.
UNJUDGED_LABEL = "not judged"


Value = float | str

#: The statistic a measurement's value is unless it says otherwise (``Measurement.statistic``).
MEDIAN = "median"
MEAN = "mean"
_PERCENTILE = re.compile(r"p(100|[0-9]{1,2}(\.[0-9]{1,3})?)")


def quantile(statistic: str) -> float | None:
    """The quantile (0-100) a statistic names: ``median`` 50, ``pNN`` NN; None for ``mean``.

    ValueError on anything else (``p101``, ``max``, ``P95``).
    """
    if statistic == MEAN:
        return None
    if statistic == MEDIAN:
        return 50.0
    if not _PERCENTILE.fullmatch(statistic):
        raise ValueError(f"statistic {statistic!r} is not median, mean or pNN (p0 to p100)")
    return float(statistic.removeprefix("p"))


@dataclass(frozen=True)
class Measurement:
    """One metric of one run.

    ``name`` is ``check/subject/metric``; the subject may itself contain
    slashes (``n_plus_one/GET /api/coocook/chefs/queries``). String values are
    only allowed for ``Direction.EQUAL`` facts.
    """

    name: str
    value: Value
    unit: str
    direction: Direction
    kind: Kind = Kind.DETERMINISTIC
    samples: tuple[float, ...] = ()
    evidence: tuple[Evidence, ...] = ()
    # Timing metrics only: the same statistic on the in-run calibration probe.
    calibration: tuple[float, ...] = field(default=())
    # What the value depends on besides the code (interpreter, packages, tools): a
    # baseline measured where any of these differ is not comparable. Empty: nothing.
    environment: Mapping[str, str] = field(default_factory=dict, hash=False)
    # Timing metrics only: which statistic of the samples the value is (``median``,
    # ``mean`` or ``pNN``); the verdict engine judges that statistic of the samples.
    statistic: str = MEDIAN

    def __post_init__(self) -> None:
        if self.name.count("/") < 2:
            raise ValueError(f"measurement name {self.name!r} is not 'check/subject/metric'")
        if isinstance(self.value, str) and self.direction is not Direction.EQUAL:
            raise ValueError(f"{self.name}: a text value needs direction 'equal'")
        quantile(self.statistic)  # ValueError on anything but median, mean, pNN

    @property
    def check(self) -> str:
        return self.name.split("/", 1)[0]

    @property
    def subject(self) -> str:
        return self.name.split("/", 1)[1].rsplit("/", 1)[0]

    @property
    def metric(self) -> str:
        return self.name.rsplit("/", 1)[1]

    @property
    def unjudged(self) -> str | None:
        """Why the value does not measure its subject (``UNJUDGED_LABEL`` evidence), or None."""
        for item in self.evidence:
            if item.label == UNJUDGED_LABEL:
                return item.text
        return None

    def summary(self) -> dict[str, float]:
        """Summary statistics of the samples (empty for deterministic values)."""
        if not self.samples:
            return {}
        ordered = sorted(self.samples)
        return {
            "n": float(len(ordered)),
            "min": ordered[0],
            "median": statistics.median(ordered),
            "mean": statistics.fmean(ordered),
            "stdev": _stdev(ordered),
            "max": ordered[-1],
        }

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "value": self.value,
            "unit": self.unit,
            "direction": self.direction.value,
            "kind": self.kind.value,
        }
        if self.samples:
            data["summary"] = self.summary()
            data["samples"] = list(self.samples)
        if self.calibration:
            data["calibration"] = list(self.calibration)
        if self.evidence:
            data["evidence"] = [e.to_dict() for e in self.evidence]
        if self.environment:
            data["environment"] = dict(self.environment)
        if self.statistic != MEDIAN:  # additive: files without it read as the median
            data["statistic"] = self.statistic
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Measurement:
        """Build from ``to_dict`` output; raises KeyError/TypeError/ValueError on bad data.

        Numbers may be perfci's spellings of non-finite floats (``"NaN"``); a text
        value is only read as text for a ``direction: equal`` fact.
        """
        direction = Direction(data["direction"])
        value = data["value"]
        if not (isinstance(value, str) and direction is Direction.EQUAL):
            value = decode_float(value)
        environment = data.get("environment") or {}
        if not isinstance(environment, Mapping):
            raise ValueError(f"environment: expected an object, got {type(environment).__name__}")
        return cls(
            name=text(data["name"]),
            value=value,
            unit=text(data["unit"]),
            direction=direction,
            kind=Kind(data.get("kind", Kind.DETERMINISTIC.value)),
            samples=tuple(decode_float(s) for s in data.get("samples") or ()),
            evidence=tuple(Evidence.from_dict(e) for e in data.get("evidence") or ()),
            calibration=tuple(decode_float(s) for s in data.get("calibration") or ()),
            environment={str(k): str(v) for k, v in environment.items()},
            statistic=text(data.get("statistic", MEDIAN)),
        )


def text(value: Any) -> str:
    """``value`` if it is a string; TypeError otherwise (decoders never stringify objects)."""
    if not isinstance(value, str):
        raise TypeError(f"expected text, got {type(value).__name__}")
    return value


def timing(
    name: str,
    samples: Sequence[float],
    *,
    unit: str = "ms",
    statistic: str = "median",
    direction: Direction = Direction.LOWER,
    evidence: Sequence[Evidence] = (),
) -> Measurement:
    """A timing measurement whose value is a statistic of its samples.

    ``statistic`` is ``median``, ``mean`` or ``pNN`` (a percentile, e.g. p95).
    """
    if not samples:
        raise ValueError(f"{name}: a timing measurement needs samples")
    return Measurement(
        name=name,
        value=percentile(samples, statistic),
        unit=unit,
        direction=direction,
        kind=Kind.TIMING,
        samples=tuple(float(s) for s in samples),
        evidence=tuple(evidence),
        statistic=statistic,
    )


def percentile(samples: Sequence[float], statistic: str) -> float:
    """``median``, ``mean`` or ``pNN`` of samples (linear interpolation)."""
    ordered = sorted(samples)
    q = quantile(statistic)
    if q is None:
        return statistics.fmean(ordered)
    if len(ordered) == 1:
        return ordered[0]
    pos = (len(ordered) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


#: What a credential in evidence is replaced with.
REDACTED = "[redacted]"


def redact(measurement: Measurement, secrets: Sequence[str]) -> Measurement:
    """``measurement`` with each of ``secrets`` replaced by ``[redacted]`` in its evidence
    and in a text value; the same object when none occurs."""
    if not secrets:
        return measurement

    def clean(text: str) -> str:
        for secret in secrets:
            text = text.replace(secret, REDACTED)
        return text

    evidence = tuple(Evidence(e.label, clean(e.text)) for e in measurement.evidence)
    value = clean(measurement.value) if isinstance(measurement.value, str) else measurement.value
    if evidence == measurement.evidence and value == measurement.value:
        return measurement
    return dataclasses.replace(measurement, evidence=evidence, value=value)


def _stdev(samples: Sequence[float]) -> float:
    """Sample standard deviation in floats (``statistics.stdev`` works in exact fractions:
    25 ms for a run's 750 timing metrics on the server's run page, against 1 ms here)."""
    if len(samples) < 2:
        return 0.0
    mean = math.fsum(samples) / len(samples)
    return math.sqrt(math.fsum((x - mean) ** 2 for x in samples) / (len(samples) - 1))
