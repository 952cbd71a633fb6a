"""Uploads with script and markup in every field the dashboard shows.

The results dicts are the real ones (``memory.results``) poisoned by the HTML
report's XSS test (``_poison``: metric names, reasons, notes, evidence, suite,
commit, branch, environment, checks, unmatched rules...). The upload's own
fields (branch, commit, CI link) carry payloads too. Each payload, if it ever
ran, would mark ``<body data-pwned>`` or set the document's title.
"""

from __future__ import annotations

from typing import Any

from tests.dashboard.conftest import PROJECT
from tests.dashboard.memory import MemoryData, results
from tests.hardening.test_html_xss import PAYLOAD, _poison

PWNED_TITLE = "pwned by an upload"
TITLE_PAYLOAD = (
    f"<script>document.title='{PWNED_TITLE}'</script>"
    f"<img src=x onerror=\"document.title='{PWNED_TITLE}';alert(1)\">"
)
HOSTILE = PAYLOAD + TITLE_PAYLOAD
HOSTILE_BRANCH = "main" + HOSTILE
JAVASCRIPT_URL = f"javascript:document.title='{PWNED_TITLE}'"
PR = 9


def poisoned(name: str) -> dict[str, Any]:
    data: dict[str, Any] = _poison(results(name))
    for verdict in data["verdicts"]:
        verdict["reason"] += TITLE_PAYLOAD
    return data


def hostile_data() -> MemoryData:
    """One public project whose default branch, runs and PR all carry payloads."""
    data = MemoryData()
    data.add_project(PROJECT, default_branch=HOSTILE_BRANCH)
    for name in ["main-pass", "main-fail", "main-pass"]:
        data.upload(
            PROJECT, poisoned(name), branch=HOSTILE_BRANCH, commit=HOSTILE, ci_url=JAVASCRIPT_URL
        )
    data.upload(
        PROJECT, poisoned("pr-fail"), branch="pr" + HOSTILE, commit=HOSTILE, pr=PR, ci_url=HOSTILE
    )
    return data


def poisoned_metric(data: MemoryData) -> str:
    """A metric name (carrying the payload) that every run of ``data`` measured."""
    record = data.run(PROJECT, 1)
    assert record is not None
    names = [m.name for m in record.result.measurements]
    found = next(n for n in names if n.startswith("payload/") and n.endswith("/bytes"))
    assert PAYLOAD in found
    return found
