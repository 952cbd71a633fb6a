"""tests/golden.py: an update run rewrites what differs and is never green by itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.golden import UPDATE, check_golden


def test_a_difference_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(UPDATE, raising=False)
    golden = tmp_path / "out.txt"
    golden.write_text("old\n")
    with pytest.raises(AssertionError, match="differs from its golden file"):
        check_golden(golden, "new\n")
    assert golden.read_text() == "old\n"


def test_updating_rewrites_then_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(UPDATE, "1")
    golden = tmp_path / "out.txt"
    golden.write_text("old\n")
    with pytest.raises(pytest.fail.Exception, match="rewritten"):
        check_golden(golden, "new\n")
    assert golden.read_text() == "new\n"
    check_golden(golden, "new\n")  # nothing left to rewrite: the comparison passes
