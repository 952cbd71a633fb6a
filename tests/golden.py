"""Golden files: compare output with a committed file, or rewrite it on request.

``PERFCI_UPDATE_GOLDEN=1`` rewrites a golden file whose content differs and
then fails the test, so an update run is never green by itself: review the
diff and run again without the variable.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

UPDATE = "PERFCI_UPDATE_GOLDEN"


def check_golden(path: Path, text: str) -> None:
    """Assert ``text`` equals ``path``'s content; rewrite it and fail when updating."""
    current = path.read_text(encoding="utf-8") if path.exists() else None
    if os.environ.get(UPDATE) == "1" and current != text:
        path.write_text(text, encoding="utf-8", newline="")
        pytest.fail(f"{path.name} rewritten ({UPDATE}=1): review its diff and run again without it")
    assert current is not None, f"{path} is missing: run with {UPDATE}=1"
    assert text == current, f"{path.name} differs from its golden file"
