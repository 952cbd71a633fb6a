"""Run history: every ``perfci run`` recorded in a database, for trends and the HTML report.

The store speaks SQLAlchemy Core (SQLite by default, any URL by configuration);
``jsonio`` carries it between CI runs as one JSON file.
"""

from __future__ import annotations

from perfci.history.store import (
    HistoryError,
    HistoryStore,
    RunSummary,
    StoredRun,
    default_url,
    resolve_url,
)

__all__ = [
    "HistoryError",
    "HistoryStore",
    "RunSummary",
    "StoredRun",
    "default_url",
    "resolve_url",
]
