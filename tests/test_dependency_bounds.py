"""perfci's lower bounds are what it really needs, and CI tests them (#16).

An app that pins SQLAlchemy 2.0.23 or gunicorn 21.2 must be able to install
perfci without being moved up; .ci/run runs a subset of the suite against
ci/constraints-lowest.txt, which must therefore pin exactly the lower bounds.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def lower_bounds() -> dict[str, str]:
    bounds = {}
    for text in PYPROJECT["project"]["dependencies"]:
        requirement = Requirement(text)
        (spec,) = requirement.specifier  # one ">=X" each: no upper bounds, no exclusions
        assert spec.operator == ">=", f"{text}: perfci states lower bounds only"
        bounds[requirement.name.lower()] = spec.version
    return bounds


def constraints() -> tuple[dict[str, str], set[str]]:
    """The pins, and the names pinned higher for the bundled target_api (a "target_api" note)."""
    pins, for_target_api = {}, set()
    for line in (ROOT / "ci" / "constraints-lowest.txt").read_text().splitlines():
        text, _, note = line.partition("#")
        if text.strip():
            requirement = Requirement(text.strip())
            (spec,) = requirement.specifier
            assert spec.operator == "==", line
            pins[requirement.name.lower()] = spec.version
            if "target_api" in note:
                for_target_api.add(requirement.name.lower())
    return pins, for_target_api


def test_the_lowest_constraints_pin_exactly_the_lower_bounds() -> None:
    pins, for_target_api = constraints()
    bounds = lower_bounds()
    assert pins.keys() == bounds.keys()
    for name, bound in bounds.items():
        if name in for_target_api:  # the demo app needs more than perfci does
            assert Version(pins[name]) > Version(bound), name
        else:
            assert Version(pins[name]) == Version(bound), name


def test_common_app_pins_are_allowed() -> None:
    """microblog's pins (the issue's trial) install with perfci as they are."""
    bounds = lower_bounds()
    for name, pinned in {"sqlalchemy": "2.0.23", "gunicorn": "21.2", "flask": "3.0.0"}.items():
        assert Requirement(f"{name}>={bounds[name]}").specifier.contains(pinned), name


def test_ci_runs_the_suite_against_the_lowest_versions() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    assert "-c ci/constraints-lowest.txt" in ci
    assert ".venv-lowest/bin/python -m pytest" in ci
