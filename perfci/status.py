"""The status of every request a check exercises: an unexpected one is a failure.

Each check that issues requests reports ``<check>/<endpoint>/failed_requests``:
how many of the requests it issued for that endpoint answered a status
outside the endpoint's expected ones (``expect: [404]`` in
``target.endpoints``; default any 2xx or 3xx), with the status and the start
of the body as evidence. The check holds the metric to 0 itself
(:func:`failed_requests_budget`), so a baseline measured on failing requests
(a wrong token, a ``raiseload`` tripped) cannot make them pass, and
:func:`refuse_failed_baseline` stops ``perfci baseline update`` from storing
one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from perfci.errors import TargetError
from perfci.measurement import Direction, Evidence, Measurement
from perfci.target.endpoint import Endpoint
from perfci.verdict.model import BudgetRule

METRIC = "failed_requests"
#: Characters of a failed response's body shown in evidence.
BODY_CHARS = 200


def body_start(data: bytes, limit: int = BODY_CHARS) -> str:
    """The start of a response body, as text on one line."""
    text = " ".join(data[: limit * 4].decode("utf-8", "replace").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class StatusLog:
    """The statuses of the requests one check issued for one endpoint."""

    endpoint: Endpoint
    failures: list[str] = field(default_factory=list)
    seen: int = 0

    def see(self, sent: Endpoint, status: int, body: bytes, location: str | None = None) -> bool:
        """Record one response to ``sent`` (the endpoint, perhaps with a page size); ok?

        ``location`` is a redirect's Location: a redirect to a login page is a
        failure unless the endpoint expects it.
        """
        self.seen += 1
        if self.endpoint.expects(status, location):
            return True
        problem = self.endpoint.problem(status, location) or ""
        if location and 300 <= status < 400 and not self.endpoint.expect:
            self.failures.append(f"{sent.subject} → {status}: {problem.partition(', ')[2]}")
        else:
            self.failures.append(
                f"{sent.subject} → {status} (expected {self.endpoint.expected}): {body_start(body)}"
            )
        return False

    def measurement(self, check: str, subject: str | None = None) -> Measurement:
        """``<check>/<subject>/failed_requests`` (subject: the endpoint's, unless given)."""
        evidence = tuple(Evidence("failed request", text) for text in self.failures[:3])
        if len(self.failures) > 3:
            evidence += (Evidence("note", f"and {len(self.failures) - 3} more"),)
        return Measurement(
            f"{check}/{subject or self.endpoint.subject}/{METRIC}",
            len(self.failures),
            "requests",
            Direction.LOWER,
            evidence=evidence,
        )


def failed_requests_budget(check: str) -> BudgetRule:
    """The check's own limit: no exercised request may answer an unexpected status."""
    return BudgetRule(f"{check}/*/{METRIC}", max=0)


def failed_requests(measurements: Iterable[Measurement]) -> list[Measurement]:
    """The ``failed_requests`` measurements above 0."""
    return [
        m
        for m in measurements
        if m.metric == METRIC and isinstance(m.value, float | int) and m.value > 0
    ]


def refuse_failed_baseline(measurements: Sequence[Measurement]) -> None:
    """Raise when a baseline would be built on failed requests (``perfci baseline update``)."""
    failed = failed_requests(measurements)
    if not failed:
        return
    first = failed[0]
    detail = first.evidence[0].text if first.evidence else first.name
    more = f" (and {len(failed) - 1} more endpoint(s))" if len(failed) > 1 else ""
    raise TargetError(
        f"refusing to store a baseline built on failed requests: {first.subject}: {detail}{more}"
    )
