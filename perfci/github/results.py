"""Read a results file (``perfci run --json``) back into a ``RunResult``.

The publisher renders the comment, summary and annotations itself from the
parsed data rather than posting a Markdown file: in the fork-safe pattern the
results come from an artifact a pull request produced, and rebuilding them
through the reporters keeps every cell escaped and the report within size.
"""

from __future__ import annotations

from pathlib import Path

from perfci.errors import ConfigError
from perfci.files import Versioned, read_versioned
from perfci.result import RESULTS_SCHEMA, RunResult

RESULTS_FORMAT = Versioned(
    "perfci_results", RESULTS_SCHEMA, "a results file written by 'perfci run --json'"
)


def load_result(path: Path) -> RunResult:
    """The ``RunResult`` a results file describes; ``ConfigError`` naming the file otherwise."""
    data = read_versioned(Path(path), RESULTS_FORMAT)
    try:
        return RunResult.from_dict(data)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise ConfigError(
            f"not a valid results file: {_describe(error)}", where=str(path)
        ) from None


def _describe(error: Exception) -> str:
    if isinstance(error, KeyError):
        return f"missing key {error.args[0]!r}"
    return str(error)
