"""Export to one JSON file and import it back: how a workflow carries history between runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from perfci.history import HistoryError, HistoryStore
from perfci.history.jsonio import EXPORT_SCHEMA, export_history, import_history
from perfci.result import RunResult
from tests.history.factory import make_run
from tests.reporters.builders import make_result, sample_verdicts


def test_export_then_import_round_trips(
    store: HistoryStore, history_runs: list[RunResult], tmp_path: Path
) -> None:
    for run in history_runs:
        store.record(run)
    store.record(make_result(sample_verdicts()))  # infinities, budgets, acknowledgements
    path = tmp_path / "artifact" / "history.json"
    assert export_history(store, path) == len(history_runs) + 1
    data = json.loads(path.read_text(encoding="utf-8"))  # strict JSON: no Infinity literal
    assert data["perfci_history"] == EXPORT_SCHEMA
    assert "Infinity" in path.read_text(encoding="utf-8")

    with HistoryStore(f"sqlite:///{tmp_path / 'other.db'}") as other:
        assert import_history(other, path) == (len(history_runs) + 1, 0)
        assert [s.result for s in other.history()] == [s.result for s in store.history()]
        assert [s.uid for s in other.history()] == [s.uid for s in store.history()]
        assert import_history(other, path) == (0, len(history_runs) + 1)  # idempotent
        assert len(other.runs()) == len(history_runs) + 1


def test_import_adds_only_what_is_missing(tmp_path: Path) -> None:
    """The CI pattern: import the previous artifact, run, export the union again."""
    first = f"sqlite:///{tmp_path / 'a.db'}"
    with HistoryStore(first) as store:
        store.record(make_run(0), uid="run-0")
        export_history(store, tmp_path / "h.json")
    second = f"sqlite:///{tmp_path / 'b.db'}"
    with HistoryStore(second) as store:
        assert import_history(store, tmp_path / "h.json") == (1, 0)
        store.record(make_run(1), uid="run-1")
        export_history(store, tmp_path / "h.json")
    with HistoryStore(first) as store:
        assert import_history(store, tmp_path / "h.json") == (1, 1)
        assert {s.uid for s in store.history()} == {"run-0", "run-1"}


def test_export_of_one_suite(store: HistoryStore, tmp_path: Path) -> None:
    store.record(make_run(0))
    store.record(make_run(1, suite="other"))
    assert export_history(store, tmp_path / "h.json", suite="other") == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "not valid JSON"),
        ('{"runs": []}', "not a perfci history export"),
        ('{"perfci_history": 2, "runs": []}', "written by a newer perfci"),
        ('{"perfci_history": 1, "runs": [{"uid": "x"}]}', r"runs\[0\]: malformed run"),
        (
            '{"perfci_history": 1, "runs": [{"uid": "x", "recorded_at": "2026-01-01T00:00:00",'
            ' "result": {"suite": "s"}}]}',
            r"runs\[0\]: malformed result",
        ),
    ],
)
def test_a_bad_export_is_a_clear_error(
    sqlite_url: str, tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "h.json"
    path.write_text(text, encoding="utf-8")
    with HistoryStore(sqlite_url) as store, pytest.raises(HistoryError, match=message) as raised:
        import_history(store, path)
    assert str(raised.value).startswith(f"{path}: ")
