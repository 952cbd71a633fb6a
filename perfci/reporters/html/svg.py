"""Server-side SVG charts: a metric's trend over the runs, and the load test's stages.

No JavaScript draws anything: the report is complete as written, offline and
printable. Every mark says what it is twice, by shape and in its ``<title>``
(a tooltip and a screen-reader label), never by colour alone.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from perfci.measurement import Direction
from perfci.reporters import format as fmt
from perfci.reporters.html.axis import Axis, value_axis
from perfci.reporters.html.trends import LoadStage, Trend, TrendPoint
from perfci.verdict.model import Outcome

WIDTH, HEIGHT = 460, 236
LEFT, RIGHT, TOP, BOTTOM = 50, 14, 22, 40

FAILING = frozenset({Outcome.REGRESSION, Outcome.BUDGET, Outcome.MISSING})


@dataclass(frozen=True)
class Frame:
    """The plot area inside the margins and the value axis that maps onto it."""

    axis: Axis
    count: int  # points on the x axis

    @property
    def plot_width(self) -> float:
        return WIDTH - LEFT - RIGHT

    @property
    def step(self) -> float:
        """Horizontal distance between two runs."""
        if self.count <= 1:
            return self.plot_width / 2
        return (self.plot_width - 2 * self.pad) / (self.count - 1)

    @property
    def pad(self) -> float:
        return min(28.0, self.plot_width / (2 * max(self.count, 1)))

    def x(self, index: int) -> float:
        if self.count <= 1:
            return LEFT + self.plot_width / 2
        return LEFT + self.pad + index * self.step

    def y(self, value: float) -> float:
        """A value in the metric's unit to a y coordinate."""
        axis = self.axis
        span = axis.hi - axis.lo or 1.0
        shown = min(max(value * axis.factor, axis.lo), axis.hi)
        return TOP + (HEIGHT - TOP - BOTTOM) * (1 - (shown - axis.lo) / span)


def _n(value: float) -> str:
    """A coordinate with one decimal, no trailing zeros."""
    return f"{value:.1f}".removesuffix(".0")


def _open(kind: str, chart_id: str, title: str, desc: str, extra: str = "") -> list[str]:
    return [
        f'<svg class="chart {kind}" id="{chart_id}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc"{extra}>',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>',
    ]


def _grid(frame: Frame) -> list[str]:
    parts = ['<g class="grid">']
    for tick in frame.axis.ticks:
        y = _n(frame.y(tick / frame.axis.factor))
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y}" y2="{y}"/>')
        parts.append(
            f'<text class="tick" x="{LEFT - 6}" y="{y}" dy="0.32em" text-anchor="end">'
            f"{escape(frame.axis.label(tick))}</text>"
        )
    parts.append(
        f'<text class="axis-title" x="4" y="{TOP - 8}">{escape(frame.axis.title)}</text></g>'
    )
    return parts


def _x_labels(frame: Frame, labels: Sequence[str]) -> list[str]:
    count = len(labels)
    every = max(1, math.ceil(count / 6))
    shown = [i for i in range(count) if i % every == 0]
    if shown[-1] != count - 1:
        if count - 1 - shown[-1] < every / 2 and len(shown) > 1:
            shown.pop()
        shown.append(count - 1)
    y = HEIGHT - BOTTOM + 16
    parts = ['<g class="x-labels">']
    for i in shown:
        anchor = "middle"
        parts.append(
            f'<text class="tick" x="{_n(frame.x(i))}" y="{y}" text-anchor="{anchor}">'
            f"{escape(labels[i])}</text>"
        )
    parts.append("</g>")
    return parts


# -- the trend of one metric ------------------------------------------------


def trend_chart(
    trend: Trend, chart_id: str, *, point_links: Sequence[str | None] | None = None
) -> str:
    """The metric's value per run, its baseline, the threshold band, regressions marked.

    ``point_links`` (one address per point, or None) makes each mark a link to its run.
    """
    points = trend.points
    scale_values: list[float] = []
    for p in points:
        scale_values += [v for v in (p.value, p.baseline) if v is not None]
        band = _band(p)
        if band:
            scale_values += band
    scale_values += [limit for _, limit in trend.budget_limits()]
    frame = Frame(value_axis(scale_values, trend.unit), len(points))
    latest = trend.latest
    desc = (
        f"{len(points)} runs; latest {_value(latest.value, trend.unit)}"
        f"{'' if latest.outcome is None else ', ' + fmt.word(latest.outcome)}; "
        f"{sum(p.outcome in FAILING for p in points)} failing run(s) marked"
    )
    parts = _open(
        "trend",
        chart_id,
        f"Trend of {trend.name}",
        desc,
        extra=f' data-metric="{escape(trend.name)}"',
    )
    parts += _failing_columns(frame, points)
    parts += _grid(frame)
    parts += _band_and_baseline(frame, points)
    parts += _budget_lines(frame, trend)
    parts += _series(frame, points)
    parts += _markers(frame, trend, point_links)
    parts += _x_labels(frame, [p.run.short for p in points])
    parts.append("</svg>")
    return "\n".join(parts)


def _band(point: TrendPoint) -> tuple[float, float] | None:
    if point.baseline is None or point.threshold is None:
        return None
    spread = abs(point.baseline) * point.threshold
    return point.baseline - spread, point.baseline + spread


def _segments(points: Sequence[TrendPoint]) -> list[list[int]]:
    """Runs of consecutive points that have a baseline."""
    segments: list[list[int]] = []
    for i, point in enumerate(points):
        if point.baseline is None:
            continue
        if segments and segments[-1][-1] == i - 1:
            segments[-1].append(i)
        else:
            segments.append([i])
    return segments


def _span(frame: Frame, index: int) -> tuple[float, float]:
    """The horizontal extent of one run's step, clipped to the plot."""
    half = frame.step / 2
    x = frame.x(index)
    return max(LEFT, x - half), min(WIDTH - RIGHT, x + half)


def _band_and_baseline(frame: Frame, points: Sequence[TrendPoint]) -> list[str]:
    parts: list[str] = []
    for segment in _segments(points):
        banded = [i for i in segment if _band(points[i])]
        if banded:
            upper, lower = [], []
            for i in banded:
                lo, hi = _band(points[i]) or (0.0, 0.0)
                x0, x1 = _span(frame, i)
                upper += [f"{_n(x0)},{_n(frame.y(hi))}", f"{_n(x1)},{_n(frame.y(hi))}"]
                lower += [f"{_n(x0)},{_n(frame.y(lo))}", f"{_n(x1)},{_n(frame.y(lo))}"]
            threshold = points[banded[-1]].threshold or 0.0
            parts.append(
                f'<polygon class="band" points="{" ".join(upper + lower[::-1])}">'
                f"<title>threshold band: baseline ±{fmt.percent(threshold)}</title></polygon>"
            )
        path: list[str] = []
        for i in segment:
            x0, x1 = _span(frame, i)
            y = _n(frame.y(points[i].baseline or 0.0))
            path.append(f"{'M' if not path else 'L'}{_n(x0)},{y} L{_n(x1)},{y}")
        parts.append(f'<path class="baseline" d="{" ".join(path)}"/>')
    return parts


def _budget_lines(frame: Frame, trend: Trend) -> list[str]:
    parts = []
    for side, limit in trend.budget_limits():
        y = frame.y(limit)
        text = f"budget {side} {fmt.quantity(limit, trend.unit)}"
        parts.append(
            f'<g class="budget"><line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{_n(y)}" y2="{_n(y)}"/>'
            f'<text x="{WIDTH - RIGHT - 2}" y="{_n(y - 4)}" text-anchor="end">{escape(text)}</text>'
            f"<title>{escape(text)}</title></g>"
        )
    return parts


def _series(frame: Frame, points: Sequence[TrendPoint]) -> list[str]:
    path: list[str] = []
    previous = False
    for i, point in enumerate(points):
        if point.value is None:
            previous = False
            continue
        command = "L" if previous else "M"
        path.append(f"{command}{_n(frame.x(i))},{_n(frame.y(point.value))}")
        previous = True
    if not path:
        return []
    return [f'<path class="series" d="{" ".join(path)}"/>']


def _failing_columns(frame: Frame, points: Sequence[TrendPoint]) -> list[str]:
    """A tinted column behind each failing run, so a regression reads as a visible step."""
    parts = []
    for i, point in enumerate(points):
        if point.outcome in FAILING:
            x0, x1 = _span(frame, i)
            parts.append(
                f'<rect class="failing-column" x="{_n(x0)}" y="{TOP}" '
                f'width="{_n(x1 - x0)}" height="{HEIGHT - TOP - BOTTOM}"/>'
            )
    return parts


def _markers(frame: Frame, trend: Trend, links: Sequence[str | None] | None = None) -> list[str]:
    parts = ['<g class="markers">']
    labels = []
    for i, point in enumerate(trend.points):
        if point.value is None:
            continue
        x, y = frame.x(i), frame.y(point.value)
        outcome = point.outcome
        css = outcome.name.lower() if outcome else "unjudged"
        shape = _shape(outcome, trend.direction, x, y)
        mark = (
            f'<g class="marker outcome-{css}" data-outcome="{escape(outcome or "")}" '
            f'data-run="{i}"><title>{escape(_tooltip(point, trend.unit))}</title>{shape}</g>'
        )
        href = links[i] if links is not None else None
        parts.append(f'<a href="{escape(href)}">{mark}</a>' if href else mark)
        if outcome in FAILING:
            labels.append(_failure_label(point, x, y))
    parts.append("</g>")
    return parts + labels


def _shape(outcome: Outcome | None, direction: Direction, x: float, y: float) -> str:
    if outcome in FAILING:  # a large diamond
        r = 7.5
        return (
            f'<path d="M{_n(x)},{_n(y - r)} L{_n(x + r)},{_n(y)} '
            f'L{_n(x)},{_n(y + r)} L{_n(x - r)},{_n(y)} Z"/>'
        )
    if outcome is Outcome.IMPROVEMENT:  # a triangle pointing the better way
        r = 6.0
        tip = -r if direction is not Direction.LOWER else r
        return (
            f'<path d="M{_n(x)},{_n(y + tip)} L{_n(x + r)},{_n(y - tip)} '
            f'L{_n(x - r)},{_n(y - tip)} Z"/>'
        )
    if outcome is Outcome.ACKNOWLEDGED:  # a square
        return f'<rect x="{_n(x - 5)}" y="{_n(y - 5)}" width="10" height="10"/>'
    if outcome is Outcome.NOISY:  # a ring
        return f'<circle cx="{_n(x)}" cy="{_n(y)}" r="5"/>'
    return f'<circle cx="{_n(x)}" cy="{_n(y)}" r="3.5"/>'


def _failure_label(point: TrendPoint, x: float, y: float) -> str:
    outcome = point.outcome or Outcome.REGRESSION
    change = point.change
    if change is not None and math.isfinite(change):
        text = f"✗ {change * 100:+.0f}%"
    else:
        text = f"✗ {fmt.word(outcome).lower()}"
    above = y - 12 > TOP + 4
    ty = y - 12 if above else y + 22
    anchor = "middle"
    if x > WIDTH - RIGHT - 40:
        anchor = "end"
    elif x < LEFT + 40:
        anchor = "start"
    return (
        f'<text class="failure-label" x="{_n(x)}" y="{_n(ty)}" '
        f'text-anchor="{anchor}">{escape(text)}</text>'
    )


def _value(value: float | None, unit: str) -> str:
    return fmt.DASH if value is None else fmt.quantity(value, unit)


def _tooltip(point: TrendPoint, unit: str) -> str:
    run = point.run
    parts = [
        f"run {run.index + 1}",
        run.commit[:10] if run.commit else run.started_at,
        _value(point.value, unit),
    ]
    if point.baseline is not None:
        parts.append(f"baseline {_value(point.baseline, unit)}")
    if point.outcome is not None:
        parts.append(fmt.label(point.outcome))
    text = " · ".join(parts)
    return f"{text}: {point.reason}" if point.reason and point.outcome in FAILING else text


# -- the load test ----------------------------------------------------------


def stage_label(name: str) -> str:
    """``500users`` → ``500 users``."""
    digits = len(name) - len(name.lstrip("0123456789."))
    return f"{name[:digits]} {name[digits:]}" if 0 < digits < len(name) else name


def throughput_chart(stages: Sequence[LoadStage], chart_id: str) -> str | None:
    """Bars of throughput per stage, a failing stage hatched and labelled."""
    measured = [(s, s.throughput) for s in stages if s.throughput is not None]
    if not measured:
        return None
    unit = measured[0][1].unit if measured[0][1] else "req/s"
    values = [float(m.value) for _, m in measured if m and not isinstance(m.value, str)]
    frame = Frame(value_axis(values, unit), len(measured))
    parts = _open(
        "load-throughput",
        chart_id,
        "Throughput per load stage",
        ", ".join(f"{stage_label(s.name)}: {fmt.measured(m)}" for s, m in measured),
    )
    parts.append(
        f'<defs><pattern id="{chart_id}-hatch" width="6" height="6" '
        'patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
        '<rect width="6" height="6" class="hatch-bg"/><line x1="0" y1="0" x2="0" y2="6" '
        'class="hatch-line"/></pattern></defs>'
    )
    parts += _grid(frame)
    width = min(56.0, frame.step * 0.6 if len(measured) > 1 else 80.0)
    base = frame.y(0.0)
    for i, (stage, m) in enumerate(measured):
        if m is None or isinstance(m.value, str):
            continue
        value = float(m.value)
        x, y = frame.x(i), frame.y(value)
        metric = m.metric
        failing = stage.outcomes.get(metric) in FAILING
        fill = f' fill="url(#{chart_id}-hatch)"' if failing else ""
        tooltip = f"{stage_label(stage.name)}: {fmt.measured(m)}"
        if failing:
            tooltip += f" · {fmt.label(stage.outcomes[metric])}"
        parts.append(
            f'<g class="bar{" failing" if failing else ""}"><title>{escape(tooltip)}</title>'
            f'<rect x="{_n(x - width / 2)}" y="{_n(y)}" width="{_n(width)}" '
            f'height="{_n(max(base - y, 0.5))}"{fill}/>'
            f'<text class="bar-label" x="{_n(x)}" y="{_n(y - 5)}" text-anchor="middle">'
            f"{'✗ ' if failing else ''}{escape(fmt.measured(m))}</text></g>"
        )
    parts += _x_labels(frame, [stage_label(s.name) for s, _ in measured])
    parts.append("</svg>")
    return "\n".join(parts)


# Line styles for percentiles: (css class, marker shape); the label at the line's end names it.
_PERCENTILE_STYLES = (("p-a", "circle"), ("p-b", "square"), ("p-c", "triangle"))


def latency_chart(stages: Sequence[LoadStage], chart_id: str) -> str | None:
    """One line per latency percentile across the stages, each named at its end."""
    series: dict[float, list[tuple[int, float, str]]] = {}
    unit = "ms"
    for i, stage in enumerate(stages):
        for q, m in stage.percentiles():
            if isinstance(m.value, str):
                continue
            unit = m.unit
            series.setdefault(q, []).append((i, float(m.value), m.metric))
    if not series:
        return None
    values = [v for line in series.values() for _, v, _ in line]
    frame = Frame(value_axis(values, unit), len(stages))
    names = [f"p{fmt.number(q)}" for q in sorted(series)]
    parts = _open(
        "load-latency",
        chart_id,
        "Latency percentiles per load stage",
        f"{', '.join(names)} across {len(stages)} stages",
    )
    parts += _grid(frame)
    for n, q in enumerate(sorted(series)):
        css, shape = _PERCENTILE_STYLES[n % len(_PERCENTILE_STYLES)]
        line = series[q]
        name = f"p{fmt.number(q)}"
        d = " ".join(
            f"{'M' if k == 0 else 'L'}{_n(frame.x(i))},{_n(frame.y(v))}"
            for k, (i, v, _) in enumerate(line)
        )
        parts.append(f'<g class="percentile {css}"><path class="series" d="{d}"/>')
        for i, v, metric in line:
            stage = stages[i]
            failing = stage.outcomes.get(metric) in FAILING
            tip = f"{name} at {stage_label(stage.name)}: {fmt.quantity(v, unit)}"
            if failing:
                tip += f" · {fmt.label(stage.outcomes[metric])}"
            parts.append(
                f'<g class="point{" failing" if failing else ""}"><title>{escape(tip)}</title>'
                f"{_point_shape(shape, frame.x(i), frame.y(v), 7.5 if failing else 4.5)}</g>"
            )
        last_i, last_v, _ = line[-1]
        parts.append(
            f'<text class="line-label" x="{_n(frame.x(last_i) + 9)}" '
            f'y="{_n(frame.y(last_v))}" dy="0.32em">{name}</text></g>'
        )
    parts += _x_labels(frame, [stage_label(s.name) for s in stages])
    parts.append("</svg>")
    return "\n".join(parts)


def _point_shape(shape: str, x: float, y: float, r: float) -> str:
    if shape == "square":
        side = _n(r * 1.6)
        return f'<rect x="{_n(x - r * 0.8)}" y="{_n(y - r * 0.8)}" width="{side}" height="{side}"/>'
    if shape == "triangle":
        low = _n(y + r * 0.8)
        return f'<path d="M{_n(x)},{_n(y - r)} L{_n(x + r)},{low} L{_n(x - r)},{low} Z"/>'
    return f'<circle cx="{_n(x)}" cy="{_n(y)}" r="{_n(r * 0.8)}"/>'
