"""History as one JSON file, so a CI workflow can carry it between runs as an artifact.

``perfci history export`` writes every run; ``perfci history import`` adds the
runs the store does not have yet (runs are matched by their uid), so importing
the same file twice, or a file that overlaps the store, adds nothing twice.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from perfci.history.codec import finite, result_from_dict, result_to_dict
from perfci.history.store import HistoryError, HistoryStore, StoredRun
from perfci.reporters import write_report

EXPORT_SCHEMA = 1


def render_export(runs: list[StoredRun]) -> str:
    """The runs (oldest first) as strict, indented JSON ending with a newline."""
    data = {
        "perfci_history": EXPORT_SCHEMA,
        "runs": [
            {
                "uid": run.uid,
                "recorded_at": run.recorded_at.isoformat(timespec="seconds"),
                "result": result_to_dict(run.result),
            }
            for run in runs
        ],
    }
    return json.dumps(finite(data), indent=1, ensure_ascii=False, allow_nan=False) + "\n"


@dataclass(frozen=True)
class ImportedRun:
    uid: str
    recorded_at: dt.datetime
    data: Mapping[str, Any]


def parse_export(text: str, source: str) -> list[ImportedRun]:
    """Read an export; a newer, corrupt or foreign file is a HistoryError naming ``source``."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise HistoryError(f"not valid JSON: {error}", where=source) from None
    if not isinstance(data, dict) or "perfci_history" not in data:
        raise HistoryError("not a perfci history export (no 'perfci_history' key)", where=source)
    version = data["perfci_history"]
    if not isinstance(version, int) or version > EXPORT_SCHEMA:
        raise HistoryError(
            f"history export version {version!r} is newer than this perfci reads "
            f"({EXPORT_SCHEMA}): upgrade perfci",
            where=source,
        )
    runs = []
    for index, item in enumerate(data.get("runs", [])):
        try:
            recorded = dt.datetime.fromisoformat(item["recorded_at"])
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
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise HistoryError(f"cannot read history export: {error}", where=str(path)) from None
    added = present = 0
    for index, run in enumerate(parse_export(text, str(path))):
        try:
            result = result_from_dict(run.data)
        except (KeyError, TypeError, ValueError) as error:
            raise HistoryError(
                f"runs[{index}]: malformed result ({error})", where=str(path)
            ) from None
        if store.record(result, uid=run.uid, recorded_at=run.recorded_at) is None:
            present += 1
        else:
            added += 1
    return added, present
