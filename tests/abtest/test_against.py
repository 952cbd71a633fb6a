"""perfci run --against REF end to end, on a toy project in a git repository."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from perfci.errors import ExitCode
from perfci.pytest_plugin import PerfciProject
from tests.toy.project import make_toy


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


@pytest.fixture
def repo(perfci_project: PerfciProject) -> PerfciProject:
    root = make_toy(perfci_project).path
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "t@example.com")
    git(root, "config", "user.name", "t")
    git(root, "add", ".")
    git(root, "commit", "-qm", "base")
    return perfci_project


def worktree_count(root: Path) -> int:
    out = subprocess.run(["git", "worktree", "list"], cwd=root, capture_output=True, text=True)
    return len(out.stdout.splitlines())


def test_against_head_passes_without_a_baseline(repo: PerfciProject) -> None:
    result = repo.run_inprocess("run", "--against", "HEAD", "--json", "results.json")
    assert result.exit_code == ExitCode.OK, result.output
    results = json.loads((repo.path / "results.json").read_text())
    assert results["baseline_path"].startswith("HEAD @ ")
    (verdict,) = results["verdicts"]
    assert verdict["outcome"] == "pass"
    assert "base |" in result.stderr
    assert "head |" in result.stderr
    assert worktree_count(repo.path) == 1


def test_against_catches_a_regression_committed_on_the_branch(repo: PerfciProject) -> None:
    git(repo.path, "checkout", "-qb", "feature")
    app = repo.path / "toyapp.py"
    app.write_text(app.read_text().replace('int(app.config.get("TOY_EXTRA_QUERIES", 0))', "3"))
    git(repo.path, "commit", "-qam", "an N+1 sneaks in")
    result = repo.run_inprocess("run", "--against", "merge-base", "--json", "results.json")
    assert result.exit_code == ExitCode.REGRESSION, result.output
    (verdict,) = json.loads((repo.path / "results.json").read_text())["verdicts"]
    assert verdict["outcome"] == "regression"
    assert verdict["baseline"]["value"] == 1
    assert verdict["current"]["value"] == 4
    assert worktree_count(repo.path) == 1


def test_against_an_unknown_ref(repo: PerfciProject) -> None:
    result = repo.run_inprocess("run", "--against", "no-such-branch")
    assert result.exit_code == ExitCode.USAGE
    assert "'no-such-branch' is not a commit, branch or tag" in result.stderr


def test_a_base_that_cannot_build_is_exit_3_and_cleaned_up(repo: PerfciProject) -> None:
    git(repo.path, "checkout", "-qb", "feature")
    app = repo.path / "toyapp.py"
    original = app.read_text()
    broken = original.replace("def create_app(", "def create_app_(")
    app.write_text(broken)
    git(repo.path, "commit", "-qam", "break the factory")
    app.write_text(original)
    git(repo.path, "commit", "-qam", "fix it again")
    result = repo.run_inprocess("run", "--against", "HEAD~1")
    assert result.exit_code == ExitCode.TARGET, result.output
    assert "base:" in result.stderr
    assert "Traceback" not in result.stderr.split("perfci: ")[-1]
    assert worktree_count(repo.path) == 1


def test_ctrl_c_while_the_workers_start_is_one_line(repo: PerfciProject) -> None:
    import os
    import signal
    import sys

    with subprocess.Popen(
        [sys.executable, "-m", "perfci", "run", "--against", "HEAD"],
        cwd=repo.path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # a terminal's foreground group: Ctrl-C reaches every member
    ) as process:
        assert process.stderr is not None
        for line in process.stderr:
            if "starting the base and head measurement workers" in line:
                break
        os.killpg(process.pid, signal.SIGINT)
        rest = process.stderr.read()
        assert process.wait(timeout=60) == 130, rest
    assert "Traceback" not in rest
    assert "KeyboardInterrupt" not in rest
    assert rest.strip().splitlines()[-1].startswith("perfci: interrupted"), rest
    # The head worker's command line names the project's perfci.yaml.
    leftovers = subprocess.run(
        ["pgrep", "-f", str(repo.path)], capture_output=True, text=True, check=False
    ).stdout.split()
    assert not leftovers
    assert worktree_count(repo.path) == 1
