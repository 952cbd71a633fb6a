"""The target's directory is on the import path while it is measured, and only then."""

from __future__ import annotations

import sys
from pathlib import Path

from perfci.project import load_project
from perfci.pytest_plugin import PerfciProject
from perfci.runner import MeasureSession
from perfci.target.build import importable
from tests.toy.project import make_toy


def test_importable_adds_the_root_for_the_block_only(tmp_path: Path) -> None:
    before = list(sys.path)
    with importable(tmp_path):
        assert sys.path[0] == str(tmp_path.resolve())
    assert sys.path == before


def test_a_root_already_on_the_path_is_left_there(tmp_path: Path) -> None:
    sys.path.insert(0, str(tmp_path.resolve()))
    try:
        with importable(tmp_path):
            pass
        assert sys.path[0] == str(tmp_path.resolve())
    finally:
        sys.path.remove(str(tmp_path.resolve()))


def test_reading_the_project_leaves_the_path_alone_and_measuring_scopes_it(
    perfci_project: PerfciProject,
) -> None:
    toy = make_toy(perfci_project)
    root = str(toy.path.resolve())
    before = list(sys.path)
    config, host = load_project(toy.path / "perfci.yaml")  # local plugins import from the root
    assert sys.path == before
    with MeasureSession(config, host) as session:
        assert sys.path[0] == root
        assert session.context.app.name == "toyapp"
    assert sys.path == before
