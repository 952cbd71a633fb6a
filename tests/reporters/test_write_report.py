"""write_report: atomic, creates parent directories, leaves nothing half-written."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from perfci.errors import ReportError
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
