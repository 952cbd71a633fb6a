"""A git ref checked out into a temporary worktree, removed on every exit path."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType

from perfci.errors import ConfigError, UsageError

MERGE_BASE = "merge-base"


def _git(root: Path, *args: str) -> str:
    try:
        done = subprocess.run(
            ["git", *args], cwd=root, capture_output=True, text=True, check=False, timeout=120
        )
    except FileNotFoundError:
        raise UsageError("--against needs git, which is not installed") from None
    if done.returncode != 0:
        message = (done.stderr or done.stdout).strip().splitlines()
        raise ConfigError(f"git {' '.join(args)}: {message[-1] if message else 'failed'}")
    return done.stdout.strip()


def repository_root(directory: Path) -> Path:
    return Path(_git(directory, "rev-parse", "--show-toplevel"))


def default_branch(root: Path) -> str:
    """origin's default branch (origin/HEAD), else main or master."""
    try:
        return _git(root, "symbolic-ref", "--quiet", "--short", "refs/remotes/origin/HEAD")
    except ConfigError:
        pass
    for candidate in ("origin/main", "main", "origin/master", "master"):
        try:
            _git(root, "rev-parse", "--verify", "--quiet", f"{candidate}^{{commit}}")
        except ConfigError:
            continue
        return candidate
    raise UsageError("--against merge-base: no default branch found (origin/HEAD, main, master)")


def resolve_ref(directory: Path, ref: str) -> str:
    """The commit SHA ``ref`` names; ``merge-base`` is the fork point from the default branch."""
    root = repository_root(directory)
    if ref == MERGE_BASE:
        return _git(root, "merge-base", "HEAD", default_branch(root))
    try:
        return _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    except ConfigError:
        raise UsageError(f"--against: {ref!r} is not a commit, branch or tag here") from None


PREFIX = "perfci-base-"
OWNER = "owner.pid"  # beside the worktree: the pid of the perfci that made it


class Worktree:
    """``git worktree add --detach`` of a commit into a temporary directory.

    Leaving the with-block (normally, by an exception or by Ctrl-C) removes
    the worktree and its registration. A perfci killed outright (SIGKILL)
    cannot; the next one removes such leftovers first (``prune_stale``).
    """

    def __init__(self, directory: Path, commit: str) -> None:
        self.repository = repository_root(directory)
        self.commit = commit
        self._parent = Path(tempfile.mkdtemp(prefix=PREFIX))
        (self._parent / OWNER).write_text(str(os.getpid()))
        self.path = self._parent / "base"

    def __enter__(self) -> Worktree:
        prune_stale(self.repository)
        try:
            _git(
                self.repository,
                "worktree",
                "add",
                "--detach",
                "--force",
                str(self.path),
                self.commit,
            )
        except BaseException:
            shutil.rmtree(self._parent, ignore_errors=True)
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.remove()

    def remove(self) -> None:
        subprocess.run(
            ["git", "worktree", "remove", "--force", str(self.path)],
            cwd=self.repository,
            capture_output=True,
            check=False,
        )
        shutil.rmtree(self._parent, ignore_errors=True)
        subprocess.run(
            ["git", "worktree", "prune"], cwd=self.repository, capture_output=True, check=False
        )

    def relative(self, path: Path) -> Path:
        """Where ``path`` (inside the repository) lives in this worktree; ValueError outside."""
        return self.path / path.resolve().relative_to(self.repository.resolve())


def prune_stale(repository: Path) -> list[Path]:
    """Remove perfci's worktrees whose perfci is gone; returns their paths.

    Only worktrees perfci made (``perfci-base-*/base`` with an owner file)
    are touched, and only when the owner process no longer runs.
    """
    listed = subprocess.run(
        ["git", "worktree", "list", "--porcelain"],
        cwd=repository,
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    removed: list[Path] = []
    for line in listed.splitlines():
        if not line.startswith("worktree "):
            continue
        path = Path(line.removeprefix("worktree "))
        parent = path.parent
        if path.name != "base" or not parent.name.startswith(PREFIX):
            continue
        if _alive(parent / OWNER):
            continue
        subprocess.run(
            ["git", "worktree", "remove", "--force", str(path)],
            cwd=repository,
            capture_output=True,
            check=False,
        )
        shutil.rmtree(parent, ignore_errors=True)
        removed.append(path)
    if removed:
        subprocess.run(
            ["git", "worktree", "prune"], cwd=repository, capture_output=True, check=False
        )
    return removed


def _alive(owner: Path) -> bool:
    """Whether the pid in ``owner`` runs; no readable owner file counts as gone."""
    try:
        pid = int(owner.read_text().strip())
    except (OSError, ValueError):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
