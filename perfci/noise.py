"""The noise meter: how much each timing metric moves between identical runs."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from perfci.measurement import Measurement
from perfci.units import format_quantity
from perfci.verdict import threshold_for
from perfci.verdict.model import Rules
from perfci.verdict.stats import bootstrap_ratio_ci, coefficient_of_variation


@dataclass(frozen=True)
class NoiseRow:
    """One timing metric over K repeats of its check."""

    name: str
    unit: str
    values: tuple[float, ...]
    cv: float  # coefficient of variation of the K run-level values
    # Half the width of the 95% bootstrap interval of the ratio of the metric's statistic
    # (its medians, its p95s) between two repeats with nothing changed: the precision a
    # timing verdict has at this noise.
    detectable: float
    threshold: float

    @property
    def meaningful(self) -> bool:
        """Whether a change of the threshold's size stands out of the noise.

        The engine calls a verdict precise when its interval is no wider than
        twice the threshold, i.e. this half-width no larger than the threshold.
        """
        return self.detectable <= self.threshold


def noise_rows(repeats: Sequence[Sequence[Measurement]], rules: Rules) -> list[NoiseRow]:
    """Rows for every numeric timing metric present in all repeats (pure)."""
    by_name: dict[str, list[Measurement]] = {}
    for measurements in repeats:
        for m in measurements:
            if m.samples and not isinstance(m.value, str):
                by_name.setdefault(m.name, []).append(m)
    rows = []
    for name, series in sorted(by_name.items()):
        if len(series) != len(repeats) or len(series) < 2:
            continue
        values = tuple(float(m.value) for m in series)
        threshold, _ = threshold_for(name, rules)
        widths = [
            _half_width(first.samples, second.samples, series[-1].statistic)
            for first, second in itertools.pairwise(series)
        ]
        rows.append(
            NoiseRow(
                name=name,
                unit=series[-1].unit,
                values=values,
                cv=coefficient_of_variation(values),
                detectable=sorted(widths)[len(widths) // 2],
                threshold=threshold,
            )
        )
    return rows


def _half_width(base: Sequence[float], head: Sequence[float], statistic: str) -> float:
    """Half the bootstrap interval of the ratio of the statistic the engine judges."""
    if min(base, default=0) <= 0:
        return float("inf")
    low, high = bootstrap_ratio_ci(base, head, statistic=statistic)
    return (high - low) / 2


def render_noise(rows: Sequence[NoiseRow], repeats: int) -> str:
    """A plain-text table of the noise rows, with a verdict line."""
    if not rows:
        return "no timing metric with samples was produced: nothing to measure the noise of\n"
    header = ("metric", "median", "min..max", "CV", "detectable", "threshold", "gate")
    lines = [header]
    for row in rows:
        ordered = sorted(row.values)
        median = ordered[len(ordered) // 2]
        lines.append(
            (
                row.name,
                format_quantity(median, row.unit),
                f"{format_quantity(ordered[0], row.unit)}.."
                f"{format_quantity(ordered[-1], row.unit)}",
                f"{100 * row.cv:.1f}%",
                f"±{100 * row.detectable:.1f}%",
                f"{100 * row.threshold:.0f}%",
                "ok" if row.meaningful else "TOO NOISY",
            )
        )
    widths = [max(len(str(line[i])) for line in lines) for i in range(len(header))]
    text = [
        "  ".join(str(cell).ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in lines
    ]
    noisy = sum(1 for row in rows if not row.meaningful)
    text.append("")
    text.append(
        f"{repeats} repeats. CV: spread of the per-run values; detectable: half the 95% interval "
        "of the ratio of medians between consecutive repeats (median over pairs), the "
        "precision a timing verdict has here."
    )
    text.append(
        f"{noisy} of {len(rows)} timing metrics are too noisy for their threshold: their "
        "verdicts will read 'too noisy to judge' unless strict: true"
        if noisy
        else "every timing metric can be gated at its threshold on this machine"
    )
    return "\n".join(text) + "\n"
