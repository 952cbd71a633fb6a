"""The schema of perfci.yaml (checks' own sections are declared by their plugins)."""

from __future__ import annotations

import datetime as dt
import math
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from perfci.history.store import HistoryError, parse_url
from perfci.units import parse_quantity


def parse_fraction(value: Any) -> float:
    """``10%`` or ``0.10`` → 0.10, between 0 and 1 whatever the spelling.

    A bare number above 1 is refused as ambiguous; ``nan%``, ``inf%``,
    ``1e999%`` and ``-5%`` are refused: each would switch the gate off or
    fail an unchanged app.
    """
    spelled = value
    if isinstance(value, str):
        text = value.strip()
        percent = text.endswith("%")
        try:
            value = float(text.removesuffix("%")) / (100.0 if percent else 1.0)
        except ValueError:
            raise ValueError(f"expected a percentage like 10%, got {spelled!r}") from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected a percentage like 10%, got {spelled!r}")
    if not (math.isfinite(value) and 0 <= value <= 1):
        raise ValueError(
            f"write a percentage from 0% to 100% (10%) or a fraction (0.10), got {spelled!r}"
        )
    return float(value)


Fraction = Annotated[float, BeforeValidator(parse_fraction)]


class _Section(BaseModel):
    # Every number perfci reads is finite: .inf or .nan would switch a limit off.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


# --- requests: bodies, needs, logins, shared headers (#16 part B) ---

FormBody = dict[str, str | int | float | bool]


class NeedConfig(_Section):
    """A setup request whose JSON answer fills a ``{name}`` of an endpoint's path.

    The short form is a string: ``"POST /api/posts -> $.id"``.
    """

    request: str
    json_body: Any = Field(default=None, alias="json")
    data: FormBody | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    extract: str = Field(min_length=1)  # a JSON path: $.id, $.items[0].id


class EndpointConfig(_Section):
    """An endpoint with a body or headers; a plain string ``"GET /path"`` is the short form."""

    request: str
    json_body: Any = Field(default=None, alias="json")
    data: FormBody | None = None  # a form body (application/x-www-form-urlencoded)
    headers: dict[str, str] = Field(default_factory=dict)
    # Statuses the endpoint should answer; default any 2xx or 3xx. Anything else fails.
    expect: list[int] | None = Field(default=None, min_length=1)
    # {name} in the path -> "METHOD /path -> $.json.path", or the long form.
    needs: dict[str, str | NeedConfig] = Field(default_factory=dict)


class BasicAuthConfig(_Section):
    username: str
    password: str


class CsrfConfig(_Section):
    """A CSRF token read from a page (``from``) with ``regex`` (its first group)."""

    from_: str = Field(alias="from")
    regex: str
    field: str | None = "csrf_token"  # the form field it is sent in (null: none)
    header: str | None = None  # or a header, e.g. X-CSRFToken

    @field_validator("regex")
    @classmethod
    def _one_group(cls, value: str) -> str:
        try:
            groups = re.compile(value).groups
        except re.error as error:
            raise ValueError(f"not a regular expression: {error}") from None
        if groups < 1:
            raise ValueError('the regex needs a group around the token: value="([^"]+)"')
        return value


class AuthConfig(_Section):
    """``target.auth``: a login request run once per client; its cookies and token are sent
    with every request of every check."""

    request: str
    json_body: Any = Field(default=None, alias="json")
    data: FormBody | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    basic: BasicAuthConfig | None = None
    csrf: CsrfConfig | None = None
    expect: list[int] | None = Field(default=None, min_length=1)
    # A JSON path into the login's answer (``$.token``), sent as ``header: format``.
    token: str | None = None
    token_header: str = "Authorization"
    token_format: str = "Bearer {token}"

    @field_validator("token_format")
    @classmethod
    def _has_token(cls, value: str) -> str:
        if "{token}" not in value:
            raise ValueError("token_format must hold {token}")
        return value


# --- end requests ---


class ServerConfig(_Section):
    workers: int = Field(default=2, ge=1, le=64)
    threads: int = Field(default=4, ge=1, le=256)
    # A gunicorn config file (relative to perfci.yaml); command-line options override it.
    config: str | None = None
    port: int = Field(default=0, ge=0, le=65535)  # 0: a free loopback port
    startup_timeout: float = Field(default=30.0, gt=0)
    # The readiness probe; null: the app's GET /health, else perfci's /_perfci/probe.
    health: str | None = None


class TimeoutsConfig(_Section):
    """Seconds the target's own code may run before perfci stops it (exit 3, naming the phase)."""

    factory: float = Field(default=120.0, gt=0, le=86_400)  # import + the app factory
    seed: float = Field(default=600.0, gt=0, le=86_400)
    request: float = Field(default=60.0, gt=0, le=86_400)  # one in-process request


class TargetConfig(_Section):
    # module:name of a Flask app factory or a Flask app object.
    app: str
    # How target.app takes its configuration; auto: detected (docs/config.md "target.factory").
    factory: Literal["auto", "mapping", "config_class", "none"] = "auto"
    # module:name of a SQLAlchemy Engine (or a function app -> Engine), for plain SQLAlchemy.
    engine: str | None = None
    # An environment variable perfci sets to the run's database URL before importing the app.
    database_env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    # seed: the seed function creates the schema; alembic: `alembic upgrade head`, then the seed.
    schema_: Literal["seed", "alembic"] = Field(default="seed", alias="schema")
    # alembic.ini or a Flask-Migrate directory (relative to perfci.yaml); default: either, found.
    migrations: str | None = None
    config: dict[str, Any] = Field(default_factory=dict)
    # "sqlite": a fresh SQLite file per run; anything else is a SQLAlchemy URL.
    database: str = "sqlite"
    database_key: str = "SQLALCHEMY_DATABASE_URI"
    seed: str | None = None
    seed_args: dict[str, Any] = Field(default_factory=dict)
    endpoints: list[str | EndpointConfig] = Field(default_factory=list)
    server: ServerConfig = Field(default_factory=ServerConfig)
    timeouts: TimeoutsConfig = Field(default_factory=TimeoutsConfig)
    # requests (#16 part B): a login step, headers sent to every endpoint.
    auth: AuthConfig | None = None
    headers: dict[str, str] = Field(default_factory=dict)

    @field_validator("database")
    @classmethod
    def _database_url(cls, value: str) -> str:
        # Heroku-style postgres:// is not a SQLAlchemy dialect name: say so here, not as a
        # factory failure after the app was imported.
        scheme = value.partition("://")[0].lower()
        if scheme == "postgres" or scheme.startswith("postgres+"):
            raise ValueError(
                "SQLAlchemy has no 'postgres' dialect: write postgresql+psycopg://USER@HOST/DB"
            )
        return value

    @field_validator("app", "seed", "engine")
    @classmethod
    def _module_colon_name(cls, value: str | None) -> str | None:
        if value is not None and (value.count(":") != 1 or not all(value.split(":"))):
            raise ValueError(f"expected 'module:name', got {value!r}")
        return value


class ThresholdConfig(_Section):
    threshold: Fraction
    strict: bool = False


class BudgetConfig(_Section):
    max: str | float | None = None
    min: str | float | None = None

    @field_validator("max", "min", mode="before")
    @classmethod
    def _quantity(cls, value: Any) -> Any:
        if value is not None:
            parse_quantity(value)  # "25ms", a finite number; ValueError otherwise
        return value


class AcknowledgeConfig(_Section):
    metric: str
    reason: str = Field(min_length=1)
    expires: dt.date | None = None


class BaselinesConfig(_Section):
    directory: str = "baselines"
    # Without a baseline file a run cannot compare anything: fail unless allowed.
    required: bool = True
    # "server": the newest passing run of `branch` on the perfci server (section `server`).
    from_: Literal["file", "server"] = Field(default="file", alias="from")
    branch: str = Field(default="main", min_length=1, max_length=255)


class PerfciServerConfig(_Section):
    """``server:`` the perfci server runs are uploaded to and baselines fetched from."""

    url: str | None = None  # e.g. https://perfci.example.com
    project: str | None = None
    # Write it as ${PERFCI_TOKEN}: a token in the file would be in git. Empty: $PERFCI_TOKEN.
    token: str | None = Field(default=None, repr=False)

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value and not (value.startswith("http://") or value.startswith("https://")):
            raise ValueError(f"expected an http(s) URL, got {value!r}")
        return value or None


class TimingConfig(_Section):
    """How timing checks are judged."""

    # Re-measure a suspected timing regression once (same run) before it fails the build.
    confirm: bool = True
    # perfci run --against: interleaved base/head rounds of the timing checks.
    rounds: int = Field(default=3, ge=1, le=50)


class AgainstConfig(_Section):
    """``perfci run --against``: how the base tree is prepared."""

    # Paths (relative to perfci.yaml) copied from the head into the base tree before it
    # is measured, e.g. a perf/ folder of seed code the base does not have yet.
    overlay: list[str] = Field(default_factory=list)


class PluginsConfig(_Section):
    paths: list[str] = Field(default_factory=list)
    disable: list[str] = Field(default_factory=list)


class HistoryConfig(_Section):
    enabled: bool = True  # record every `perfci run` into the history store
    # A SQLAlchemy URL; empty: sqlite file .perfci/history.db under the project root.
    url: str | None = None

    @field_validator("url")
    @classmethod
    def _sqlalchemy_url(cls, value: str | None) -> str | None:
        """An unparsable URL is a config error before anything is measured."""
        if value:
            try:
                parse_url(value)
            except HistoryError as error:
                raise ValueError(error.message) from None
        return value


class ConfigModel(_Section):
    """The top level of perfci.yaml."""

    suite: str = Field(default="perfci", pattern=r"^[A-Za-z0-9_.-]+$")
    # Optional when no configured check needs a target (e.g. only pytest_benchmark).
    target: TargetConfig | None = None
    checks: dict[str, dict[str, Any] | None] = Field(default_factory=dict)
    thresholds: dict[str, Fraction | ThresholdConfig] = Field(default_factory=dict)
    budgets: dict[str, BudgetConfig] = Field(default_factory=dict)
    acknowledge: list[AcknowledgeConfig] = Field(default_factory=list)
    baselines: BaselinesConfig = Field(default_factory=BaselinesConfig)
    timing: TimingConfig = Field(default_factory=TimingConfig)
    against: AgainstConfig = Field(default_factory=AgainstConfig)
    plugins: PluginsConfig = Field(default_factory=PluginsConfig)
    history: HistoryConfig = Field(default_factory=HistoryConfig)
    server: PerfciServerConfig = Field(default_factory=PerfciServerConfig)


class Config:
    """A validated perfci.yaml: the model, where it came from, and each check's options.

    ``root``, the directory holding perfci.yaml, is where the target's code
    lives (for ``--against``, the base tree holds its own copy of perfci.yaml).
    """

    def __init__(
        self,
        model: ConfigModel,
        path: Path,
        check_options: dict[str, Any],
        lines: dict[tuple[str | int, ...], int],
        warnings: tuple[str, ...] = (),
    ) -> None:
        self.model = model
        self.path = path
        self.check_options = check_options  # check name -> validated Options instance
        self._lines = lines
        # One line each, located: a deprecated option spelling, read as its new name.
        self.warnings = warnings

    @property
    def root(self) -> Path:
        """The target's directory; relative paths in perfci.yaml start here."""
        return self.path.parent

    def written(self, *loc: str | int) -> bool:
        """Whether perfci.yaml itself writes the key path (not a default)."""
        return tuple(loc) in self._lines

    def where(self, *loc: str | int) -> str:
        """``perfci.yaml:14`` for a key path (nearest written ancestor)."""
        for end in range(len(loc), -1, -1):
            line = self._lines.get(tuple(loc[:end]))
            if line is not None:
                return f"{self.path.name}:{line}"
        return self.path.name

    def resolve(self, relative: str) -> Path:
        path = Path(relative)
        return path if path.is_absolute() else self.root / path
