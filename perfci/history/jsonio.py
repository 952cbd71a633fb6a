"""History as one JSON file, so a CI workflow can carry it between runs as an artifact.

``perfci history export`` writes every run; ``perfci history import`` adds the
runs the store does not have yet (runs are matched by their uid), so importing
the same file twice, or a file that overlaps the store, adds nothing twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from perfci.files import Versioned, dumps, parse_object, read_text
from perfci.history.store import HistoryError, HistoryStore, StoredRun
from perfci.reporters import write_report
from perfci.result import RunResult

EXPORT_SCHEMA = 1
EXPORT_FORMAT = Versioned("perfci_history", EXPORT_SCHEMA, "a perfci history export")


def render_export(runs: list[StoredRun]) -> str:
    """The runs (oldest first) as strict, indented JSON ending with a newline."""
    data = {
        "perfci_history": EXPORT_SCHEMA,
        "runs": [
            {
                "uid": run.uid,
                "recorded_at": run.recorded_at.isoformat(timespec="seconds"),
                "result": run.result.to_dict(),
            }
            for run in runs
        ],
    }
    return dumps(data, indent=1)


@dataclass(frozen=True)
class ImportedRun:
    uid: str
    recorded_at: dt.datetime
    data: Mapping[str, Any]


def parse_export(text: str, source: str) -> list[ImportedRun]:
    """Read an export; a newer, corrupt or foreign file is a HistoryError naming ``source``."""
    data = parse_object(text, source, error=HistoryError)
    data = EXPORT_FORMAT.check(data, source, error=HistoryError)
    runs = []
    items = data.get("runs") or []
    if not isinstance(items, list):
        raise HistoryError("'runs' is not a list", where=source)
    for index, item in enumerate(items):
        try:
            recorded = dt.datetime.fromisoformat(item["recorded_at"])
            if not isinstance(item["result"], dict):
                raise TypeError("result is not an object")
            runs.append(ImportedRun(str(item["uid"]), recorded, item["result"]))
        except (KeyError, TypeError, ValueError) as error:
            raise HistoryError(f"runs[{index}]: malformed run ({error})", where=source) from None
    return runs


def export_history(store: HistoryStore, path: Path, *, suite: str | None = None) -> int:
    """Write every run of the store (or of ``suite``) to ``path``; return how many."""
    runs = store.history(suite=suite)
    write_report(path, render_export(runs))
    return len(runs)


def import_history(store: HistoryStore, path: Path) -> tuple[int, int]:
    """Add the runs of an export the store lacks; return (added, already present)."""
    text = read_text(path, error=HistoryError)
    added = present = 0
    for index, run in enumerate(parse_export(text, str(path))):
        try:
            result = RunResult.from_dict(run.data)
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise HistoryError(
                f"runs[{index}]: malformed result ({error})", where=str(path)
            ) from None
        if store.record(result, uid=run.uid, recorded_at=run.recorded_at) is None:
            present += 1
        else:
            added += 1
    return added, present
