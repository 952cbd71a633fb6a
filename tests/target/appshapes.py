"""The test apps of tests/target/apps, copied into a project or put on the import path."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

APPS = Path(__file__).parent / "apps"


def copy_app(name: str, into: Path) -> Path:
    """Copy tests/target/apps/NAME's contents into ``into`` (a project directory)."""
    shutil.copytree(
        APPS / name, into, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__")
    )
    return into


@contextmanager
def importable(name: str) -> Iterator[Path]:
    """tests/target/apps/NAME on sys.path; its modules forgotten afterwards (fresh engines)."""
    root = APPS / name
    before = set(sys.modules)
    sys.path.insert(0, str(root))
    try:
        yield root
    finally:
        sys.path.remove(str(root))
        for module in set(sys.modules) - before:
            del sys.modules[module]
