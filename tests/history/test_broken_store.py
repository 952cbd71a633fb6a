"""A broken store is one clear line, and never changes a run's verdict."""

from __future__ import annotations

from pathlib import Path

import pytest

from perfci.gate import Outputs, finish
from perfci.history import HistoryError, HistoryStore
from perfci.plugin.manager import PluginHost
from perfci.result import RunResult
from tests.history.factory import make_run


def _error(url: str) -> str:
    with pytest.raises(HistoryError) as raised, HistoryStore(url) as store:
        store.record(make_run(0))
    message = str(raised.value)
    assert "\n" not in message
    return message


def test_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    path.write_bytes(b"this is not a database, just text " * 100)
    message = _error(f"sqlite:///{path}")
    assert message.startswith(f"history store sqlite:///{path}: cannot open:")
    assert "not a database" in message


def test_a_directory_where_the_file_should_be(tmp_path: Path) -> None:
    (tmp_path / "history.db").mkdir()
    assert "unable to open database file" in _error(f"sqlite:///{tmp_path / 'history.db'}")


def test_an_unreachable_postgresql_hides_the_password() -> None:
    message = _error("postgresql+psycopg://perfci:s3cret@127.0.0.1:1/none?connect_timeout=3")
    assert "s3cret" not in message
    assert message.startswith("history store postgresql+psycopg://perfci:***@127.0.0.1:1/none")


def test_not_a_url() -> None:
    with pytest.raises(HistoryError, match="is not a SQLAlchemy URL"):
        HistoryStore("no such thing")


def test_a_locked_store_times_out_with_a_clear_error(sqlite_url: str) -> None:
    with HistoryStore(sqlite_url) as holder, holder._writer.connect() as conn:
        conn.begin()  # BEGIN IMMEDIATE: holds the write lock
        locked = "cannot record the run: database is locked"
        with (
            pytest.raises(HistoryError, match=locked),
            HistoryStore(sqlite_url, busy_timeout_s=0.2) as store,
        ):
            store.record(make_run(0))
        conn.rollback()


def _finish(result: RunResult, history_url: str, html: Path | None) -> tuple[int, list[str]]:
    """The end of ``perfci run`` (history, reports) with the warnings it printed."""
    lines: list[tuple[str, bool]] = []
    outputs = Outputs(html=html, history_url=history_url)
    code = finish(result, outputs, PluginHost(), lambda text, err: lines.append((text, err)))
    return code, [text.removeprefix("perfci: warning: ") for text, err in lines if err]


def test_finish_warns_and_still_writes_the_report(tmp_path: Path) -> None:
    broken = tmp_path / "broken.db"
    broken.write_text("garbage " * 200)
    html = tmp_path / "report.html"
    result = make_run(0, regressed=True)
    code, warnings = _finish(result, f"sqlite:///{broken}", html)
    assert len(warnings) == 1 and warnings[0].startswith("history: history store sqlite:///")
    assert code == result.exit_code == 1  # the verdict is the run's, whatever the store did
    assert "REGRESSION" in html.read_text(encoding="utf-8")


def test_finish_records_and_draws_the_history(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'h.db'}"
    for index in range(3):
        assert _finish(make_run(index), url, None)[1] == []
    html = tmp_path / "report.html"
    assert _finish(make_run(3, regressed=True), url, html)[1] == []
    text = html.read_text(encoding="utf-8")
    assert "4 runs of suite default" in text
    with HistoryStore(url) as store:
        assert len(store.runs()) == 4
