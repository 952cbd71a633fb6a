"""The workflows in .github/workflows: actionlint and zizmor clean, and the rules they keep."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
FILES = sorted(WORKFLOWS.glob("*.yml"))


def _tool(name: str) -> str:
    """The tool from this interpreter's environment (a venv may not be on PATH), or PATH."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.is_file() else shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed (it comes with perfci's dev extra)")
    return found


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("GH_TOKEN", "GITHUB_TOKEN")}
    return subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False, env=env
    )


def test_the_workflows_exist() -> None:
    names = {path.name for path in FILES}
    assert {"ci.yml", "perfci.yml", "perfci-publish.yml", "perfci-baseline.yml"} <= names


def test_actionlint_finds_nothing() -> None:
    result = _run(_tool("actionlint"), "-no-color", "-oneline", *map(str, FILES))
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_finds_nothing_above_low() -> None:
    result = _run(
        _tool("zizmor"),
        "--offline",  # no network: the online audits (known-vulnerable actions) are skipped
        "--no-progress",
        "--color=never",
        "--min-severity=medium",
        str(WORKFLOWS),
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_actions_are_pinned_by_commit_with_a_version_comment(path: Path) -> None:
    uses = re.findall(r"^\s*(?:- )?uses:\s*(\S+)(.*)", path.read_text(encoding="utf-8"), re.M)
    assert uses
    for action, comment in uses:
        assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", action), action
        assert re.search(r"#\s*v\d+\.\d+\.\d+", comment), f"{action}: no version comment"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_least_privilege_and_no_event_text_in_shell(path: Path) -> None:
    workflow = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert "permissions" in workflow, "a workflow-level permissions block"
    for name, job in workflow["jobs"].items():
        for step in job["steps"]:
            assert "${{" not in step.get("run", ""), f"{name}: expression in a run script"
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False


def test_only_the_publisher_may_write() -> None:
    for path in FILES:
        workflow = yaml.safe_load(path.read_text(encoding="utf-8"))
        scopes = [
            workflow["permissions"],
            *(j.get("permissions", {}) for j in workflow["jobs"].values()),
        ]
        writes = {key for scope in scopes for key, value in scope.items() if value == "write"}
        if path.name == "perfci-publish.yml":
            assert writes == {"statuses", "pull-requests"}
        else:
            assert writes == set(), path.name


def test_the_documented_minimal_workflow_is_clean_too(tmp_path: Path) -> None:
    docs = (ROOT / "docs" / "github-actions.md").read_text(encoding="utf-8")
    block = re.search(r"```yaml\n(.*?)```", docs, re.S)
    assert block is not None
    workflow = tmp_path / "minimal.yml"
    workflow.write_text(block.group(1), encoding="utf-8")
    linted = _run(_tool("actionlint"), "-no-color", "-oneline", str(workflow))
    assert linted.returncode == 0, linted.stdout + linted.stderr
    audited = _run(
        _tool("zizmor"), "--offline", "--no-progress", "--min-severity=medium", str(workflow)
    )
    assert audited.returncode == 0, audited.stdout + audited.stderr
