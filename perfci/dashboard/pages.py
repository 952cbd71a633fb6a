"""The dashboard's pages: data in, an HTML page out (no I/O, no Flask, no clock).

Jinja2 with autoescaping writes every value: everything shown here came from an
upload. The HTML report's own pieces (the verdict table, the trend chart, its
legend, the badges) are inserted as the markup they already escaped. Styles
and scripts are files the blueprint serves (``assets``), so the page's policy
allows no inline script at all.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from jinja2 import DictLoader, Environment, StrictUndefined
from markupsafe import Markup

from perfci.dashboard import templates
from perfci.dashboard.data import ProjectInfo, RunRecord, RunRow, TrendEntry
from perfci.dashboard.urls import Urls
from perfci.measurement import Direction
from perfci.reporters import format as fmt
from perfci.reporters.html import svg
from perfci.reporters.html.page import badge, legend, verdict_table
from perfci.reporters.html.trends import RunLabel, Trend, TrendPoint
from perfci.verdict.model import Judgement, Outcome

_ENV = Environment(
    loader=DictLoader(templates.TEMPLATES),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _render(name: str, urls: Urls, **context: Any) -> str:
    return _ENV.get_template(name).render(urls=urls, **context)


def safe_link(url: str | None) -> str | None:
    """``url`` when it is an http(s) address, else None: a ``javascript:`` CI link stays text."""
    if url and url.lower().startswith(("https://", "http://")):
        return url
    return None


def _outcome_badge(slug: str | None) -> Markup:
    try:
        return Markup(badge(Outcome(slug))) if slug else Markup("")
    except ValueError:
        return Markup("")


def _tally(counts: Mapping[str, int]) -> str:
    known = {o.value: o for o in Outcome}
    return fmt.tally_of({known[k]: n for k, n in counts.items() if k in known})


def _row(row: RunRow) -> dict[str, Any]:
    return {
        "row": row,
        "short": (row.commit or "")[:10] or fmt.DASH,
        "tally": _tally(row.counts),
        "ci": safe_link(row.ci_url),
    }


# -- pages ----------------------------------------------------------------------------


def projects_page(urls: Urls, projects: Sequence[tuple[ProjectInfo, RunRow | None]]) -> str:
    """Every project with the newest run on its default branch (None: no run there yet)."""
    items = [(p, _row(r) if r else None) for p, r in projects]
    return _render("projects.html", urls, title="perfci · projects", items=items)


def runs_page(
    urls: Urls,
    project: ProjectInfo,
    rows: Sequence[RunRow],
    *,
    branches: Sequence[str],
    branch: str | None,
    status: str | None,
    older: int | None,
) -> str:
    """A project's runs (newest first) with the branch and status filters in force;
    ``older`` is the cursor of the next page (None: this is the last page)."""
    return _render(
        "runs.html",
        urls,
        title=f"perfci · {project.name} · runs",
        project=project,
        rows=[_row(r) for r in rows],
        branches=branches,
        branch=branch,
        status=status,
        older=older,
    )


def run_page(urls: Urls, project: ProjectInfo, record: RunRecord) -> str:
    """A run: what, where and when, then the HTML report's verdict table with its evidence
    and filters; each numeric metric links to its trend on the default branch."""
    result = record.result
    numeric = {m.name for m in result.measurements if not isinstance(m.value, str)}

    def chart(metric: str) -> str | None:
        if metric not in numeric:
            return None
        return urls.trend(project.name, metric, branch=project.default_branch)

    return _render(
        "run.html",
        urls,
        title=f"perfci · {project.name} · run {record.id} · {fmt.status(result)}",
        project=project,
        record=record,
        result=result,
        state=fmt.status(result),
        tally=fmt.tally(result),
        ci=safe_link(record.ci_url),
        environment=", ".join(f"{k}={v}" for k, v in sorted(result.environment.items())),
        table=Markup(verdict_table(result, chart)),
    )


def trend_of(metric: str, entries: Sequence[TrendEntry]) -> Trend:
    """The HTML report's ``Trend`` of ``metric`` over ``entries`` (oldest first)."""
    points = []
    for index, entry in enumerate(entries):
        try:
            outcome = Outcome(entry.outcome) if entry.outcome else None
        except ValueError:
            outcome = None
        points.append(
            TrendPoint(
                run=RunLabel(index, entry.commit, entry.branch, entry.started_at),
                value=entry.value,
                outcome=outcome,
                baseline=entry.baseline,
                threshold=entry.threshold,
                change=entry.change,
            )
        )
    last = entries[-1] if entries else None
    try:
        direction = Direction(last.direction) if last else Direction.LOWER
    except ValueError:
        direction = Direction.LOWER
    return Trend(metric, last.unit if last else "", direction, tuple(points))


def trend_page(
    urls: Urls,
    project: ProjectInfo,
    *,
    branch: str,
    metric: str | None,
    entries: Sequence[TrendEntry],
    metrics: Sequence[str],
) -> str:
    """One metric over ``branch``'s runs (oldest first): the report's trend chart with
    failing runs marked and every point a link to its run, then the numbers. Without a
    ``metric``, the index: the metrics to choose from (``metrics``, the newest run's)."""
    chart = Markup("")
    key = Markup("")
    rows: list[dict[str, Any]] = []
    if metric and entries:
        trend = trend_of(metric, entries)
        links: list[str | None] = [urls.run(project.name, e.run_id) for e in entries]
        chart = Markup(svg.trend_chart(trend, "trend-chart", point_links=links))
        key = Markup(legend(trend))
        for entry in reversed(entries):
            value = fmt.DASH if entry.value is None else fmt.quantity(entry.value, entry.unit)
            rows.append(
                {
                    "entry": entry,
                    "value": value,
                    "verdict": _outcome_badge(entry.outcome),
                    "short": (entry.commit or "")[:10] or entry.started_at,
                }
            )
    return _render(
        "trend.html",
        urls,
        title=f"perfci · {project.name} · trend" + (f" · {metric}" if metric else ""),
        project=project,
        branch=branch,
        metric=metric,
        chart=chart,
        legend=key,
        rows=rows,
        metrics=metrics,
    )


def pull_page(
    urls: Urls,
    project: ProjectInfo,
    number: int,
    *,
    pushes: Sequence[RunRow],
    head: RunRecord | None,
    base: RunRecord | None,
    comparison: Judgement | None,
) -> str:
    """A PR: its newest run (head) against the base branch's baseline run (base), judged
    by ``comparison`` (head's measurements against base's), and every run uploaded for it."""
    table = Markup("")
    verdict: dict[str, Any] | None = None
    head_result = head.result if head else None
    if head_result is not None and base is not None and comparison is not None:
        compared = dataclasses.replace(head_result, judgement=comparison)
        table = Markup(verdict_table(compared, _no_chart))
        state = "FAILED" if comparison.failed else "PASSED"
        verdict = {"state": state, "tally": fmt.tally(compared)}
    return _render(
        "pull.html",
        urls,
        title=f"perfci · {project.name} · PR #{number}",
        project=project,
        number=number,
        pushes=[_row(r) for r in pushes],
        head=head,
        head_result=head_result,
        base=base,
        base_result=base.result if base else None,
        verdict=verdict,
        table=table,
    )


def _no_chart(_metric: str) -> None:
    return None


def not_found_page(urls: Urls, message: str) -> str:
    """The page of a 404: one line saying what was not found."""
    return _render("not_found.html", urls, title="perfci · not found", message=message)
