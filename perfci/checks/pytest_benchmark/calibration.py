"""A pytest plugin the pytest_benchmark check adds to the runs it starts (``-p``).

It inserts one benchmark, ``test_perfci_calibration``, timing a fixed
pure-Python workload in the middle of the collected tests: same process, same
interpreter, same machine state as the benchmarks around it. The check
attaches its times to every other benchmark as calibration samples, so a
machine that is slower across the board does not read as a regression.
"""

from __future__ import annotations

from typing import Any

import pytest

NAME = "test_perfci_calibration"


def _work() -> int:
    total = 0
    for i in range(2000):
        total += i * i % 7
    return total


def _calibration(benchmark: Any) -> None:
    benchmark(_work)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if not items or items[0].parent is None:
        return
    probe = pytest.Function.from_parent(items[0].parent, name=NAME, callobj=_calibration)
    items.insert(len(items) // 2, probe)
