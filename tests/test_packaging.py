"""The distribution ships every package, and the two README commands match .ci/run."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_perfci_subpackage_is_listed() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    listed = set(config["tool"]["setuptools"]["packages"])
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in (ROOT / "perfci").rglob("__init__.py")
    }
    assert found <= listed, f"add to [tool.setuptools] packages: {sorted(found - listed)}"


def test_every_builtin_plugin_module_has_an_entry_point() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    entry_points = config["project"]["entry-points"]["perfci"]
    checks = ROOT / "perfci" / "checks"
    modules = {p.stem for p in checks.glob("*.py") if not p.name.startswith("_")}
    modules |= {p.parent.name for p in checks.glob("*/__init__.py")}
    assert {v.rsplit(".", 1)[1] for v in entry_points.values()} == modules


def test_readme_test_command_is_what_ci_runs() -> None:
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()[-1]
    assert ci in (ROOT / "README.md").read_text(), "README must show the exact .ci/run command"
