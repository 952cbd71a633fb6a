"""The measure step: select checks, build the target, collect; and the rules to judge by.

The flow that uses them (judge, confirm, report) is ``perfci.gate``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from fnmatch import fnmatchcase
from pathlib import Path

from flask import Flask
from pydantic import ValidationError
from sqlalchemy import create_engine

from perfci.check import Check, CheckOptions
from perfci.config.load import build_endpoints, suggest
from perfci.config.model import Config, ThresholdConfig
from perfci.errors import CheckCrashed, CheckSkipped, ConfigError, PerfciError, UsageError
from perfci.measurement import Measurement, redact
from perfci.plugin.manager import PluginHost
from perfci.target.build import build_target
from perfci.target.context import RunContext
from perfci.target.endpoint import Endpoint
from perfci.target.guard import importable
from perfci.target.recorder import QueryRecorder
from perfci.target.server import Server
from perfci.units import parse_quantity
from perfci.verdict import judge
from perfci.verdict.model import AckRule, BudgetRule, Judgement, Rules, ThresholdRule

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Selection:
    """Which checks run, and which are skipped (disabled, --only, --quick)."""

    run: tuple[str, ...]
    skipped: tuple[str, ...]


def select_checks(
    config: Config,
    checks: dict[str, type[Check]],
    *,
    only: Sequence[str] = (),
    quick: bool = False,
) -> Selection:
    """Which checks run: perfci.yaml's, less disabled ones, narrowed by --only and --quick.

    The config is not changed (``perfci_configure`` promised plugins it would not be).
    """
    for name in only:
        if name not in checks:
            raise UsageError(f"--only: unknown check {name!r}{suggest(name, checks)}")
    run: list[str] = []
    skipped: list[str] = []
    # In the order perfci.yaml lists them, then those only --only names.
    ordered = [*config.model.checks, *(n for n in only if n not in config.model.checks)]
    for name in ordered:
        # A listed check that is disabled or filtered out is "skipped": its baseline
        # metrics are not missing. Checks perfci.yaml does not list take no part.
        enabled = options_for(config, checks, name).enabled
        wanted = (not only or name in only) and (not quick or checks[name].deterministic)
        (run if enabled and wanted else skipped).append(name)
    if not run:
        disabled = [n for n in only if not options_for(config, checks, n).enabled]
        if disabled:
            raise UsageError(
                f"--only: check {', '.join(map(repr, disabled))} is disabled (enabled: false)",
                where=config.where("checks", disabled[0], "enabled"),
            )
        raise ConfigError("no check selected: list checks under 'checks:' in perfci.yaml")
    return Selection(tuple(run), tuple(skipped))


def options_for(config: Config, checks: dict[str, type[Check]], name: str) -> CheckOptions:
    """The check's validated section of perfci.yaml, or its defaults when it has none."""
    found = config.check_options.get(name)
    if found is not None:
        assert isinstance(found, CheckOptions)
        return found
    try:
        return checks[name].Options()
    except ValidationError as error:
        problem = error.errors()[0]["msg"]
        raise UsageError(
            f"--only {name}: the check needs a checks.{name} section in perfci.yaml ({problem})"
        ) from None


def endpoints_of(config: Config) -> tuple[Endpoint, ...]:
    return build_endpoints(config.model, lambda loc: config.where(*loc))


class MeasureSession:
    """A built and seeded target that checks can be collected from, once or in rounds.

    Entering builds the target (and its recorder); leaving stops the server if
    one was started, closes the recorder and removes the run's files, on every
    exit path.
    """

    def __init__(
        self, config: Config, host: PluginHost, *, progress: Progress = lambda _message: None
    ) -> None:
        self.config = config
        self.host = host
        self.progress = progress
        self._ctx: RunContext | None = None
        self._stack = contextlib.ExitStack()
        #: Every measurement of the current ``collect`` call so far (kept when a check fails).
        self.collected: list[Measurement] = []

    @property
    def context(self) -> RunContext:
        if self._ctx is None:
            raise RuntimeError("MeasureSession used outside its with-block")
        return self._ctx

    def __enter__(self) -> MeasureSession:
        try:
            self._start()
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def _start(self) -> None:
        config, progress = self.config, self.progress
        target_config = config.model.target
        workdir = Path(tempfile.mkdtemp(prefix="perfci-run-"))
        self._stack.callback(shutil.rmtree, workdir, ignore_errors=True)
        # The target's code is importable while it is measured, lazy imports included.
        self._stack.enter_context(importable(config.root))
        if target_config is None:
            ctx = _no_target_context(config, workdir, progress)
            self._stack.callback(ctx.recorder.close)
            self._stack.callback(ctx.engine.dispose)
            self._ctx = ctx
            self.host.target_ready(ctx)
            return
        endpoints = endpoints_of(config)
        progress(f"building target {target_config.app}")
        target = build_target(target_config, workdir, config.root)
        self._stack.callback(target.engine.dispose)
        progress(f"target.app {target_config.app}: {target.how}")
        progress(f"probe {target.probe}: {target.probe_why}")
        if target.seeded:
            sizes = ", ".join(f"{k} {v}" for k, v in sorted(target.seeded.items()))
            progress(f"seeded {sizes}")
        recorder = QueryRecorder(target.engine)
        self._stack.callback(recorder.close)

        def start_server() -> Server:
            progress(f"starting gunicorn ({target_config.server.workers} workers)")
            server = Server(
                target.recipe,
                target.app_config,
                target_config.server,
                root=config.root,
                log_path=workdir / "gunicorn.log",
                health=target.probe,
            )
            server.start()
            return server

        ctx = RunContext(
            app=target.app,
            engine=target.engine,
            recorder=recorder,
            endpoints=endpoints,
            seeded=target.seeded,
            workdir=workdir,
            server_factory=start_server,
            progress=progress,
            target_settings=target.app_config,
            server_settings=target_config.server,
            request_timeout_s=target_config.timeouts.request,
            root=config.root,
            app_spec=target_config.app,
            recipe=target.recipe,
            probe=target.probe,
            auth=target_config.auth,
            shared_headers=dict(target_config.headers),
        )
        self._stack.callback(self._stop_server)
        self._ctx = ctx
        self._stack.enter_context(target.app.app_context())
        # The login and every endpoint's needs, before any check measures anything.
        ctx.prepare()
        self.host.target_ready(ctx)

    def _stop_server(self) -> None:
        if self._ctx is not None and self._ctx.started_server is not None:
            self._ctx.started_server.stop()

    def collect(self, names: Sequence[str]) -> list[Measurement]:
        """Run the named checks in order and return their measurements."""
        checks = self.host.checks()
        self.collected = []
        for index, name in enumerate(names, 1):
            self.progress(f"[{index}/{len(names)}] {name}")
            options = options_for(self.config, checks, name)
            try:
                produced = _collect(checks[name](), name, self.context, options)
            except CheckSkipped as skipped:
                # One visible line; the other checks' results stand. Baseline metrics
                # of the skipped check read as missing, so the gate cannot pass on them.
                self.progress(f"{name}: skipped: {skipped.message}")
                produced = []
            # A credential echoed in evidence (a plan's bound values) never leaves the run.
            secrets = self.context.secrets()
            produced = [redact(m, secrets) for m in produced]
            self.host.check_finished(name, produced)
            self.collected.extend(produced)
        return list(self.collected)


def _no_target_context(config: Config, workdir: Path, progress: Progress) -> RunContext:
    """The context of a run without ``target:``: only checks that need no app run in it.

    ``bind_checks`` refused every configured check that needs a target; the
    app and engine here are empty stand-ins (an in-memory SQLite database)
    that such checks never touch.
    """
    engine = create_engine("sqlite://")

    def no_server() -> Server:
        raise ConfigError("this run has no target (perfci.yaml has no target section)")

    return RunContext(
        app=Flask("perfci_no_target"),
        engine=engine,
        recorder=QueryRecorder(engine),
        endpoints=(),
        seeded={},
        workdir=workdir,
        server_factory=no_server,
        progress=progress,
        root=config.root,
    )


def _collect(check: Check, name: str, ctx: RunContext, options: CheckOptions) -> list[Measurement]:
    try:
        produced = list(check.collect(ctx, options))
    except (PerfciError, CheckSkipped):
        raise
    except Exception as error:
        raise CheckCrashed(f"check {name!r} crashed: {type(error).__name__}: {error}") from error
    seen: set[str] = set()
    for measurement in produced:
        if measurement.check != name:
            raise CheckCrashed(
                f"check {name!r} produced {measurement.name!r}, outside its own name"
            )
        if measurement.name in seen:
            raise CheckCrashed(f"check {name!r} produced {measurement.name!r} twice")
        seen.add(measurement.name)
    return produced


def check_budgets(
    config: Config, checks: dict[str, type[Check]], selection: Selection
) -> tuple[BudgetRule, ...]:
    """The limits the selected checks set on their own metrics (``Check.budgets``)."""
    found: list[BudgetRule] = []
    for name in selection.run:
        for rule in checks[name]().budgets(options_for(config, checks, name)):
            found.append(replace(rule, optional=True, source=rule.source or f"check {name}"))
    return tuple(found)


def build_rules(
    config: Config,
    *,
    today: dt.date,
    skipped: Sequence[str] = (),
    extra_budgets: Sequence[BudgetRule] = (),
) -> Rules:
    """Turn the thresholds, budgets and acknowledgements of perfci.yaml into engine rules.

    ``extra_budgets`` are the checks' own limits (``check_budgets``).
    """
    model = config.model
    default = 0.10
    thresholds: list[ThresholdRule] = []
    for pattern, value in model.thresholds.items():
        source = config.where("thresholds", pattern)
        if pattern == "default":
            default = value.threshold if isinstance(value, ThresholdConfig) else value
            continue
        if isinstance(value, ThresholdConfig):
            thresholds.append(ThresholdRule(pattern, value.threshold, value.strict, source=source))
        else:
            thresholds.append(ThresholdRule(pattern, value, source=source))
    budgets = []
    for pattern, budget in model.budgets.items():
        source = config.where("budgets", pattern)
        if budget.max is None and budget.min is None:
            raise ConfigError(f"budgets.{pattern}: give max, min or both", where=source)
        limits: dict[str, float | None] = {"max": None, "min": None}
        units: set[str] = set()
        for key in ("max", "min"):
            raw = getattr(budget, key)
            if raw is None:
                continue
            try:
                value, unit = parse_quantity(str(raw))
            except ValueError as error:
                raise ConfigError(f"budgets.{pattern}.{key}: {error}", where=source) from None
            limits[key] = value
            if unit:
                units.add(unit)
        if len(units) > 1:
            raise ConfigError(f"budgets.{pattern}: max and min use different units", where=source)
        budgets.append(
            BudgetRule(
                pattern,
                max=limits["max"],
                min=limits["min"],
                unit=units.pop() if units else None,
                source=source,
            )
        )
    acks = tuple(
        AckRule(a.metric, a.reason, a.expires, source=config.where("acknowledge", i))
        for i, a in enumerate(model.acknowledge)
    )
    return Rules(
        today=today,
        default_threshold=default,
        thresholds=tuple(thresholds),
        budgets=(*budgets, *extra_budgets),
        acknowledgements=acks,
        skipped_checks=frozenset(skipped),
    )


def judge_measurements(
    current: Sequence[Measurement],
    baseline: Sequence[Measurement] | None,
    rules: Rules,
    *,
    same_run: bool = False,
    strict_rules: bool = True,
) -> Judgement:
    """The engine's verdicts; a rule that matches nothing is a configuration error.

    A check's own (optional) budget applies only where its metric was produced.
    ``strict_rules=False`` leaves unmatched rules alone (a re-judgement of a part).
    """
    names = [m.name for m in current]
    budgets = tuple(
        b for b in rules.budgets if not b.optional or any(fnmatchcase(n, b.pattern) for n in names)
    )
    judgement = judge(current, baseline, replace(rules, budgets=budgets), same_run=same_run)
    if strict_rules and judgement.unmatched_rules:
        first = judgement.unmatched_rules[0]
        more = len(judgement.unmatched_rules) - 1
        raise ConfigError(first + (f" (and {more} more)" if more else ""))
    return judgement
