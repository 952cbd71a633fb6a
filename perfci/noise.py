"""The noise meter: how much each timing metric moves between identical runs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from perfci.measurement import Measurement
from perfci.units import format_quantity
from perfci.verdict import threshold_for
from perfci.verdict.model import Rules
from perfci.verdict.stats import coefficient_of_variation, minimal_detectable_change


@dataclass(frozen=True)
class NoiseRow:
    """One timing metric over K repeats of its check."""

    name: str
    unit: str
    values: tuple[float, ...]
    cv: float  # coefficient of variation of the K run-level values
    detectable: float  # smallest relative change a gate on K-vs-K runs would catch
    sample_detectable: float  # the same from one run's raw samples (what a single gate sees)
    threshold: float

    @property
    def meaningful(self) -> bool:
        """Whether the gate's threshold is above what the noise lets it see."""
        return self.sample_detectable <= self.threshold


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
        cv = coefficient_of_variation(values)
        last = series[-1]
        sample_cv = coefficient_of_variation(last.samples)
        threshold, _ = threshold_for(name, rules)
        rows.append(
            NoiseRow(
                name=name,
                unit=last.unit,
                values=values,
                cv=cv,
                detectable=minimal_detectable_change(cv, len(values), alpha=rules.alpha),
                sample_detectable=minimal_detectable_change(
                    sample_cv, len(last.samples), alpha=rules.alpha
                ),
                threshold=threshold,
            )
        )
    return rows


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
                f"{100 * row.sample_detectable:.1f}%",
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
        f"{repeats} repeats. CV: spread of the per-run values; detectable: the smallest change "
        "one run's samples can show (one-sided, 80% power)."
    )
    text.append(
        f"{noisy} of {len(rows)} timing metrics are too noisy for their threshold: their "
        "verdicts will read 'too noisy to judge' unless strict: true"
        if noisy
        else "every timing metric can be gated at its threshold on this machine"
    )
    return "\n".join(text) + "\n"
