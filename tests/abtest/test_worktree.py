"""The base ref's worktree: resolved, checked out, and removed on every exit path."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from perfci.abtest.worktree import Worktree, resolve_ref
from perfci.errors import ConfigError


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=root, check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "t@example.com")
    git(root, "config", "user.name", "t")
    (root / "app.txt").write_text("one\n")
    git(root, "add", ".")
    git(root, "commit", "-qm", "one")
    git(root, "checkout", "-qb", "feature")
    (root / "app.txt").write_text("two\n")
    git(root, "commit", "-qam", "two")
    return root


def worktrees(root: Path) -> list[str]:
    return [line for line in git(root, "worktree", "list").splitlines() if line]


def test_resolve_ref_and_merge_base(repo: Path) -> None:
    main = git(repo, "rev-parse", "main")
    assert resolve_ref(repo, "main") == main
    assert resolve_ref(repo, "merge-base") == main
    assert resolve_ref(repo, "HEAD") == git(repo, "rev-parse", "HEAD")


def test_unknown_ref_is_a_usage_error(repo: Path) -> None:
    with pytest.raises(ConfigError, match="'nope' is not a commit, branch or tag"):
        resolve_ref(repo, "nope")


def test_not_a_repository(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="git rev-parse"):
        resolve_ref(tmp_path, "HEAD")


def test_worktree_holds_the_base_and_is_removed(repo: Path) -> None:
    with Worktree(repo, resolve_ref(repo, "main")) as tree:
        assert (tree.path / "app.txt").read_text() == "one\n"
        assert len(worktrees(repo)) == 2
        path = tree.path
    assert not path.exists()
    assert len(worktrees(repo)) == 1


def test_worktree_is_removed_after_a_failure(repo: Path) -> None:
    with pytest.raises(RuntimeError), Worktree(repo, resolve_ref(repo, "main")) as tree:
        path = tree.path
        raise RuntimeError("the measurement failed")
    assert not path.exists()
    assert len(worktrees(repo)) == 1


def test_worktree_is_removed_after_sigint(repo: Path, tmp_path: Path) -> None:
    marker = tmp_path / "path"
    script = tmp_path / "owner.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import time
            from pathlib import Path
            from perfci.abtest.worktree import Worktree, resolve_ref
            repo = Path({str(repo)!r})
            with Worktree(repo, resolve_ref(repo, "main")) as tree:
                Path({str(marker)!r}).write_text(str(tree.path))
                time.sleep(60)
            """
        )
    )
    owner = subprocess.Popen([sys.executable, str(script)])
    deadline = time.monotonic() + 30
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marker.exists()
    owner.send_signal(signal.SIGINT)
    owner.wait(timeout=30)
    assert not Path(marker.read_text()).exists()
    assert len(worktrees(repo)) == 1


def _dead_pid() -> int:
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(done.stdout)


def test_a_killed_runs_worktree_is_removed_by_the_next_run(repo: Path) -> None:
    from perfci.abtest.worktree import OWNER

    commit = resolve_ref(repo, "main")
    alive = Worktree(repo, commit)
    alive.__enter__()  # another perfci, still running (this process)
    left = Worktree(repo, commit)
    left.__enter__()  # a perfci SIGKILLed here never leaves its with-block
    (left.path.parent / OWNER).write_text(str(_dead_pid()))
    assert len(worktrees(repo)) == 3
    with Worktree(repo, commit) as tree:
        assert tree.path.is_dir()
        assert not left.path.exists()
        assert alive.path.is_dir()
    assert len(worktrees(repo)) == 2
    alive.remove()
    assert len(worktrees(repo)) == 1
