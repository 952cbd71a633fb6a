"""A short, bounded run of every fuzzing target (tests/hardening/fuzz.py has the long run)."""

from __future__ import annotations

import pytest
from hypothesis import settings

from tests.hardening.fuzz import TARGETS


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_fuzz_smoke(name: str) -> None:
    settings(settings.get_profile("smoke"), database=None)(TARGETS[name])()
