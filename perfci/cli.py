"""The ``perfci`` command line. The only module that prints."""

from __future__ import annotations

import datetime as dt
import shutil
import signal
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn

import click

from perfci import __version__
from perfci.abtest import against_ref
from perfci.baseline import baseline_path, load_baseline
from perfci.config.load import find_config, read_config
from perfci.config.model import Config
from perfci.errors import ConfigError, ExitCode, PerfciError
from perfci.gate import (
    Gate,
    Measurer,
    Outputs,
    compare_files,
    finish,
    run_gate,
    stored_baseline,
    update_baseline,
)
from perfci.github.command import github
from perfci.history.cli import configured_url, history
from perfci.html.cli import report
from perfci.measurement import Measurement
from perfci.noise import noise_rows, render_noise
from perfci.plugin.manager import PluginHost
from perfci.project import load_project
from perfci.runner import MeasureSession, build_rules, check_budgets, select_checks
from perfci.verdict.model import Rules

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class Interrupted(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so every ``finally`` (server stop) runs."""


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise Interrupted()


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """Entry point: one line per user error, the documented exit code, no traceback."""
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        code = cli.main(
            args=list(argv) if argv is not None else None, prog_name="perfci", standalone_mode=False
        )
    except PerfciError as error:
        click.echo(f"perfci: {error}", err=True)
        sys.exit(int(error.exit_code))
    except (click.exceptions.Abort, KeyboardInterrupt) as stop:
        # click turns Ctrl-C into Abort; our SIGTERM handler raises Interrupted under it.
        terminated = isinstance(stop, Interrupted) or isinstance(stop.__context__, Interrupted)
        cause = "terminated (SIGTERM)" if terminated else "interrupted"
        click.echo(f"perfci: {cause}; the target server and workers were stopped", err=True)
        sys.exit(143 if terminated else 130)
    except click.ClickException as error:
        error.show()
        sys.exit(ExitCode.USAGE)
    sys.exit(code if isinstance(code, int) else 0)


@click.group(context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, "--version", prog_name="perfci")
def cli() -> None:
    """perfci: fail the build when a Flask + SQLAlchemy service gets slower.

    perfci reads perfci.yaml, runs check plugins against the target app
    (queries per request, N+1 shapes, query plans, pool settings, cache hits,
    payload bytes, latency, load), compares each measurement with the stored
    baseline and fails when one is more than 10% worse.

    \b
    Typical use:
      perfci run                      gate this commit against baselines/
      perfci run --quick              deterministic checks only (seconds)
      perfci baseline update          measure and store a new baseline
      perfci compare base.json head.json

    \b
    Exit codes: 0 pass, 1 regression or budget violation, 2 usage or
    configuration error, 3 target failed to start or a check crashed,
    4 publishing results failed, 130/143 interrupted.
    """


def _config_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False, path_type=Path),
        help="perfci.yaml to use (default: found in the current directory or above).",
    )(func)


def _report_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--json, --markdown and --junit: the report files every judging command can write."""
    for option in reversed(
        [
            ("--json", "json_path", "Write the results (measurements and verdicts) as JSON."),
            (
                "--markdown",
                "markdown_path",
                "Write a Markdown report (PR comments, job summaries).",
            ),
            ("--junit", "junit_path", "Write JUnit XML: one testcase per verdict."),
        ]
    ):
        flag, name, text = option
        func = click.option(flag, name, type=click.Path(dir_okay=False, path_type=Path), help=text)(
            func
        )
    return func


def _progress() -> Callable[[str], None]:
    started = time.monotonic()

    def report(message: str) -> None:
        click.echo(f"perfci [{time.monotonic() - started:6.1f}s] {message}", err=True)

    return report


def _baselines_dir(config: Config, override: Path | None) -> Path:
    return override if override is not None else config.resolve(config.model.baselines.directory)


@cli.command(context_settings=CONTEXT_SETTINGS)
@click.option(
    "-v", "--verbose", is_flag=True, help="List passing verdicts too, not only their count."
)
@_config_option
@click.option(
    "--baselines",
    "baselines_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory of baseline files (default: baselines.directory in perfci.yaml).",
)
@click.option("--only", multiple=True, metavar="CHECK", help="Run only this check (repeatable).")
@click.option(
    "--quick", is_flag=True, help="Run only the deterministic checks: no timing, no load."
)
@_report_options
@click.option(
    "--html",
    "html_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the self-contained HTML report (verdicts, evidence, trend charts).",
)
@click.option(
    "--github",
    "to_github",
    is_flag=True,
    help="Publish to GitHub at the end (status, PR comment, summary, annotations); "
    "see `perfci github publish`.",
)
@click.option(
    "--against",
    metavar="REF",
    help="Gate against REF (branch, tag, commit or 'merge-base') measured in this same run, "
    "interleaved with the working tree, instead of the stored baseline.",
)
@click.option(
    "--rounds",
    type=click.IntRange(1, 50),
    help="With --against: interleaved rounds of the timing checks (default: timing.rounds, 3).",
)
def run(
    verbose: bool,
    config_path: Path | None,
    baselines_dir: Path | None,
    only: tuple[str, ...],
    quick: bool,
    json_path: Path | None,
    markdown_path: Path | None,
    junit_path: Path | None,
    html_path: Path | None,
    to_github: bool,
    against: str | None,
    rounds: int | None,
) -> int:
    """Measure the target and gate it against the stored baseline (or a git ref).

    Deterministic metrics (statements, plans, pool settings, cache hits,
    bytes) are compared exactly; timing metrics need both the effect size
    and statistical significance, and are reported as "too noisy to judge"
    when the machine's noise hides a change of the threshold's size.

    \b
    Examples:
      perfci run --only n_plus_one --only indexes --junit perfci.xml
      perfci run --against merge-base      # base and head interleaved, no baseline file
      perfci run --against origin/main --rounds 5 --markdown report.md
    """
    config, host = load_project(config_path)
    selection = select_checks(config, host.checks(), only=only, quick=quick)
    rules = build_rules(
        config,
        today=dt.date.today(),
        skipped=selection.skipped,
        extra_budgets=check_budgets(config, host.checks(), selection),
    )
    gate = Gate(config, host, selection, rules)
    progress = _progress()
    started_at = dt.datetime.now(dt.UTC)
    measurer: AbstractContextManager[Measurer]
    if against is not None:
        checks = host.checks()
        measurer = against_ref(
            config,
            [name for name in selection.run if checks[name].deterministic],
            against,
            rounds=rounds,
            progress=progress,
            relay=lambda line: click.echo(f"perfci {line}", err=True),
        )
    else:
        path = baseline_path(_baselines_dir(config, baselines_dir), config.model.suite)
        measurer = stored_baseline(gate, path, progress=progress)
    with measurer as source:
        result = run_gate(gate, source, started_at=started_at, progress=progress)
    return finish(
        result,
        _outputs(
            json_path,
            markdown_path,
            junit_path,
            html_path=html_path,
            github=to_github,
            history_url=configured_url(config.model, config.path.resolve().parent),
            verbose=verbose,
        ),
        host,
        _echo,
    )


def _outputs(
    json_path: Path | None,
    markdown_path: Path | None,
    junit_path: Path | None,
    *,
    html_path: Path | None = None,
    github: bool = False,
    history_url: str | None = None,
    verbose: bool = False,
) -> Outputs:
    color = sys.stdout.isatty()
    return Outputs(
        json=json_path,
        markdown=markdown_path,
        junit=junit_path,
        html=html_path,
        github=github,
        history_url=history_url,
        verbose=verbose,
        color=color,
        width=_width(color),
    )


def _echo(text: str, err: bool) -> None:
    click.echo(text, err=err)


def _width(tty: bool) -> int:
    """The terminal's width; a log file (CI) gets room enough that metric names never wrap."""
    if not tty:
        return 200
    return max(80, min(200, shutil.get_terminal_size((120, 24)).columns))


@cli.command(context_settings=CONTEXT_SETTINGS)
@click.argument("base", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("head", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_config_option
@_report_options
@click.option(
    "-v", "--verbose", is_flag=True, help="List passing verdicts too, not only their count."
)
def compare(
    verbose: bool,
    base: Path,
    head: Path,
    config_path: Path | None,
    json_path: Path | None,
    markdown_path: Path | None,
    junit_path: Path | None,
) -> int:
    """Judge HEAD against BASE: two results files (`perfci run --json`) or baselines.

    Thresholds, budgets and acknowledgements come from perfci.yaml when one is
    found; otherwise the default 10% threshold applies.
    """
    try:
        path = config_path or find_config()
    except ConfigError:
        path = None
    if path is not None:
        model, source = read_config(path)
        config = Config(model=model, path=path.resolve(), check_options={}, lines=source.lines)
        rules = build_rules(config, today=dt.date.today())
        suite, configured = model.suite, tuple(model.checks)
    else:
        rules, suite, configured = Rules(today=dt.date.today()), "compare", ()
    result = compare_files(base, head, rules, suite=suite, configured=configured)
    outputs = _outputs(json_path, markdown_path, junit_path, verbose=verbose)
    return finish(result, outputs, PluginHost(), _echo)


@cli.command(context_settings=CONTEXT_SETTINGS)
@_config_option
@click.option(
    "--repeat",
    type=click.IntRange(2, 100),
    default=5,
    show_default=True,
    help="How many times to run the timing checks.",
)
@click.option(
    "--only", multiple=True, metavar="CHECK", help="Measure only this check (repeatable)."
)
def noise(config_path: Path | None, repeat: int, only: tuple[str, ...]) -> int:
    """Measure how much the timing metrics move between identical runs.

    Runs the timing checks REPEAT times on one built target and prints, per
    metric, the coefficient of variation and the smallest change a gate can
    detect at that noise. A metric whose detectable change is above its
    threshold is reported "too noisy to judge" by `perfci run` unless its
    threshold rule says strict: true. Exit 0 whatever the noise.
    """
    config, host = load_project(config_path)
    checks = host.checks()
    selection = select_checks(config, checks, only=only)
    timing = [name for name in selection.run if not checks[name].deterministic]
    if not timing:
        raise ConfigError("perfci noise: no timing check selected (latency, load, ...)")
    rules = build_rules(config, today=dt.date.today(), skipped=selection.skipped)
    progress = _progress()
    repeats: list[list[Measurement]] = []
    with MeasureSession(config, host, progress=progress) as session:
        for index in range(repeat):
            progress(f"repeat {index + 1}/{repeat}")
            repeats.append(session.collect(timing))
    click.echo(render_noise(noise_rows(repeats, rules), repeat), nl=False)
    return 0


@cli.group(context_settings=CONTEXT_SETTINGS)
def baseline() -> None:
    """Create or inspect the stored baseline (baselines/<suite>.json)."""


@baseline.command("update", context_settings=CONTEXT_SETTINGS)
@_config_option
@click.option("--baselines", "baselines_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--only",
    multiple=True,
    metavar="CHECK",
    help="Measure only this check; the others keep their stored values.",
)
@click.option("--quick", is_flag=True, help="Measure only the deterministic checks.")
def baseline_update(
    config_path: Path | None, baselines_dir: Path | None, only: tuple[str, ...], quick: bool
) -> int:
    """Measure the target and write its baseline atomically.

    With --only or --quick the stored measurements of the checks not run are
    kept, so a partial update never drops metrics.
    """
    config, host = load_project(config_path)
    path = baseline_path(_baselines_dir(config, baselines_dir), config.model.suite)
    selection = select_checks(config, host.checks(), only=only, quick=quick)
    new = update_baseline(config, host, selection, path, progress=_progress())
    click.echo(f"perfci: wrote {len(new.measurements)} measurements to {path}")
    return 0


@baseline.command("show", context_settings=CONTEXT_SETTINGS)
@_config_option
@click.option("--baselines", "baselines_dir", type=click.Path(file_okay=False, path_type=Path))
def baseline_show(config_path: Path | None, baselines_dir: Path | None) -> int:
    """Print the stored baseline: commit, environment and every measurement."""
    path = config_path or find_config()
    model, source = read_config(path)
    config = Config(model=model, path=path.resolve(), check_options={}, lines=source.lines)
    stored = load_baseline(baseline_path(_baselines_dir(config, baselines_dir), model.suite))
    click.echo(f"suite {stored.suite}  commit {stored.commit or '?'}  created {stored.created_at}")
    click.echo(
        "environment " + ", ".join(f"{k}={v}" for k, v in sorted(stored.environment.items()))
    )
    for m in stored.measurements:
        click.echo(
            f"  {m.name}  {m.value} {m.unit}  ({m.kind.value}, {m.direction.value} is better)"
        )
    return 0


@cli.command(context_settings=CONTEXT_SETTINGS)
@_config_option
def plugins(config_path: Path | None) -> int:
    """List every registered plugin with its source, version and checks."""
    try:
        path = config_path or find_config()
    except ConfigError:
        path = None
    host = PluginHost()
    if path is not None:
        model, _ = read_config(path)
        root = path.resolve().parent
        host.load(
            local_paths=[root / p for p in model.plugins.paths], disabled=model.plugins.disable
        )
    else:
        host.load()
    for info in host.plugins():
        checks = ", ".join(info.checks) or "-"
        line = f"{info.name:<20} {info.source:<12} {info.version:<10} checks: {checks}"
        click.echo(f"{line}  ({info.location})")
    return 0


cli.add_command(github)
cli.add_command(history)
cli.add_command(report)
