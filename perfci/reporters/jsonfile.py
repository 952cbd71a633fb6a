"""The JSON results file (``--json``): ``RunResult.to_dict()`` as strict JSON.

JSON has no infinity or NaN, and Python's ``json`` would write the
non-standard ``Infinity`` literal. Non-finite floats (a change from a zero
baseline is ``+inf``) are written as the strings ``"Infinity"``,
``"-Infinity"`` and ``"NaN"``: ``float()`` in Python and ``Number()`` in
JavaScript read them back, and a reader never mistakes them for a missing
value (``null``).
"""

from __future__ import annotations

import json
import math
from typing import Any

from perfci.result import RunResult


def render_json(result: RunResult) -> str:
    """The results as indented, key-sorted, strictly valid JSON, ending with a newline."""
    data = _finite(result.to_dict())
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        if math.isnan(value):
            return "NaN"
        return "Infinity" if value > 0 else "-Infinity"
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value
