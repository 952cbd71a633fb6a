"""Fixtures of the reporter tests: hand-built results (``builders``) and golden files."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from perfci.result import RunResult
from perfci.verdict.model import Outcome, Verdict
from tests.golden import check_golden
from tests.reporters.builders import GOLDEN, make_result, sample_verdicts


@pytest.fixture
def sample_result() -> RunResult:
    """A failing run with one verdict of every outcome."""
    return make_result(sample_verdicts())


@pytest.fixture
def passing_result() -> RunResult:
    verdicts = [v for v in sample_verdicts() if v.outcome in (Outcome.PASS, Outcome.NEW)]
    return make_result(verdicts)


@pytest.fixture
def build_result() -> Callable[..., RunResult]:
    """``make_result``: a RunResult around any list of verdicts."""
    return make_result


@pytest.fixture
def verdicts() -> list[Verdict]:
    return sample_verdicts()


@pytest.fixture
def golden() -> Callable[[str, str], None]:
    """Compare text with ``golden/<name>`` (see tests/golden.py for updating)."""

    def check(name: str, text: str) -> None:
        check_golden(GOLDEN / name, text)

    return check
