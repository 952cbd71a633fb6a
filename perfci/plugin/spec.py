"""Every hook a perfci plugin may implement, grouped by the phase of a run.

Implement a hook with ``@perfci.hookimpl`` on a module-level function (or a
method of a registered object) of the same name; an implementation may take
any subset of the parameters documented here. Built-in checks (from
``perfci.checks.BUILTIN_PLUGINS``), packages registered under the ``perfci``
entry-point group and modules found in the ``plugins.paths`` directories of
perfci.yaml are all registered the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from perfci.check import Check
    from perfci.config.model import Config
    from perfci.measurement import Measurement
    from perfci.result import RunResult
    from perfci.target.context import RunContext

PROJECT = "perfci"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


# --- Phase 1: startup (before the configuration's checks section is validated) ---


@hookspec
def perfci_checks() -> Sequence[type[Check]]:
    """Return the check classes this plugin provides.

    Called once, when the plugin manager is set up. Each class's ``name`` must
    be unique across all plugins; its ``Options`` model validates the
    ``checks.<name>`` section of perfci.yaml.

    :return: ``Check`` subclasses (not instances); anything else is a
        configuration error naming the plugin.
    """
    return ()


@hookspec
def perfci_configure(config: Config) -> None:
    """Called once the whole configuration is loaded and validated.

    :param config: the validated perfci.yaml, ``checks`` options included. A
        plugin may keep a reference to it; it must not change it.
    """


# --- Phase 2: target (the app is built, its schema created and data seeded) ---


@hookspec
def perfci_target_ready(ctx: RunContext) -> None:
    """Called after the target app is built and seeded, before the first check.

    :param ctx: the context every check's ``collect`` receives; a plugin may
        add data or warm caches through ``ctx.app``/``ctx.engine``.
    """


# --- Phase 3: measure ---


@hookspec
def perfci_check_finished(check: str, measurements: Sequence[Measurement]) -> None:
    """Called after a check produced its measurements, in run order.

    :param check: the check's name (the first segment of every measurement).
    :param measurements: what its ``collect`` produced in this call; a check
        may be collected several times in one run (confirmation, A/B rounds).
    """


# --- Phase 4: report (verdicts are final; the exit code is not yet returned) ---


@hookspec
def perfci_run_finished(result: RunResult) -> None:
    """Called once per run after every verdict and report, before perfci exits.

    :param result: the verdicts and measurements of the run;
        ``result.exit_code`` is the exit code the run will end with.
    """
