"""GitHub Actions workflow commands (``::error ...::message``), escaped as the runner reads them.

The escaping is that of the Actions toolkit (``@actions/core`` ``command.ts``):
in the message ``%``, CR and LF are percent-encoded; in a property value ``:``
and ``,`` are too, since they separate properties.
"""

from __future__ import annotations

from collections.abc import Iterator

from perfci.reporters import format as fmt
from perfci.result import RunResult
from perfci.safetext import printable
from perfci.verdict.model import Outcome

# The runner shows at most 10 annotations of each level per step; a few more
# cost nothing, hundreds only flood the log.
MAX_ANNOTATIONS = 50

_LEVEL: dict[Outcome, str] = {
    Outcome.REGRESSION: "error",
    Outcome.BUDGET: "error",
    Outcome.MISSING: "error",
    Outcome.NOISY: "warning",
    Outcome.ACKNOWLEDGED: "notice",
}


def escape_data(text: str) -> str:
    """A command's message: ``%``, CR and LF percent-encoded, other control characters gone."""
    return printable(text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A"))


def escape_property(text: str) -> str:
    """A property value: as ``escape_data``, plus ``:`` and ``,``."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: str, **properties: str) -> str:
    """One workflow command line, e.g. ``::error title=perfci%3A x::message``."""
    props = ",".join(f"{key}={escape_property(value)}" for key, value in properties.items())
    return f"::{name}{' ' + props if props else ''}::{escape_data(message)}"


def annotation_lines(result: RunResult) -> Iterator[str]:
    """``::error`` per failing verdict, ``::warning`` per noisy one, ``::notice`` per acknowledged.

    Most urgent first, at most ``MAX_ANNOTATIONS`` (then one notice saying how
    many more the report has).
    """
    selected = [v for v in fmt.ordered(result.verdicts) if v.outcome in _LEVEL]
    for verdict in selected[:MAX_ANNOTATIONS]:
        yield command(
            _LEVEL[verdict.outcome],
            f"{verdict.name}: {verdict.reason}",
            title=f"perfci {fmt.word(verdict.outcome)}: {verdict.name}",
        )
    if len(selected) > MAX_ANNOTATIONS:
        more = len(selected) - MAX_ANNOTATIONS
        yield command("notice", f"{more} more verdicts to look at are in the perfci report")
