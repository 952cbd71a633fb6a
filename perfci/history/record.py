"""The history step of the gate pipeline: record a finished run, read the runs before it."""

from __future__ import annotations

import uuid
from pathlib import Path

from perfci.config.model import ConfigModel
from perfci.history.store import HistoryError, HistoryStore, resolve_url
from perfci.result import RunResult

#: Runs drawn in each trend chart of the HTML report by default.
REPORT_RUNS = 50


def configured_url(model: ConfigModel, project_root: Path) -> str | None:
    """The store ``perfci run`` records into, or None when ``history.enabled`` is false."""
    if not model.history.enabled:
        return None
    return resolve_url(model.history.url, project_root)


def record(
    result: RunResult, url: str | None, *, earlier: int = 0
) -> tuple[list[RunResult], list[str]]:
    """Record ``result`` in the store at ``url`` (None: no history); return runs and warnings.

    The runs are up to ``earlier`` of the suite's runs before this one, oldest
    first, for the HTML report's trends. A store that cannot be opened,
    written or read gives a one-line warning instead of an exception: the
    verdict is decided, and a broken store must not change it.
    """
    if not url:
        return [], []
    uid = uuid.uuid4().hex
    runs: list[RunResult] = []
    try:
        with HistoryStore(url) as store:
            store.record(result, uid=uid)
            if earlier:
                stored = store.history(suite=result.suite, limit=earlier + 1)
                runs = [r.result for r in stored if r.uid != uid][-earlier:]
    except HistoryError as error:
        return [], [f"history: {error}"]
    return runs, []
