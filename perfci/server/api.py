"""The JSON API of ``perfci server`` under ``/api/v1/`` (documented in ``openapi.yaml``).

Writes need a write token of the project (``Authorization: Bearer pci_…``);
reads need one (a read-only one will do) unless the project is public. A token of another project is
refused (403) exactly like no token would be for a private project (401).
Every error is a JSON object ``{"error": "one line"}`` with a 4xx/5xx status.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any, NoReturn

from flask import Blueprint, Flask, Response, current_app, g, request
from werkzeug.exceptions import HTTPException

from perfci.dashboard.data import ProjectInfo
from perfci.files import dumps
from perfci.history.schema import MAX_INTEGER
from perfci.history.store import (
    BASELINE_SCAN,
    HistoryError,
    HistoryStore,
    NoSuchProject,
    Project,
    RunSummary,
    StoredRun,
    TrendPoint,
    Upload,
)
from perfci.result import STATUSES
from perfci.runner import judge_measurements
from perfci.server.tokens import digest
from perfci.server.upload import UploadRejected, parse_upload
from perfci.verdict.model import Rules

api = Blueprint("api_v1", __name__, url_prefix="/api/v1")

PAGE = 50
MAX_PAGE = 200
MAX_TREND = 1_000
#: The route converter of run ids: a larger id is no run (404), never a query.
RUN_ID = f"int(min=1, max={MAX_INTEGER})"


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def fail(status: int, message: str) -> NoReturn:
    raise ApiError(status, message)


def _json(data: Any, status: int = 200) -> Response:
    # perfci's strict codec: non-finite floats as "Infinity"/"NaN" strings, as in results files.
    return Response(dumps(data, indent=None), status=status, mimetype="application/json")


def store() -> HistoryStore:
    found: HistoryStore = current_app.extensions["perfci_store"]
    return found


def register_errors(app: Flask) -> None:
    """JSON bodies for every error, the API's own and Flask's (404, 405, 413)."""

    @app.errorhandler(ApiError)
    def _api_error(error: ApiError) -> Response:
        return _json({"error": error.message}, error.status)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response:
        status = error.code or 500
        message = {413: "the upload is over the size limit"}.get(status, error.name)
        if status == 400 and error.description != type(error).description:
            message = str(error.description)  # our own one line (abort(400, "..."))
        return _json({"error": message}, status)

    @app.errorhandler(HistoryError)
    def _store_error(error: HistoryError) -> Response:
        app.logger.error("perfci server: %s", error)
        return _json({"error": "the server's store is unavailable"}, 503)


# --- access ---------------------------------------------------------------------------------


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def project_for(name: str, *, write: bool = False) -> Project:
    """The project, if this request may read it (or write to it)."""
    try:
        project = store().project(name)
    except NoSuchProject:
        fail(404, f"no project {name!r}")
    if project.public and not write:
        return project
    token = _bearer()
    if token is None:
        fail(401, "a token of the project is required (Authorization: Bearer …)")
    grant = store().token_grant(digest(token))
    if grant is None or grant.project_id != project.id:
        fail(403, "this token does not give access to this project")
    if write and grant.read_only:
        fail(403, "this token is read-only: writes need a write token of the project")
    return project


def can_read(project: ProjectInfo) -> bool:
    """Whether this request may see ``project``'s pages: public, or its own token is sent."""
    if project.public:
        return True
    if "token_project" not in g:  # once per request: the projects page asks per project
        token = _bearer()
        g.token_project = None if token is None else store().token_project_name(digest(token))
    return bool(g.token_project == project.name)


# --- shapes ---------------------------------------------------------------------------------


def run_summary(run: RunSummary, project: str) -> dict[str, Any]:
    """A run as listed: who, when, what it judged."""
    upload = run.upload
    return {
        "id": run.id,
        "url": f"/api/v1/projects/{project}/runs/{run.id}",
        "suite": run.suite,
        "started_at": run.started_at,
        "recorded_at": None if run.recorded_at is None else _iso(run.recorded_at),
        "commit": run.commit,
        "branch": run.branch,
        "pr": None if upload is None else upload.pr,
        "ci_url": None if upload is None else upload.ci_url,
        "status": run.status,
        "exit_code": run.exit_code,
        "duration_s": run.duration_s,
        "counts": {outcome.value: n for outcome, n in run.counts.items()},
    }


def _summary_of(stored: StoredRun) -> RunSummary:
    result = stored.result
    return RunSummary(
        id=stored.id,
        uid=stored.uid,
        suite=result.suite,
        started_at=result.started_at,
        commit=result.commit,
        branch=result.branch,
        exit_code=result.exit_code,
        duration_s=result.duration_s,
        counts={o: n for o, n in result.counts().items() if n},
        upload=stored.upload,
        recorded_at=stored.recorded_at,
    )


def run_detail(stored: StoredRun, project: str) -> dict[str, Any]:
    """A run with its results (measurements and verdicts, the ``--json`` format)."""
    return {"run": run_summary(_summary_of(stored), project), "results": stored.result.to_dict()}


def _point(point: TrendPoint, project: str) -> dict[str, Any]:
    return {
        "run": point.run_id,
        "url": f"/api/v1/projects/{project}/runs/{point.run_id}",
        "started_at": point.started_at,
        "commit": point.commit,
        "branch": point.branch,
        "status": point.status,
        "value": point.value,
        "unit": point.unit,
    }


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds")


# --- query parameters -----------------------------------------------------------------------


def refuse_nul() -> None:
    """Before every request (API and dashboard): no NUL character in the path or a query
    parameter. PostgreSQL cannot take one in a string (SQLite can): a 400, not a 503."""
    if "\x00" in request.path:
        fail(400, "the path holds a NUL character")
    for key, value in request.args.items(multi=True):
        if "\x00" in key or "\x00" in value:
            fail(400, f"query parameter {key.replace(chr(0), '')!r} holds a NUL character")


def int_arg(
    args: Mapping[str, str], key: str, low: int, default: int | None, high: int = MAX_INTEGER
) -> Any:
    """A whole number from ``low`` to ``high`` (default: what an id column holds), else 400."""
    text = args.get(key)
    if text is None or text == "":
        return default
    if not text.isascii() or not text.isdigit() or not low <= int(text) <= high:
        fail(400, f"{key!r} is not a whole number from {low} to {high}")
    return int(text)


def time_arg(args: Mapping[str, str], key: str) -> dt.datetime | None:
    text = args.get(key)
    if not text:
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
        # In UTC here: a moment whose UTC falls outside years 1-9999 is a bad parameter.
        return moment.astimezone(dt.UTC) if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    except (ValueError, OverflowError):
        fail(400, f"{key!r} is not an ISO 8601 date and time from year 1 to 9999 (UTC)")


def text_arg(args: Mapping[str, str], key: str, limit: int = 1_000) -> str | None:
    text = args.get(key)
    if text is not None and len(text) > limit:
        fail(400, f"{key!r} is longer than {limit} characters")
    return text or None


# --- routes ---------------------------------------------------------------------------------


@api.get("/health")
def health() -> Response:
    return _json({"status": "ok"})


@api.post("/projects/<name>/runs")
def upload_run(name: str) -> Response:
    project = project_for(name, write=True)
    try:
        uploaded = parse_upload(request.get_data(cache=False))
    except UploadRejected as error:
        fail(422 if "limit" not in error.message else 413, error.message)
    run_id = store().record(
        uploaded.result,
        uid=uuid.uuid4().hex,
        upload=Upload(project.id, uploaded.pr, uploaded.ci_url, uploaded.committed_at),
    )
    url = f"/api/v1/projects/{name}/runs/{run_id}"
    response = _json({"id": run_id, "url": url}, 201)
    response.headers["Location"] = url
    return response


@api.get("/projects/<name>/runs")
def list_runs(name: str) -> Response:
    project = project_for(name)
    args = request.args
    status = args.get("status") or None
    if status is not None and status not in STATUSES:
        fail(400, f"'status' is one of {', '.join(STATUSES)}")
    limit = int_arg(args, "limit", 1, PAGE, MAX_PAGE)
    runs = store().project_runs(
        project.id,
        branch=text_arg(args, "branch", 255),
        status=status,
        since=time_arg(args, "since"),
        until=time_arg(args, "until"),
        before=int_arg(args, "before", 1, None),
        limit=limit,
    )
    cursor = str(runs[-1].id) if len(runs) == limit else None
    return _json({"runs": [run_summary(r, name) for r in runs], "next": cursor})


@api.get(f"/projects/<name>/runs/<{RUN_ID}:run_id>")
def get_run(name: str, run_id: int) -> Response:
    project = project_for(name)
    stored = store().project_run(project.id, run_id)
    if stored is None:
        fail(404, f"project {name!r} has no run {run_id}")
    return _json(run_detail(stored, name))


@api.get("/projects/<name>/baseline")
def baseline(name: str) -> Response:
    project = project_for(name)
    branch = text_arg(request.args, "branch", 255)
    commit = text_arg(request.args, "commit", 64)
    if branch and commit:
        fail(400, "give 'branch' or 'commit', not both")
    # A gate asks for a run of its own suite that measured every check it judges;
    # without them (older clients), the newest passing run, whatever it measured.
    suite = text_arg(request.args, "suite", 200)
    listed = (text_arg(request.args, "checks", 10_000) or "").split(",")
    checks = tuple(dict.fromkeys(c.strip() for c in listed if c.strip()))
    stored = store().baseline_run(project, branch=branch, commit=commit, suite=suite, checks=checks)
    if stored is None:
        fail(404, _no_baseline(project, branch=branch, commit=commit, suite=suite, checks=checks))
    return _json(run_detail(stored, name))


def _no_baseline(
    project: Project,
    *,
    branch: str | None,
    commit: str | None,
    suite: str | None,
    checks: tuple[str, ...],
) -> str:
    """Why no run qualifies as the baseline, in one line."""
    what = f"commit {commit}" if commit else f"branch {branch or project.default_branch!r}"
    of_suite = f" of suite {suite!r}" if suite is not None else ""
    if checks:  # the bound first: the client may cut a long list of checks short
        return (
            f"project {project.name!r}: none of the newest {BASELINE_SCAN} passing runs"
            f"{of_suite} for {what} measured {', '.join(checks)}"
        )
    return f"project {project.name!r} has no passing run{of_suite} for {what}"


@api.get("/projects/<name>/trend")
def trend(name: str) -> Response:
    project = project_for(name)
    metric = text_arg(request.args, "metric")
    if not metric:
        fail(400, "'metric' is required")
    branch = text_arg(request.args, "branch", 255) or project.default_branch
    limit = int_arg(request.args, "limit", 1, 100, MAX_TREND)
    points = store().trend(project.id, metric, branch=branch, limit=limit)
    return _json({"metric": metric, "branch": branch, "points": [_point(p, name) for p in points]})


@api.get("/projects/<name>/compare")
def compare(name: str) -> Response:
    project = project_for(name)
    base_id = int_arg(request.args, "base", 1, None)
    head_id = int_arg(request.args, "head", 1, None)
    if base_id is None or head_id is None:
        fail(400, "'base' and 'head' (run ids) are required")
    base = store().project_run(project.id, base_id)
    head = store().project_run(project.id, head_id)
    if base is None or head is None:
        fail(404, f"project {name!r} has no run {base_id if base is None else head_id}")
    judgement = judge_measurements(
        head.result.measurements, base.result.measurements, Rules(today=dt.date.today())
    )
    counts: dict[str, int] = {}
    for verdict in judgement.verdicts:
        counts[verdict.outcome.value] = counts.get(verdict.outcome.value, 0) + 1
    return _json(
        {
            "base": run_summary(_summary_of(base), name),
            "head": run_summary(_summary_of(head), name),
            "failed": judgement.failed,
            "counts": counts,
            "verdicts": [v.to_dict() for v in judgement.verdicts],
        }
    )
