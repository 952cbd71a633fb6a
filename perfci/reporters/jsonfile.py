"""The JSON results file (``--json``): ``RunResult.to_dict()`` as strict JSON.

JSON has no infinity or NaN, and Python's ``json`` would write the
non-standard ``Infinity`` literal. Non-finite floats (a change from a zero
baseline is ``+inf``) are written as the strings ``"Infinity"``,
``"-Infinity"`` and ``"NaN"`` (``perfci.units.encode_finite``): ``float()`` in
Python and ``Number()`` in JavaScript read them back, and a reader never
mistakes them for a missing value (``null``).
"""

from __future__ import annotations

from perfci.files import dumps
from perfci.result import RunResult


def render_json(result: RunResult) -> str:
    """The results as indented, key-sorted, strictly valid JSON, ending with a newline."""
    return dumps(result.to_dict(), indent=2, sort_keys=True)
