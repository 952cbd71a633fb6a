"""The base class of every check plugin, built-in or third-party."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Generic

from pydantic import BaseModel, ConfigDict, Field
from typing_extensions import TypeVar

from perfci.measurement import Measurement
from perfci.target.endpoint import Endpoint
from perfci.verdict.model import BudgetRule

if TYPE_CHECKING:
    from perfci.target.context import RunContext


class CheckOptions(BaseModel):
    """Base of a check's config section (``checks.<name>`` in perfci.yaml).

    Unknown keys are errors; subclasses declare their fields with defaults.
    """

    # Every number perfci reads is finite: .inf or .nan would switch a limit off.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    #: Renamed options still accepted for one release, ``{old name: new name}``: perfci
    #: reads the old spelling as the new one and warns with the file and line.
    renamed: ClassVar[Mapping[str, str]] = {}

    enabled: bool = True


class EndpointOptions(CheckOptions):
    """Options of a check that exercises endpoints: all of ``target.endpoints`` by default."""

    endpoints: list[str] | None = None


#: ``bypass_cache``: true, false, or the request headers the app honours as a bypass.
CacheBypass = bool | dict[str, str]

#: The bypass headers ``bypass_cache: true`` sends: honoured by HTTP caches and target_api.
NO_CACHE_HEADERS: Mapping[str, str] = {"Cache-Control": "no-cache"}


def bypass_cache_field(default: bool) -> Any:
    """The ``bypass_cache`` option, one meaning in every check that sends requests.

    The response cache must not answer the measured requests: ``true`` sends
    ``Cache-Control: no-cache`` with each, and a check that runs the app
    in-process also clears its Flask-Caching backends first (which works even
    for an app that ignores the header); a mapping sends those headers instead
    (an app with its own bypass); ``false`` measures what the cache serves.
    """
    return Field(
        default=default,
        description="Keep the response cache from answering the measured requests: true sends "
        "Cache-Control: no-cache (and clears the app's Flask-Caching backends where perfci runs "
        "it in-process); a mapping sends those headers instead; false measures cached answers.",
    )


def cache_bypass_headers(bypass: CacheBypass) -> dict[str, str]:
    """The request headers that carry ``bypass_cache``: ``{}`` when it is off.

    ``true`` is ``Cache-Control: no-cache``; a mapping is sent as written;
    ``false`` and ``{}`` send nothing.
    """
    if bypass is True:
        return dict(NO_CACHE_HEADERS)
    return dict(bypass) if bypass else {}


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


#: The options model of a check; ``Check`` alone (no parameter) accepts any options.
OptionsT = TypeVar("OptionsT", bound=CheckOptions, default=Any)


class Check(ABC, Generic[OptionsT]):
    """A check turns what it sees of the target into measurements.

    Subclasses set ``name`` (the first segment of every metric they emit),
    ``description`` (one line, listed by ``perfci plugins``), ``Options``
    (their validated config section, also the type parameter:
    ``class Rows(Check[RowsOptions])``), and whether their measurements are
    all deterministic (``perfci run --quick`` runs only those).
    """

    name: ClassVar[str]
    description: ClassVar[str] = ""
    Options: ClassVar[type[CheckOptions]] = CheckOptions
    deterministic: ClassVar[bool] = True

    @abstractmethod
    def collect(self, ctx: RunContext, options: OptionsT) -> Iterable[Measurement]:
        """Measure the target; ``options`` is the validated ``checks.<name>`` section.

        The contract the runner enforces on every call:

        * every measurement is named ``<name>/<subject>/<metric>`` with this
          check's ``name`` first, and no name appears twice in one call;
          otherwise the run stops with exit 3 (:class:`CheckCrashed`);
        * an exception other than a perfci error (:class:`ConfigError`: exit 2,
          :class:`CheckCrashed`: exit 3) is wrapped in :class:`CheckCrashed`
          naming the check, so raise those two for what the user must fix;
        * ``collect`` may run several times on one target (a suspected
          timing regression is re-measured, ``perfci noise`` repeats runs,
          ``--against`` alternates rounds), each time on a new instance of
          the check: keep no state between calls and leave the target as
          you found it.
        """

    def budgets(self, options: OptionsT) -> Sequence[BudgetRule]:  # noqa: ARG002 - none by default
        """Absolute limits this check holds its own metrics to, whatever the baseline says.

        For facts that are wrong at any value past a limit (pool timeouts,
        stale reads, settings below configured minimums): a baseline measured
        on a bad configuration must still fail. A limit applies only where
        its metric was produced. Budgets in perfci.yaml apply as well.
        """
        return ()
