"""The base class of every check plugin, built-in or third-party."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, ClassVar

from pydantic import BaseModel, ConfigDict

from perfci.endpoint import Endpoint
from perfci.measurement import Measurement
from perfci.verdict.model import BudgetRule

if TYPE_CHECKING:
    from perfci.context import RunContext


class CheckOptions(BaseModel):
    """Base of a check's config section (``checks.<name>`` in perfci.yaml).

    Unknown keys are errors; subclasses declare their fields with defaults.
    """

    # Every number perfci reads is finite: .inf or .nan would switch a limit off.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    enabled: bool = True


class EndpointOptions(CheckOptions):
    """Options of a check that exercises endpoints: all of ``target.endpoints`` by default."""

    endpoints: list[str] | None = None


def select_endpoints(ctx: RunContext, options: CheckOptions) -> tuple[Endpoint, ...]:
    """The endpoints a check should exercise.

    ``options.endpoints`` (when the check's Options has that field and it is
    set) names a subset of ``target.endpoints`` by subject (``GET /path?q=1``)
    or gives new ``METHOD /path`` strings; otherwise every target endpoint.
    """
    chosen = getattr(options, "endpoints", None)
    if chosen is None:
        return ctx.endpoints
    known = {e.subject: e for e in ctx.endpoints}
    selected = []
    for text in chosen:
        endpoint = Endpoint.parse(text)
        selected.append(known.get(endpoint.subject, endpoint))
    return tuple(selected)


class Check(ABC):
    """A check turns what it sees of the target into measurements.

    Subclasses set ``name`` (the first segment of every metric they emit),
    ``Options`` (their validated config section), whether they need the
    target served over HTTP (gunicorn), and whether their measurements are
    all deterministic (``perfci run --quick`` runs only those).
    """

    name: ClassVar[str]
    description: ClassVar[str] = ""
    Options: ClassVar[type[CheckOptions]] = CheckOptions
    needs_http: ClassVar[bool] = False
    deterministic: ClassVar[bool] = True

    @abstractmethod
    def collect(self, ctx: RunContext, options: CheckOptions) -> Iterable[Measurement]:
        """Measure the target; ``options`` is an instance of ``self.Options``."""

    def budgets(self, options: CheckOptions) -> Sequence[BudgetRule]:
        """Absolute limits this check holds its own metrics to, whatever the baseline says.

        For facts that are wrong at any value past a limit (pool timeouts,
        stale reads, settings below configured minimums): a baseline measured
        on a bad configuration must still fail. A limit applies only where
        its metric was produced. Budgets in perfci.yaml apply as well.
        """
        return ()
