"""write_report: atomic, creates parent directories, leaves nothing half-written."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from perfci.errors import ExitCode, ReportError
from perfci.reporters import write_report


def test_creates_parent_directories(tmp_path: Path) -> None:
    path = tmp_path / "out" / "deep" / "report.md"
    write_report(path, "héllo ✓\n")
    assert path.read_text(encoding="utf-8") == "héllo ✓\n"
    assert os.listdir(path.parent) == ["report.md"]


def test_replaces_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "report.xml"
    path.write_text("old", encoding="utf-8")
    write_report(path, "new")
    assert path.read_text(encoding="utf-8") == "new"
    assert os.listdir(tmp_path) == ["report.xml"]


def test_keeps_newlines_as_given(tmp_path: Path) -> None:
    path = tmp_path / "r.txt"
    write_report(path, "a\nb\r\n")
    assert path.read_bytes() == b"a\nb\r\n"


def test_a_failed_write_leaves_the_old_file_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "results.json"
    path.write_text("old", encoding="utf-8")

    def broken_replace(src: object, dst: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(ReportError, match="cannot write report: disk full"):
        write_report(path, "new")
    assert path.read_text(encoding="utf-8") == "old"
    assert os.listdir(tmp_path) == ["results.json"]


def test_file_mode_follows_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        write_report(tmp_path / "r.txt", "x")
    finally:
        os.umask(old)
    assert (tmp_path / "r.txt").stat().st_mode & 0o777 == 0o644


# --- write to what the path is ------------------------------------------------------------------


def test_dash_is_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    write_report("-", '{"a": 1}\n')
    assert capsys.readouterr().out == '{"a": 1}\n'


def test_a_device_is_written_to_never_replaced() -> None:
    before = os.stat("/dev/full")
    with pytest.raises(ReportError) as caught:
        write_report(Path("/dev/full"), "x" * 100_000)
    assert str(caught.value) == "/dev/full: cannot write report: No space left on device"
    after = os.stat("/dev/full")
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev


def test_a_fifo_is_streamed_to(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    write_report(fifo, "streamed\n")
    reader.join(timeout=30)
    assert received == [b"streamed\n"]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_a_symlink_keeps_pointing_at_its_target(tmp_path: Path) -> None:
    target = tmp_path / "real.json"
    target.write_text("old", encoding="utf-8")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    write_report(link, "new")
    assert link.is_symlink() and target.read_text(encoding="utf-8") == "new"


def test_a_path_under_a_file_is_one_clean_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(ReportError) as caught:
        write_report(blocker / "results.json", "x")
    assert str(caught.value) == f"{blocker / 'results.json'}: cannot write report: Not a directory"
    assert caught.value.exit_code == ExitCode.USAGE


def test_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="cannot write report: Is a directory"):
        write_report(tmp_path, "x")
