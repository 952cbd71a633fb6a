"""The dashboard as a Flask blueprint over any ``DashboardData``.

Routes (under the blueprint's mount point): ``/`` projects, ``/projects/<p>/``
runs (``?branch=&status=&before=``), ``/projects/<p>/runs/<id>`` a run,
``/projects/<p>/trend?metric=&branch=`` a metric's trend, ``/projects/<p>/pulls/<n>``
a PR, and the stylesheets and scripts under ``/dashboard-assets/``. Every page
carries a Content-Security-Policy that allows only those files: no inline
script or style runs, whatever reached a page.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from flask import Blueprint, Response, abort, request, url_for

from perfci.dashboard import pages, templates
from perfci.dashboard.data import STATUSES, DashboardData, ProjectInfo, RunRecord, TrendEntry
from perfci.dashboard.urls import ASSETS, Urls
from perfci.history.schema import MAX_INTEGER
from perfci.reporters.html import assets
from perfci.runner import judge_measurements
from perfci.verdict.model import Judgement, Rules

PAGE = 50
#: Run ids and PR numbers in routes: larger ones are no run (404), never a query.
NUMBER = f"int(min=1, max={MAX_INTEGER})"
TREND_RUNS = 100

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

_ASSETS: dict[str, tuple[str, str]] = {
    "report.css": (assets.CSS, "text/css"),
    "dashboard.css": (templates.CSS, "text/css"),
    "errors.js": (assets.ERROR_CAPTURE_JS, "text/javascript"),
    "filter.js": (assets.FILTER_JS, "text/javascript"),
    "status.js": (assets.RENDER_STATUS_JS, "text/javascript"),
}


def _public(project: ProjectInfo) -> bool:
    return project.public


def dashboard_blueprint(
    data: DashboardData,
    *,
    can_read: Callable[[ProjectInfo], bool] = _public,
    today: Callable[[], dt.date] = dt.date.today,
) -> Blueprint:
    """The dashboard's pages over ``data``; register it on the server's app.

    ``can_read(project)`` decides, during the request, whether it may see the
    project (default: public projects only); a project it may not see answers
    404 like a missing one and is not listed. ``today`` dates the PR view's
    comparison (acknowledgements expire by date; none apply there).
    """
    bp = Blueprint("dashboard", __name__)

    def urls() -> Urls:
        # The blueprint's root as mounted (script root and url_prefix included).
        return Urls(url_for(".projects").rstrip("/"))

    def html(body: str, status: int = 200) -> Response:
        return Response(body, status=status, mimetype="text/html")

    def missing(message: str) -> Response:
        return html(pages.not_found_page(urls(), message), 404)

    def public(name: str) -> ProjectInfo | None:
        found = data.project(name)
        return found if found is not None and can_read(found) else None

    @bp.after_request
    def _headers(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = CSP
        response.headers["Referrer-Policy"] = "same-origin"
        return response

    @bp.get(f"{ASSETS}/<name>")
    def asset(name: str) -> Response:
        if name not in _ASSETS:
            return Response("not found", status=404, mimetype="text/plain")
        text, mimetype = _ASSETS[name]
        response = Response(text, mimetype=mimetype)
        response.headers["Cache-Control"] = "public, max-age=3600"
        return response

    @bp.get("/")
    def projects() -> Response:
        readable = [p for p in data.projects() if can_read(p)]
        newest = data.newest([p.name for p in readable])
        return html(pages.projects_page(urls(), [(p, newest.get(p.name)) for p in readable]))

    @bp.get("/projects/<name>/")
    def runs(name: str) -> Response:
        project = public(name)
        if project is None:
            return missing(f"No public project {name!r}.")
        branch = request.args.get("branch") or None
        status = request.args.get("status") or None
        if status not in (None, *STATUSES):
            status = None
        before = request.args.get("before", type=int)
        if before is not None and not 1 <= before <= MAX_INTEGER:
            abort(400, f"'before' is not a run id from 1 to {MAX_INTEGER}")
        rows = data.runs(name, branch=branch, status=status, before=before, limit=PAGE)
        older = rows[-1].id if len(rows) == PAGE else None
        body = pages.runs_page(
            urls(),
            project,
            rows,
            branches=data.branches(name),
            branch=branch,
            status=status,
            older=older,
        )
        return html(body)

    @bp.get(f"/projects/<name>/runs/<{NUMBER}:run_id>")
    def run(name: str, run_id: int) -> Response:
        project = public(name)
        record = data.run(name, run_id) if project else None
        if project is None or record is None:
            return missing(f"No run {run_id} in a public project {name!r}.")
        return html(pages.run_page(urls(), project, record))

    @bp.get("/projects/<name>/trend")
    def trend(name: str) -> Response:
        project = public(name)
        if project is None:
            return missing(f"No public project {name!r}.")
        branch = request.args.get("branch") or project.default_branch
        metric = request.args.get("metric") or None
        entries: Sequence[TrendEntry] = []
        metrics: list[str] = []
        if metric:
            entries = data.trend(name, metric, branch=branch, limit=TREND_RUNS)
        else:  # the index: the newest run's metrics (loading a run is the costly part)
            newest = data.runs(name, branch=branch, limit=1)
            metrics = _metric_names(data.run(name, newest[0].id) if newest else None)
        body = pages.trend_page(
            urls(), project, branch=branch, metric=metric, entries=entries, metrics=metrics
        )
        return html(body)

    @bp.get(f"/projects/<name>/pulls/<{NUMBER}:number>")
    def pull(name: str, number: int) -> Response:
        project = public(name)
        if project is None:
            return missing(f"No public project {name!r}.")
        pushes = data.runs(name, pr=number, limit=PAGE)
        head = data.run(name, pushes[0].id) if pushes else None
        # The base a gate of this PR would fetch: its suite, every check the head measured.
        base = data.baseline(
            name,
            branch=project.default_branch,
            suite=head.result.suite if head else None,
            checks=_measured(head) if head else (),
        )
        comparison = _compare(head, base, today()) if head and base else None
        body = pages.pull_page(
            urls(), project, number, pushes=pushes, head=head, base=base, comparison=comparison
        )
        return html(body)

    return bp


def _measured(record: RunRecord) -> tuple[str, ...]:
    """The checks a run measured: those it ran, less those it skipped."""
    skipped = set(record.result.skipped_checks)
    return tuple(c for c in record.result.checks if c not in skipped)


def _metric_names(record: RunRecord | None) -> list[str]:
    if record is None:
        return []
    return sorted(m.name for m in record.result.measurements if not isinstance(m.value, str))


def _compare(head: RunRecord, base: RunRecord, today: dt.date) -> Judgement:
    """Head's measurements judged against base's with the default rules (the API's compare)."""
    return judge_measurements(
        head.result.measurements, base.result.measurements, Rules(today=today)
    )
