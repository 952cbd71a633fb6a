"""The HTML report: one self-contained page for the last run and the history before it.

``render_html(runs)`` takes the runs oldest first, the reported run last, and
returns the page: a header with the verdict, the filterable verdict table with
its evidence, a trend chart per metric and the load test's stages. Pure: no
I/O, no clock (``generated_at`` is passed in).
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable, Sequence
from html import escape

from perfci.measurement import Measurement
from perfci.reporters import format as fmt
from perfci.reporters.html import assets, svg
from perfci.reporters.html.trends import LoadStage, Trend, load_stages, trends
from perfci.result import RunResult
from perfci.verdict.model import Mode, Outcome, Verdict


def _hash(source: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode()).digest()).decode() + "'"


# Only the page's own three scripts and stylesheet run: each is allowed by its hash, so
# no script or style that reached the page through a value (an event handler, a
# <script> in a label) can run, even if a value ever escaped unescaped.
_SCRIPTS = (assets.ERROR_CAPTURE_JS, assets.FILTER_JS, assets.RENDER_STATUS_JS)
CSP = (
    f"default-src 'none'; style-src {_hash(assets.CSS)}; "
    f"script-src {' '.join(_hash(js) for js in _SCRIPTS)}; "
    "img-src data:; base-uri 'none'; form-action 'none'"
)

_CSS_NAME: dict[Outcome, str] = {o: o.name.lower() for o in Outcome}


def render_html(runs: Sequence[RunResult], *, generated_at: str | None = None) -> str:
    """The report of ``runs[-1]`` with the trends of ``runs`` (oldest first)."""
    if not runs:
        raise ValueError("render_html needs at least the run to report")
    result = runs[-1]
    history = [r for r in runs if r.suite == result.suite]
    metric_trends = trends(history)
    stages = load_stages(result)
    title = f"perfci report: {result.suite}"
    body = [
        _header(result, len(history), bool(stages)),
        "<main>",
        _verdicts(result, {t.name for t in metric_trends if not t.is_text}),
        _trends(metric_trends, result),
        _load(stages) if stages else "",
        "</main>",
        _footer(generated_at),
    ]
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{escape(title)} — {escape(fmt.status(result))}</title>",
            f"<script>{assets.ERROR_CAPTURE_JS}</script>",
            f"<style>{assets.CSS}</style>",
            "</head>",
            "<body>",
            *body,
            '<output id="render-status" hidden></output>',
            f"<script>{assets.FILTER_JS}</script>",
            f"<script>{assets.RENDER_STATUS_JS}</script>",
            "</body>",
            "</html>",
            "",
        ]
    )


def anchor(name: str) -> str:
    """A stable, valid HTML id for a metric name (a slug plus a short hash of the name)."""
    slug = re.sub(r"[^a-z0-9_]+", "-", name.lower()).strip("-")
    return f"m-{slug}-{_digest(name)}"


def _digest(text: str) -> str:
    """Four hex digits that keep two names with the same slug apart."""
    value = 0
    for char in text:
        value = (value * 31 + ord(char)) % 65521
    return f"{value:04x}"


def badge(outcome: Outcome) -> str:
    return f'<span class="badge o-{_CSS_NAME[outcome]}">{escape(fmt.label(outcome))}</span>'


# -- header -------------------------------------------------------------------


def _header(result: RunResult, runs: int, has_load: bool) -> str:
    state = fmt.status(result)
    symbol = {"PASSED": "✓", "FAILED": "✗"}.get(state, "!")
    meta = [
        ("commit", f'<span class="mono">{escape(result.commit or fmt.DASH)}</span>'),
        ("branch", escape(result.branch or fmt.DASH)),
        ("started", escape(result.started_at)),
        ("duration", escape(fmt.quantity(result.duration_s, "s"))),
        ("baseline", escape(result.baseline_path or "none")),
        ("history", f"{runs} run{'s' if runs != 1 else ''} of suite {escape(result.suite)}"),
        ("checks", escape(", ".join(result.checks) or fmt.DASH)),
    ]
    if result.skipped_checks:
        meta.append(("skipped", escape(", ".join(result.skipped_checks))))
    environment = ", ".join(f"{k}={v}" for k, v in sorted(result.environment.items()))
    if environment:
        meta.append(("environment", f'<span class="mono">{escape(environment)}</span>'))
    rows = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in meta)
    unmatched = ""
    if result.judgement.unmatched_rules:
        items = "".join(f"<li>{escape(r)}</li>" for r in result.judgement.unmatched_rules)
        unmatched = (
            '<div class="notice"><strong>Rules that matched nothing:</strong>'
            f"<ul>{items}</ul></div>"
        )
    links = ['<a href="#verdicts">Verdicts</a>', '<a href="#trends">Trends</a>']
    if has_load:
        links.append('<a href="#load">Load test</a>')
    return (
        '<header class="page">'
        f"<h1><span>perfci · {escape(result.suite)}</span>"
        f'<span class="status {state.lower()}">{symbol} {state} '
        f"(exit {result.exit_code})</span></h1>"
        f'<p class="tally">{escape(fmt.tally(result))}</p>'
        f'<dl class="meta">{rows}</dl>{unmatched}'
        f'<nav class="toc" aria-label="Sections">{"".join(links)}</nav>'
        "</header>"
    )


def _footer(generated_at: str | None) -> str:
    when = f" on {escape(generated_at)}" if generated_at else ""
    return (
        f"<footer>Generated by perfci{when}. Self-contained: no network access is needed "
        "to view this file. Hover or focus a chart mark for its run and value; each chart "
        "has its numbers in a table below it.</footer>"
    )


# -- the verdict table ----------------------------------------------------------


def _verdicts(result: RunResult, charted: set[str]) -> str:
    return verdict_table(result, lambda name: f"#{anchor(name)}" if name in charted else None)


def verdict_table(result: RunResult, chart_href: Callable[[str], str | None]) -> str:
    """The ``#verdicts`` section: filters, then every verdict (failures first) with its evidence.

    ``chart_href(metric)`` is the address of the metric's chart (None: no chart link);
    ``assets.FILTER_JS`` wires up the filters. The perfci server's dashboard shows it too.
    """
    verdicts = fmt.ordered(result.verdicts)
    counts = result.counts()
    chips = "".join(
        '<label class="chip"><input type="checkbox" checked '
        f'value="{_CSS_NAME[o]}" data-outcome-filter data-failing="{str(o.fails).lower()}">'
        f"{badge(o)} <span>{counts[o]}</span></label>"
        for o in sorted((o for o in Outcome if counts[o]), key=_rank)
    )
    filters = (
        '<div class="filters hidden" role="search">'
        '<label for="verdict-search" class="visually-hidden">Filter metrics</label>'
        '<input id="verdict-search" type="search" placeholder="Filter by metric, check or reason"'
        ' aria-label="Filter verdicts by metric, check or reason">'
        f"{chips}"
        '<button type="button" id="show-failing">Failures only</button>'
        '<button type="button" id="show-all">Show all</button>'
        '<span id="verdict-count" aria-live="polite"></span></div>'
    )
    if not verdicts:
        return (
            '<section id="verdicts"><h2>Verdicts</h2><p>No measurements in this run.</p></section>'
        )
    head = (
        "<thead><tr><th scope=col>Verdict</th><th scope=col>Metric</th>"
        "<th scope=col>Baseline</th><th scope=col>Current</th><th scope=col>Change</th>"
        "<th scope=col>Threshold</th><th scope=col>Mode</th></tr></thead>"
    )
    bodies = "".join(_verdict_rows(v, chart_href(v.name)) for v in verdicts)
    return (
        f'<section id="verdicts"><h2>Verdicts</h2>{filters}'
        f'<div class="scroll"><table class="verdicts" id="verdict-table">'
        f"<caption class=visually-hidden>Every verdict of this run, failures first</caption>"
        f"{head}{bodies}</table></div></section>"
    )


# The reporters' order (failures first), taken from the one place that defines it.
_ORDER = [v.outcome for v in fmt.ordered(Verdict("", o, Mode.EXACT, "") for o in Outcome)]


def _rank(outcome: Outcome) -> int:
    return _ORDER.index(outcome)


def _verdict_rows(verdict: Verdict, chart: str | None) -> str:
    """A verdict's row; failures and verdicts to look at get a second row with the evidence."""
    check, rest = fmt.split_name(verdict.name)
    threshold = fmt.percent(verdict.threshold) if verdict.threshold is not None else fmt.DASH
    search = " ".join([verdict.name, verdict.reason, fmt.word(verdict.outcome)]).lower()
    link = f' <a href="{escape(chart)}">chart</a>' if chart else ""
    failing = " failing" if verdict.fails else ""
    detailed = verdict.outcome in fmt.DETAILED
    folded = "" if detailed else _explanation(verdict, folded=True)
    main = (
        "<tr>"
        f'<td class="outcome">{badge(verdict.outcome)}</td>'
        f'<td class="metric"><span class="check">{escape(check)}/</span>'
        f"<code>{escape(rest)}</code>{link}{folded}</td>"
        f'<td class="num" data-label="Baseline">{escape(fmt.measured(verdict.baseline))}</td>'
        f'<td class="num" data-label="Current">{escape(fmt.measured(verdict.current))}</td>'
        f'<td class="num" data-label="Change">{escape(fmt.change(verdict))}</td>'
        f'<td class="num" data-label="Threshold">{escape(threshold)}</td>'
        f'<td class="mode" data-label="Mode">{escape(verdict.mode.value)}</td>'
        "</tr>"
    )
    if detailed:
        main += f'<tr class="evidence-row"><td colspan="7">{_explanation(verdict)}</td></tr>'
    return (
        f'<tbody class="verdict{failing}" data-outcome="{_CSS_NAME[verdict.outcome]}" '
        f'data-search="{escape(search)}">{main}</tbody>'
    )


def _explanation(verdict: Verdict, *, folded: bool = False) -> str:
    """The reason, the facts behind it (budget, p-value, ...) and the evidence (SQL, plans)."""
    facts = "".join(
        f"<span>{escape(k)}: {escape(v)}</span>"
        for k, v in fmt.details(verdict)
        if k != "threshold"  # a column of its own
    )
    measurement = verdict.current or verdict.baseline
    blocks = "".join(
        _evidence_block(e.label, e.text) for e in (measurement.evidence if measurement else ())
    )
    inner = f'<p class="reason">{escape(verdict.reason)}</p>'
    if facts:
        inner += f'<p class="facts">{facts}</p>'
    if folded:
        return f'<details class="why"><summary>why</summary>{inner}{blocks}</details>'
    return inner + blocks


def _evidence_block(label: str, text: str) -> str:
    kind = re.sub(r"[^a-z]", "", label.lower()) or "note"
    return (
        f'<div class="evidence-label">{escape(label)}</div>'
        f'<pre class="evidence {kind}">{escape(text.rstrip())}</pre>'
    )


# -- trends ---------------------------------------------------------------------


def _trends(metric_trends: Sequence[Trend], result: RunResult) -> str:
    if not metric_trends:
        return '<section id="trends"><h2>Trends</h2><p>No metrics to chart.</p></section>'
    outcomes = {v.name: v.outcome for v in result.verdicts}
    order = {check: i for i, check in enumerate(result.checks)}
    runs = len(metric_trends[0].points)
    parts = [
        '<section id="trends"><h2>Trends</h2>'
        f"<p>Each metric over the last {runs} run{'s' if runs != 1 else ''}, oldest on the left: "
        "the value (solid line), the baseline it was judged against (dashed), the threshold "
        "band around the baseline (shaded), and failing runs as large diamonds on a tinted "
        "column.</p>"
    ]
    ordered = sorted(
        metric_trends,
        key=lambda t: (
            t.latest.outcome not in svg.FAILING,  # failing metrics first
            t.is_text,  # text facts (no chart) last
            order.get(t.check, len(order)),
        ),
    )
    cards = "".join(_card(t, outcomes.get(t.name)) for t in ordered)
    parts.append(f'<div class="cards">{cards}</div>')
    parts.append("</section>")
    return "".join(parts)


def _card(trend: Trend, outcome: Outcome | None) -> str:
    chart_id = anchor(trend.name)
    failing = " failing" if outcome in svg.FAILING else ""
    latest = trend.latest
    if trend.is_text:
        body = _text_fact(trend)
    else:
        body = svg.trend_chart(trend, f"{chart_id}-chart") + legend(trend) + _data_table(trend)
    value = (
        trend.text_values[-1] or fmt.DASH
        if trend.is_text
        else (fmt.DASH if latest.value is None else fmt.quantity(latest.value, trend.unit))
    )
    status = badge(outcome) if outcome else ""
    check, rest = fmt.split_name(trend.name)
    return (
        f'<figure class="card{failing}" id="{chart_id}" data-metric="{escape(trend.name)}">'
        f'<figcaption><span class="name"><span class="check">{escape(check)}/</span>'
        f"{escape(rest)}</span>"
        f'{status} <span class="latest">latest: <strong>{escape(value)}</strong></span>'
        f"</figcaption>{body}</figure>"
    )


def _text_fact(trend: Trend) -> str:
    values = [v for v in trend.text_values if v is not None]
    distinct = list(dict.fromkeys(values))
    if len(distinct) <= 1:
        shown = escape(distinct[0] if distinct else fmt.DASH)
        text = f"A text fact: {shown} in every run measured ({len(values)})."
    else:
        steps = " → ".join(escape(v) for v in distinct)
        text = f"A text fact that changed over the runs: {steps}."
    return f'<p class="text-fact">{text}</p>'


_LEGEND_SWATCH = {
    "value": (
        '<path d="M1,6 H21" stroke="#0072b2" stroke-width="2.2"/>'
        '<circle cx="11" cy="6" r="3" fill="#0072b2"/>'
    ),
    "baseline": '<path d="M1,6 H21" stroke="#333a42" stroke-width="1.6" stroke-dasharray="5 3"/>',
    "band": (
        '<rect x="1" y="1" width="20" height="10" fill="#56b4e9" fill-opacity="0.3" '
        'stroke="#56b4e9" stroke-dasharray="2 2"/>'
    ),
    "failing": '<path d="M11,0.5 L16.5,6 L11,11.5 L5.5,6 Z" fill="#d55e00"/>',
    "improvement": '<path d="M11,1 L16,11 L6,11 Z" fill="#009e73"/>',
    "budget": '<path d="M1,6 H21" stroke="#7b3294" stroke-width="1.6" stroke-dasharray="2 3"/>',
}


def legend(trend: Trend) -> str:
    """The key of a trend chart: only the marks it draws."""
    points = trend.points
    items = [("value", "value per run")]
    if any(p.baseline is not None for p in points):
        items.append(("baseline", "baseline"))
    thresholds = {p.threshold for p in points if p.threshold is not None and p.baseline is not None}
    if thresholds:
        shown = ", ".join(fmt.percent(t) for t in sorted(thresholds))
        items.append(("band", f"±{shown} threshold band"))
    if any(p.outcome in svg.FAILING for p in points):
        items.append(("failing", "✗ failing run (regression or budget)"))
    if any(p.outcome is Outcome.IMPROVEMENT for p in points):
        items.append(("improvement", "improvement"))
    if trend.budget_limits():
        items.append(("budget", "budget"))
    lis = "".join(
        f'<li><svg viewBox="0 0 22 12" aria-hidden="true">{_LEGEND_SWATCH[key]}</svg>'
        f"{escape(text)}</li>"
        for key, text in items
    )
    return f'<ul class="legend">{lis}</ul>'


def _data_table(trend: Trend) -> str:
    rows = []
    for point in reversed(trend.points):
        run = point.run
        value = fmt.DASH if point.value is None else fmt.quantity(point.value, trend.unit)
        baseline = fmt.DASH if point.baseline is None else fmt.quantity(point.baseline, trend.unit)
        change = fmt.DASH if point.change is None else fmt.percent(point.change)
        if point.change is not None and point.change > 0:
            change = "+" + change
        verdict = badge(point.outcome) if point.outcome else fmt.DASH
        rows.append(
            f"<tr><td>{run.index + 1}</td><td class=mono>{escape(run.short)}</td>"
            f"<td>{escape(value)}</td><td>{escape(baseline)}</td><td>{escape(change)}</td>"
            f"<td>{verdict}</td></tr>"
        )
    return (
        '<details class="chart-data"><summary>Numbers</summary><div class="scroll"><table>'
        "<thead><tr><th scope=col>run</th><th scope=col>commit</th><th scope=col>value</th>"
        "<th scope=col>baseline</th><th scope=col>change</th><th scope=col>verdict</th>"
        "</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></div></details>"
    )


# -- load test --------------------------------------------------------------------


def _load(stages: Sequence[LoadStage]) -> str:
    percentiles = sorted({q for s in stages for q, _ in s.percentiles()})
    other = sorted(
        {
            metric
            for s in stages
            for metric in s.metrics
            if metric not in {m.metric for _, m in s.percentiles()}
            and (s.throughput is None or metric != s.throughput.metric)
        }
    )
    head = ["stage", "throughput", *(f"p{fmt.number(q)}" for q in percentiles)]
    head += [metric.replace("_", " ") for metric in other]
    rows = []
    for stage in stages:
        by_q = dict(stage.percentiles())
        cells = [escape(svg.stage_label(stage.name)), _load_cell(stage, stage.throughput)]
        cells += [_load_cell(stage, by_q.get(q)) for q in percentiles]
        cells += [_load_cell(stage, stage.metrics.get(metric)) for metric in other]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    table = (
        '<div class="scroll"><table class="load">'
        "<caption class=visually-hidden>Load test stages</caption>"
        f"<thead><tr>{''.join(f'<th scope=col>{escape(h)}</th>' for h in head)}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )
    charts = [
        c
        for c in (
            svg.throughput_chart(stages, "load-throughput"),
            svg.latency_chart(stages, "load-latency"),
        )
        if c
    ]
    figures = "".join(f'<figure class="card">{c}</figure>' for c in charts)
    return (
        '<section id="load"><h2>Load test</h2>'
        "<p>Throughput and latency percentiles of each stage in this run. A failing value is "
        "marked ✗ and hatched or circled; hover or focus a mark for its verdict.</p>"
        f'{table}<div class="cards">{figures}</div></section>'
    )


def _load_cell(stage: LoadStage, measurement: Measurement | None) -> str:
    if measurement is None:
        return fmt.DASH
    outcome = stage.outcomes.get(measurement.metric)
    text = escape(fmt.measured(measurement))
    if outcome in svg.FAILING and outcome is not None:
        return f"{text} {badge(outcome)}"
    return text
