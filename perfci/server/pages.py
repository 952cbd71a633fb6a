"""The dashboard: server-rendered pages over the same store queries as the API.

* ``/``: the public projects;
* ``/projects/<name>/``: a project's runs, newest first, by branch and status;
* ``/projects/<name>/runs/<id>``: the run's HTML report (``perfci.reporters.html``:
  the verdict table with evidence and filters, and the trend of every metric
  across the branch's runs before it).

Access is the API's: a private project's pages need its token in an
``Authorization`` header (a reverse proxy can add it). Every uploaded text is
escaped with ``html.escape``; the pages carry a Content-Security-Policy that
allows only their own stylesheet and the report's own scripts (by hash), and
fetch nothing from elsewhere.
"""

from __future__ import annotations

import base64
import hashlib
from html import escape
from urllib.parse import quote, urlencode

from flask import Blueprint, Response, request

from perfci.history.store import STATUSES, RunSummary
from perfci.reporters import format as fmt
from perfci.reporters.html import assets, render_html
from perfci.reporters.html.page import CSP as REPORT_CSP
from perfci.server.api import fail, int_arg, project_for, store, text_arg
from perfci.verdict.model import Outcome

pages = Blueprint("pages", __name__)

PAGE = 50
#: Runs drawn in a run page's trend charts (this one and those before it on its branch).
TREND_RUNS = 20

_EXTRA_CSS = """
nav.crumbs { max-width: 1240px; margin: 0 auto; padding: 10px 16px 0; font-size: 0.9rem; }
form.filters { display: flex; flex-wrap: wrap; gap: 8px 14px; align-items: end; margin: 8px 0; }
table.runs td, table.runs th { padding: 6px 8px; text-align: left; vertical-align: top; }
table.runs tbody tr { border-bottom: 1px solid var(--line); }
table.runs .mono { overflow-wrap: anywhere; }
"""
STYLE = assets.CSS + _EXTRA_CSS
_STYLE_HASH = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
# No script at all on these pages; the one stylesheet by its hash.
CSP = (
    f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; img-src data:; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def _page(title: str, body: str, crumbs: list[tuple[str, str]]) -> Response:
    trail = " / ".join(f'<a href="{escape(href)}">{escape(text)}</a>' for href, text in crumbs)
    html = "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{escape(title)} — perfci server</title>",
            f"<style>{STYLE}</style>",
            "</head>",
            "<body>",
            f'<nav class="crumbs" aria-label="Breadcrumbs">{trail}</nav>',
            f'<header class="page"><h1><span>{escape(title)}</span></h1></header>',
            f"<main>{body}</main>",
            "</body>",
            "</html>",
            "",
        ]
    )
    return _html(html, CSP)


def _html(text: str, csp: str) -> Response:
    response = Response(text, mimetype="text/html")
    response.headers["Content-Security-Policy"] = csp
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def project_url(name: str) -> str:
    return f"/projects/{quote(name, safe='')}/"


def run_url(name: str, run_id: int) -> str:
    return f"/projects/{quote(name, safe='')}/runs/{run_id}"


@pages.get("/")
def index() -> Response:
    public = [p for p in store().projects() if p.public]
    if not public:
        body = "<p>No public projects. A private project's pages are at /projects/NAME/.</p>"
    else:
        items = "".join(
            f'<li><a href="{escape(project_url(p.name))}">{escape(p.name)}</a>'
            f" (default branch {escape(p.default_branch)})</li>"
            for p in public
        )
        body = f"<ul>{items}</ul>"
    return _page("Projects", body, [("/", "perfci server")])


def _status_cell(run: RunSummary) -> str:
    return f'<span class="status {run.status}">{escape(run.status.upper())}</span>'


def _tally(run: RunSummary) -> str:
    order = list(Outcome)
    ordered = sorted(run.counts, key=lambda o: (not o.fails, order.index(o)))
    return ", ".join(f"{run.counts[o]} {fmt.word(o)}" for o in ordered) or "no verdicts"


@pages.get("/projects/<name>/")
def project_page(name: str) -> Response:
    project = project_for(name)
    branch = text_arg(request.args, "branch", 255)
    status = request.args.get("status") or None
    if status is not None and status not in STATUSES:
        fail(400, f"'status' is one of {', '.join(STATUSES)}")
    before = int_arg(request.args, "before", 1, 2**62, None)
    runs = store().project_runs(project.id, branch=branch, status=status, before=before, limit=PAGE)
    rows = []
    for run in runs:
        upload = run.upload
        pr = f"#{upload.pr}" if upload is not None and upload.pr else fmt.DASH
        ci = (
            f'<a href="{escape(upload.ci_url)}" rel="nofollow noopener">CI</a>'
            if upload is not None and upload.ci_url
            else ""
        )
        branch_link = (
            f'<a href="{escape(project_url(name))}?{escape(urlencode({"branch": run.branch}))}">'
            f"{escape(run.branch)}</a>"
            if run.branch
            else fmt.DASH
        )
        rows.append(
            "<tr>"
            f'<td><a href="{escape(run_url(name, run.id))}">#{run.id}</a></td>'
            f"<td>{escape(run.started_at.replace('T', ' ')[:19])}</td>"
            f"<td>{branch_link}</td>"
            f'<td class="mono">{escape((run.commit or fmt.DASH)[:12])}</td>'
            f"<td>{escape(pr)}</td>"
            f"<td>{_status_cell(run)}</td>"
            f"<td>{escape(_tally(run))}</td>"
            f"<td>{ci}</td>"
            "</tr>"
        )
    options = "".join(
        f'<option value="{s}"{" selected" if s == status else ""}>{s}</option>'
        for s in ("", *STATUSES)
    )
    form = (
        '<form class="filters" method="get">'
        f'<label>branch <input name="branch" value="{escape(branch or "")}"></label>'
        f'<label>status <select name="status">{options}</select></label>'
        '<button type="submit">Filter</button></form>'
    )
    table = (
        '<table class="runs"><thead><tr><th>run</th><th>started</th><th>branch</th>'
        "<th>commit</th><th>PR</th><th>status</th><th>verdicts</th><th></th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
        if rows
        else "<p>No runs.</p>"
    )
    more = ""
    if len(runs) == PAGE:
        query = {k: v for k, v in (("branch", branch), ("status", status)) if v}
        query["before"] = str(runs[-1].id)
        more = f'<p><a href="?{escape(urlencode(query))}">Older runs</a></p>'
    return _page(
        f"{name}: runs",
        form + table + more,
        [("/", "perfci server"), (project_url(name), name)],
    )


@pages.get("/projects/<name>/runs/<int:run_id>")
def run_page(name: str, run_id: int) -> Response:
    project = project_for(name)
    stored = store().project_run(project.id, run_id)
    if stored is None:
        fail(404, f"project {name!r} has no run {run_id}")
    branch = stored.result.branch
    earlier = (
        store().project_history(project.id, branch=branch, before=run_id, limit=TREND_RUNS - 1)
        if branch
        else []
    )
    runs = [r.result for r in earlier if r.result.suite == stored.result.suite]
    page = render_html([*runs, stored.result], generated_at=stored.recorded_at.isoformat())
    return _html(page, REPORT_CSP)
