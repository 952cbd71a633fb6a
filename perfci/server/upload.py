"""What an upload to ``POST /api/v1/projects/<name>/runs`` must be, and its limits.

The body is one JSON object::

    {"results": <the file `perfci run --json` writes>,
     "commit": "9f3c…", "branch": "main", "pr": 12,
     "ci_url": "https://github.com/o/r/actions/runs/1", "committed_at": "2026-11-30T12:00:00Z"}

Only ``results`` is required. The results go through the one results codec
(``perfci.baseline.comparable_from`` checks their shape, ``RunResult.from_dict``
decodes them), after the limits below; anything else is an ``UploadRejected``
with one line saying what and where.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace
from typing import Any

from perfci.baseline import comparable_from
from perfci.errors import PerfciError
from perfci.files import loads
from perfci.result import RunResult

MAX_BYTES = 10 * 1024 * 1024  # the whole request body
MAX_MEASUREMENTS = 5_000  # per run (the dog-food config has about 300)
MAX_VERDICTS = 5_000
MAX_TEXT = 64 * 1024  # any one string (evidence: SQL, plans)
MAX_NAME = 1_000  # metric names, rules, notes' subjects
MAX_URL = 2_000
# Columns with a width: longer text would fail on PostgreSQL, not truncate.
_WIDTHS = {"suite": 200, "started_at": 40, "branch": 255}
_COMMIT = re.compile(r"^[0-9a-f]{7,64}$")
_URL = re.compile(r"^https?://[^\s]+$")


class UploadRejected(PerfciError):
    """An upload that is not a valid results document within the limits (HTTP 4xx)."""


@dataclass(frozen=True)
class Uploaded:
    """A valid upload: the decoded run and the facts given beside it."""

    result: RunResult
    pr: int | None
    ci_url: str | None
    committed_at: dt.datetime | None


def parse_upload(body: bytes) -> Uploaded:
    """Decode and check an upload body; ``UploadRejected`` on anything wrong."""
    if len(body) > MAX_BYTES:
        raise UploadRejected(f"the upload is {len(body)} bytes, over the {MAX_BYTES} limit")
    try:
        data = loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise UploadRejected("the upload is not UTF-8 text") from None
    except ValueError as error:
        raise UploadRejected(f"the upload is not JSON: {error}") from None
    if not isinstance(data, dict):
        raise UploadRejected("the upload is not a JSON object")
    unknown = sorted(set(data) - {"results", "commit", "branch", "pr", "ci_url", "committed_at"})
    if unknown:
        raise UploadRejected(f"unknown field {unknown[0]!r}")
    results = data.get("results")
    if not isinstance(results, dict) or "perfci_results" not in results:
        raise UploadRejected("'results' is not a results file written by 'perfci run --json'")
    _walk(data, "")  # every string, the facts beside the results too
    _check_limits(results)
    result = _decode(results)
    commit = _optional(data, "commit", 64)
    if commit is not None and not _COMMIT.match(commit):
        raise UploadRejected("'commit' is not a hexadecimal commit id (7 to 64 digits)")
    branch = _optional(data, "branch", _WIDTHS["branch"])
    ci_url = _optional(data, "ci_url", MAX_URL)
    if ci_url is not None and not _URL.match(ci_url):
        raise UploadRejected("'ci_url' is not an http(s) URL")
    pr = data.get("pr")
    if pr is not None and (isinstance(pr, bool) or not isinstance(pr, int) or not 0 < pr < 2**31):
        raise UploadRejected("'pr' is not a pull request number")
    committed_at = _moment(_optional(data, "committed_at", 40))
    result = replace(
        result,
        commit=commit if commit is not None else result.commit,
        branch=branch if branch is not None else result.branch,
    )
    if result.commit is not None and not _COMMIT.match(result.commit):
        raise UploadRejected("results.commit is not a hexadecimal commit id")
    if result.branch is not None and len(result.branch) > _WIDTHS["branch"]:
        raise UploadRejected(f"results.branch is longer than {_WIDTHS['branch']} characters")
    return Uploaded(result, pr, ci_url, committed_at)


def _check_limits(results: dict[str, Any]) -> None:
    for key, limit in (("measurements", MAX_MEASUREMENTS), ("verdicts", MAX_VERDICTS)):
        items = results.get(key)
        if isinstance(items, list) and len(items) > limit:
            raise UploadRejected(f"results.{key}: {len(items)} entries, over the {limit} limit")
    for key, width in _WIDTHS.items():
        value = results.get(key)
        if isinstance(value, str) and len(value) > width:
            raise UploadRejected(f"results.{key} is longer than {width} characters")
    for index, item in enumerate(results.get("measurements") or ()):
        if isinstance(item, dict):
            _short(item.get("name"), MAX_NAME, f"results.measurements[{index}].name")
            _short(item.get("unit"), 40, f"results.measurements[{index}].unit")
    for index, item in enumerate(results.get("verdicts") or ()):
        if isinstance(item, dict):
            _short(item.get("name"), MAX_NAME, f"results.verdicts[{index}].name")


def _short(value: Any, limit: int, where: str) -> None:
    if isinstance(value, str) and len(value) > limit:
        raise UploadRejected(f"{where} is longer than {limit} characters")


def _walk(value: Any, where: str) -> None:
    """Every string (keys too) at most ``MAX_TEXT`` characters, with no NUL character
    (PostgreSQL refuses one in text; SQLite would store it)."""
    if isinstance(value, str):
        _short(value, MAX_TEXT, where or "the upload")
        if "\x00" in value:
            raise UploadRejected(f"{where or 'the upload'} holds a NUL character")
    elif isinstance(value, dict):
        for key, item in value.items():
            if "\x00" in key:
                raise UploadRejected(f"{where or 'the upload'} has a key with a NUL character")
            _short(key, MAX_NAME, f"{where or 'the upload'} (a key)")
            _walk(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _walk(item, f"{where}[{index}]")


def _decode(results: dict[str, Any]) -> RunResult:
    try:
        comparable_from(results, "results")  # shapes, finite numbers, no duplicates
    except PerfciError as error:
        raise UploadRejected(error.message) from None
    try:
        return RunResult.from_dict(results)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise UploadRejected(f"results: malformed ({error})") from None


def _optional(data: dict[str, Any], key: str, limit: int) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise UploadRejected(f"{key!r} is not a non-empty string")
    if len(value) > limit:
        raise UploadRejected(f"{key!r} is longer than {limit} characters")
    return value


def _moment(text: str | None) -> dt.datetime | None:
    if text is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise UploadRejected("'committed_at' is not an ISO 8601 date and time") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)
