"""Habits CI keeps: the README runs what .ci/run runs, pinned tools, one version."""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import version
from pathlib import Path

import yaml

import perfci

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_readme_test_command_is_what_ci_runs() -> None:
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()[-1]
    assert ci in (ROOT / "README.md").read_text(), "README must show the exact .ci/run command"
    assert ci in (ROOT / "CONTRIBUTING.md").read_text()
    for step in ("ruff check .", "ruff format --check .", "mypy", "pytest --cov"):
        assert f"&& {step}" in ci, f".ci/run must run {step}"


def test_linters_are_pinned_and_pre_commit_uses_the_same_ruff() -> None:
    dev = PYPROJECT["project"]["optional-dependencies"]["dev"]
    pins = dict(d.split("==") for d in dev if "==" in d)
    assert {"ruff", "mypy"} <= set(pins), "pin ruff and mypy with =="
    hooks = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())["repos"]
    remote = [r for r in hooks if r["repo"] != "local"]
    assert all(re.fullmatch(r"v\d+\.\d+\.\d+", r["rev"]) for r in remote)
    ruff = next(r for r in remote if r["repo"].endswith("/ruff-pre-commit"))
    assert ruff["rev"] == f"v{pins['ruff']}"


def test_the_version_is_written_once() -> None:
    assert "version" not in PYPROJECT["project"]
    assert PYPROJECT["project"]["dynamic"] == ["version"]
    assert version("perfci") == perfci.__version__


def test_the_architecture_diagram_names_folders_that_exist() -> None:
    text = (ROOT / "CONTRIBUTING.md").read_text()
    diagram = text.split("## Architecture", 1)[1].split("```", 2)[1]
    names = set(re.findall(r"\b([a-z_]+/|[a-z_]+\.py)", diagram))
    assert len(names) >= 8
    for name in names:
        assert (ROOT / "perfci" / name).exists(), f"CONTRIBUTING.md's diagram names {name}: gone"
