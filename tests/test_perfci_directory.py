"""What perfci keeps in a project lives under .perfci/, which ignores itself in git (#16)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from perfci.files import make_directory
from perfci.history.store import HistoryStore, default_url


def test_a_perfci_directory_made_by_perfci_ignores_itself(tmp_path: Path) -> None:
    made = make_directory(tmp_path / ".perfci" / "callgrind" / "x")
    assert made.is_dir()
    assert (tmp_path / ".perfci" / ".gitignore").read_text().splitlines()[-1] == "*"
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (made / "profile.out").write_text("data")
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=tmp_path, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert status.stdout == ""


def test_a_users_own_perfci_directory_is_left_alone(tmp_path: Path) -> None:
    (tmp_path / ".perfci").mkdir()
    make_directory(tmp_path / ".perfci" / "benchmarks")
    assert not (tmp_path / ".perfci" / ".gitignore").exists()


def test_the_default_history_store_makes_an_ignored_perfci_directory(tmp_path: Path) -> None:
    with HistoryStore(default_url(tmp_path)):
        pass
    assert (tmp_path / ".perfci" / "history.db").exists()
    assert (tmp_path / ".perfci" / ".gitignore").read_text().splitlines()[-1] == "*"
