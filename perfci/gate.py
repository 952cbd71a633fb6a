"""The gate pipeline: the one flow every judging command goes through.

    measure → judge → confirm → result → history → reports → publish

A ``Measurer`` supplies the measurements of both sides: ``SessionMeasurer``
builds the target in this process and compares with a stored baseline
(``perfci run``), ``perfci.abtest.ABMeasurer`` measures the base and head
trees in two worker processes (``perfci run --against``), and
``FilesMeasurer`` reads two results files (``perfci compare``: nothing is
re-measured). History comes before the reports because the HTML report draws
the runs recorded before this one.
Confirmation exists once (``judge_and_confirm``) and re-judges only what it
re-measured. ``baseline update`` and ``noise`` use only the *measure* step
(``runner.MeasureSession``).

Nothing here prints: the CLI passes ``progress`` and ``echo`` callbacks.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

from perfci.baseline import Baseline, load_baseline, load_comparable, write_baseline
from perfci.config.model import Config
from perfci.environment import git_info, machine_info, timing_differences
from perfci.errors import ConfigError, ExitCode, PerfciError, PublishError, UsageError
from perfci.github.environment import read_environment
from perfci.github.publish import publish
from perfci.history.record import REPORT_RUNS, record
from perfci.measurement import Kind, Measurement
from perfci.plugin.manager import PluginHost
from perfci.remote import RemoteBaseline
from perfci.reporters import (
    render_json,
    render_junit,
    render_markdown,
    render_terminal,
    write_report,
)
from perfci.reporters.html import render_html
from perfci.result import RunResult
from perfci.runner import (
    MeasureSession,
    Selection,
    build_rules,
    check_budgets,
    judge_measurements,
    select_checks,
)
from perfci.status import refuse_failed_baseline
from perfci.verdict.confirm import confirm, timing_regressions
from perfci.verdict.model import Judgement, Rules

Progress = Callable[[str], None]
Echo = Callable[[str, bool], None]  # (text, to_stderr)


def _quiet(message: str) -> None:
    """The default progress callback: says nothing."""


@dataclass(frozen=True)
class Sides:
    """One measurement of the head, and what it is compared with.

    ``base`` is None when there is nothing to compare with (no baseline yet):
    every metric is then "new", and only budgets can fail.
    """

    head: list[Measurement]
    base: Sequence[Measurement] | None


class Measurer(Protocol):
    """Where a gate's measurements come from.

    ``measure`` may be called more than once on one target: first with every
    selected check, then with the checks of suspected timing regressions.
    """

    @property
    def same_run(self) -> bool:
        """Base and head measured side by side in this run (statistics may pair them)."""
        ...

    @property
    def foreign(self) -> tuple[str, ...]:
        """What differs between the base's machine and this one (empty: comparable)."""
        ...

    @property
    def compared(self) -> str | None:
        """What the head is compared with, for the reports ("baselines/x.json", "main @ abc")."""
        ...

    def measure(self, checks: Sequence[str]) -> Sides:
        """Measure ``checks`` (in order) on the head, and give the base to compare with."""
        ...

    @property
    def partial(self) -> list[Measurement]:
        """What the head produced so far in the current ``measure`` call (reports on error)."""
        ...


class SessionMeasurer:
    """The target built in this process, compared with a stored baseline (or nothing)."""

    same_run = False

    def __init__(
        self, session: MeasureSession, baseline: Baseline | None, *, compared: str | None
    ) -> None:
        self.session = session
        self.baseline = baseline
        self.compared = compared if baseline is not None else None
        self.foreign = (
            tuple(timing_differences(baseline.environment, machine_info()))
            if baseline is not None
            else ()
        )

    def measure(self, checks: Sequence[str]) -> Sides:
        head = self.session.collect(checks)
        return Sides(head, self.baseline.measurements if self.baseline is not None else None)

    @property
    def partial(self) -> list[Measurement]:
        return list(self.session.collected)


@dataclass(frozen=True)
class Judged:
    """The head's measurements and their verdicts, after confirmation."""

    measurements: tuple[Measurement, ...]
    judgement: Judgement
    confirmations: Mapping[str, str] = field(default_factory=dict)  # metric -> note


def judge_and_confirm(
    measurer: Measurer,
    checks: Sequence[str],
    rules: Rules,
    *,
    confirm_timing: bool = True,
    progress: Progress = _quiet,
) -> Judged:
    """Measure ``checks``, judge them, and re-measure suspected timing regressions.

    A timing metric judged a regression has its check measured again
    (``timing.confirm``); it fails only if the second measurement is a
    regression too, so a job passing through a busy machine does not fail a
    healthy build. Raises ``ConfigError`` when a rule matches no measurement.
    """
    rules = replace(rules, baseline_machine_differences=measurer.foreign)
    first = measurer.measure(checks)
    judgement = judge_measurements(first.head, first.base, rules, same_run=measurer.same_run)
    suspects = timing_regressions(judgement)
    if not (confirm_timing and suspects):
        return Judged(tuple(first.head), judgement)
    again = sorted({name.split("/", 1)[0] for name in suspects})
    progress(f"re-measuring {len(suspects)} suspected timing regression(s): {', '.join(again)}")
    second = rejudge(measurer.measure(again), again, rules, same_run=measurer.same_run)
    judgement, notes = confirm(judgement, second, suspects)
    return Judged(tuple(first.head), judgement, notes)


def rejudge(sides: Sides, checks: Sequence[str], rules: Rules, *, same_run: bool) -> Judgement:
    """Judge a re-measurement of ``checks`` alone (pure).

    Only what was re-measured is in scope: the baseline's metrics of other
    checks are not "missing", and rules about other checks are not
    "unmatched" (every rule was already checked against the full measurement).
    """
    base = None if sides.base is None else [m for m in sides.base if m.check in checks]
    others = {m.check for m in sides.base or ()} - set(checks)
    narrowed = replace(rules, skipped_checks=frozenset(rules.skipped_checks | others))
    return judge_measurements(sides.head, base, narrowed, same_run=same_run, strict_rules=False)


@dataclass(frozen=True)
class Gate:
    """What one ``perfci run`` judges: the project, its selected checks and its rules."""

    config: Config
    host: PluginHost
    selection: Selection
    rules: Rules

    @classmethod
    def plan(
        cls,
        config: Config,
        host: PluginHost,
        *,
        only: Sequence[str] = (),
        quick: bool = False,
        today: dt.date | None = None,
    ) -> Gate:
        """The checks ``--only``/``--quick`` select, and perfci.yaml's rules plus their own."""
        checks = host.checks()
        selection = select_checks(config, checks, only=only, quick=quick)
        rules = build_rules(
            config,
            today=today or dt.date.today(),
            skipped=selection.skipped,
            extra_budgets=check_budgets(config, checks, selection),
        )
        return cls(config, host, selection, rules)


def run_gate(
    gate: Gate,
    measurer: Measurer,
    *,
    started_at: dt.datetime,
    progress: Progress = _quiet,
) -> RunResult:
    """Measure, judge and confirm into a ``RunResult``; errors become the result's error.

    A ``PerfciError`` raised after the target was built (a rule matching
    nothing, a check crashing, a worker dying during confirmation) does not
    lose what was measured: the result carries the measurements so far, no
    verdicts, the error's message and its exit code, so the reports can still
    be written. Anything else (a bug, Ctrl-C) propagates.
    """
    started = time.monotonic()
    commit, branch = git_info(gate.config.root)
    error: PerfciError | None = None
    try:
        judged = judge_and_confirm(
            measurer,
            gate.selection.run,
            gate.rules,
            confirm_timing=gate.config.model.timing.confirm,
            progress=progress,
        )
    except PerfciError as raised:
        error = raised
        judged = Judged(tuple(measurer.partial), Judgement(()))
    if error is not None:
        exit_code = int(error.exit_code)
    else:
        exit_code = int(ExitCode.REGRESSION if judged.judgement.failed else ExitCode.OK)
    return RunResult(
        suite=gate.config.model.suite,
        measurements=judged.measurements,
        judgement=judged.judgement,
        exit_code=exit_code,
        started_at=started_at.isoformat(timespec="seconds"),
        duration_s=round(time.monotonic() - started, 3),
        commit=commit,
        branch=branch,
        environment=machine_info(),
        baseline_path=measurer.compared,
        checks=gate.selection.run,
        skipped_checks=gate.selection.skipped,
        error=None if error is None else str(error),
    )


@contextmanager
def stored_baseline(
    gate: Gate, source: Path | RemoteBaseline, *, progress: Progress = _quiet
) -> Iterator[SessionMeasurer]:
    """A ``SessionMeasurer`` against the baseline file at ``source``, or the run a perfci
    server stores for a branch (``RemoteBaseline``): the newest passing one of this
    suite that measured every selected check; its page is what the results compare with.

    A missing file is an error unless ``baselines.required`` is false; a server
    baseline that cannot be fetched is always one (exit 2, with the reason).
    The baseline is read before the target is built, so a corrupt one costs no
    measuring.
    """
    if isinstance(source, RemoteBaseline):
        progress(f"fetching the baseline from {source.describe}")
        # Of this suite, and a run that measured every check judged here (never "new").
        fetched = source.load(gate.config.model.suite, gate.selection.run)
        progress(f"baseline: {fetched.describe} from {source.server.url}")
        baseline: Baseline | None = fetched.baseline
        compared = fetched.page
    else:
        baseline = _read_baseline(gate.config, source)
        compared = str(source)
    with MeasureSession(gate.config, gate.host, progress=progress) as session:
        measurer = SessionMeasurer(session, baseline, compared=compared)
        if measurer.foreign:
            progress(
                f"the baseline was recorded on another machine ({'; '.join(measurer.foreign)}): "
                "timing changes against it are reported, not failed"
            )
        yield measurer


def _read_baseline(config: Config, path: Path) -> Baseline | None:
    if path.exists():
        return load_baseline(path)
    if config.model.baselines.required:
        raise ConfigError(
            f"no baseline at {path}: create it with `perfci baseline update` "
            "(or set baselines.required: false)"
        )
    return None


class FilesMeasurer:
    """``perfci compare``: both sides read from files, nothing measured or re-measured."""

    same_run = False

    def __init__(self, base: Path, head: Path) -> None:
        self.base = load_comparable(base)
        self.head = load_comparable(head)
        self.compared = str(base)
        self.foreign = tuple(timing_differences(self.base.environment, self.head.environment))

    def measure(self, checks: Sequence[str]) -> Sides:  # noqa: ARG002 - files hold what they hold
        return Sides(list(self.head.measurements), self.base.measurements)

    @property
    def partial(self) -> list[Measurement]:
        return list(self.head.measurements)

    def skipped_checks(self, configured: Sequence[str]) -> frozenset[str]:
        """The checks whose rules are excused, exactly as ``perfci run`` excuses them.

        A check the head's run skipped; or one that was skipped or configured
        but produced nothing on either side. A check that ran at the base and
        vanished from the head is not excused: its metrics are missing.
        """
        present = {m.check for m in (*self.base.measurements, *self.head.measurements)}
        unmeasured = set(self.base.skipped_checks) | set(configured)
        return frozenset(set(self.head.skipped_checks) | (unmeasured - present))


def compare_files(
    base: Path,
    head: Path,
    rules: Rules,
    *,
    suite: str,
    configured: Sequence[str] = (),
) -> RunResult:
    """Judge HEAD's measurements against BASE's (results or baseline files)."""
    files = FilesMeasurer(base, head)
    rules = replace(rules, skipped_checks=rules.skipped_checks | files.skipped_checks(configured))
    started = dt.datetime.now(dt.UTC)
    checks = tuple(dict.fromkeys(m.check for m in files.head.measurements))
    judged = judge_and_confirm(files, checks, rules, confirm_timing=False)
    return RunResult(
        suite=suite,
        measurements=judged.measurements,
        judgement=judged.judgement,
        exit_code=int(ExitCode.REGRESSION if judged.judgement.failed else ExitCode.OK),
        started_at=started.isoformat(timespec="seconds"),
        duration_s=0.0,
        commit=files.head.commit,
        branch=files.head.branch,
        environment=files.head.environment,
        baseline_path=str(base),
        checks=checks,
        skipped_checks=tuple(sorted(files.head.skipped_checks)),
    )


def update_baseline(
    config: Config,
    host: PluginHost,
    selection: Selection,
    path: Path,
    *,
    progress: Progress = _quiet,
) -> Baseline:
    """Measure the selected checks and write the baseline at ``path`` atomically.

    The stored measurements of checks not run (``--only``, ``--quick``) are
    kept, with the machine they were timed on (``baseline_machine``). The
    read-merge-write happens under a lock on the baselines directory, so
    concurrent partial updates never lose each other's metrics. A baseline
    built on failed requests (an unexpected status) is refused: ``TargetError``,
    and the old file stays.
    """
    checks = host.checks()
    timing_measured = any(not checks[name].deterministic for name in selection.run)
    if path.exists() and selection.skipped:
        baseline_machine(load_baseline(path), selection.run, timing_measured)  # before measuring
    with MeasureSession(config, host, progress=progress) as session:
        measurements = session.collect(selection.run)
    refuse_failed_baseline(measurements)
    commit, branch = git_info(config.root)
    path.parent.mkdir(parents=True, exist_ok=True)
    with _locked(path.parent):
        kept: list[Measurement] = []
        environment: Mapping[str, str] = machine_info()
        if path.exists() and selection.skipped:
            previous = load_baseline(path)
            kept = [m for m in previous.measurements if m.check not in selection.run]
            environment = baseline_machine(previous, selection.run, timing_measured)
        new = Baseline(
            suite=config.model.suite,
            commit=commit,
            branch=branch,
            environment=environment,
            created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            measurements=tuple(sorted([*kept, *measurements], key=lambda m: m.name)),
        )
        write_baseline(path, new)
    return new


def baseline_machine(
    previous: Baseline, measured_checks: Sequence[str], timing_measured: bool
) -> Mapping[str, str]:
    """The machine a partially updated baseline records: where its timings were taken.

    A baseline has one machine, and the cross-machine rule judges its timing
    metrics by it. When the timings it keeps were taken on another kind of
    machine, it stays that machine's as long as only deterministic checks
    (which no machine moves) are re-measured here; re-measuring some timings
    here and keeping others from there is a ``UsageError``, since one file
    cannot say both.
    """
    here = machine_info()
    kept_timing = sorted(
        {m.check for m in previous.measurements if m.kind is Kind.TIMING} - set(measured_checks)
    )
    differences = timing_differences(previous.environment, here)
    if not kept_timing or not differences:
        return here
    if timing_measured:
        raise UsageError(
            f"baseline update: the stored timings of {', '.join(kept_timing)} were taken on "
            f"another machine ({'; '.join(differences)}); re-measure them too "
            f"({' '.join('--only ' + c for c in kept_timing)}) or update the whole baseline"
        )
    return previous.environment


@contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """An exclusive lock on ``directory`` itself: no lock file left among the baselines."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # closing releases the lock


@dataclass(frozen=True)
class Outputs:
    """Where a finished result goes besides the terminal."""

    json: Path | None = None
    markdown: Path | None = None
    junit: Path | None = None
    html: Path | None = None
    github: bool = False
    history_url: str | None = None
    # Upload the judged run to a perfci server; returns the run's URL, raises PerfciError.
    upload: Callable[[RunResult], str] | None = None
    verbose: bool = False
    color: bool = False
    width: int = 200


def finish(result: RunResult, outputs: Outputs, host: PluginHost, echo: Echo) -> int:
    """History, reports, publishing; then the exit code, decided once, at the end.

    The run is recorded first, since the HTML report draws the runs before
    it. Every reporter runs whatever the verdict. A report file that cannot be
    written is one error line; the terminal report still prints, and a gate
    that passed exits with the usage code (the file the user asked for is
    missing). The history, the upload and the publisher never turn a failing gate
    green; a failed upload is one warning line and changes nothing else.
    """
    exit_code = result.exit_code
    # A run that could not be judged is not history.
    history_url = outputs.history_url if result.error is None else None
    earlier, warnings = record(result, history_url, earlier=REPORT_RUNS - 1 if outputs.html else 0)
    generated = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    reports: list[tuple[Path | None, Callable[[], str]]] = [
        (outputs.json, lambda: render_json(result)),
        (outputs.markdown, lambda: render_markdown(result)),
        (outputs.junit, lambda: render_junit(result)),
        (outputs.html, lambda: render_html([*earlier, result], generated_at=generated)),
    ]
    for path, render in reports:
        if path is None:
            continue
        try:
            write_report(path, render())
        except PerfciError as error:
            echo(f"perfci: {error}", True)
            exit_code = exit_code or int(error.exit_code)
    if result.error is None:
        # With a report on stdout (``--json -``), the terminal report goes to stderr.
        to_stderr = any(str(p) == "-" for p in (outputs.json, outputs.markdown, outputs.junit))
        # The summary line says the exit code perfci is about to return (a report error included).
        shown = replace(result, exit_code=exit_code)
        echo(
            render_terminal(
                shown, color=outputs.color, width=outputs.width, verbose=outputs.verbose
            ),
            to_stderr,
        )
        host.run_finished(result)
    page: str | None = None  # the run's page on the perfci server, once uploaded
    if outputs.upload is not None and result.error is None:
        try:
            page = outputs.upload(result)
            echo(f"perfci: uploaded to {page}", True)
        except PerfciError as error:
            warnings.append(f"upload: {error}")  # one line; the verdict and exit code stand
    for warning in warnings:
        echo(f"perfci: warning: {warning}", True)  # the verdict stands
    if outputs.github:
        try:
            publish(
                result,
                read_environment(os.environ),
                out=lambda line: echo(line, False),
                err=lambda line: echo(line, True),
                details_url=page,
            )
        except PublishError as error:
            # A failing gate stays failing; a passing one fails with the publish code.
            echo(f"perfci: {error}", True)
            exit_code = exit_code or int(ExitCode.PUBLISH)
    if result.error is not None:
        echo(f"perfci: {result.error}", True)
    return exit_code
