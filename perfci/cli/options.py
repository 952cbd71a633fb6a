"""What the commands share: option decorators, progress lines, report outputs."""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from perfci.config.model import Config
from perfci.gate import Outputs
from perfci.plugin.manager import PluginHost
from perfci.project import load_project
from perfci.result import RunResult
from perfci.safetext import for_terminal

CONTEXT_SETTINGS: dict[str, Any] = {
    "help_option_names": ["-h", "--help"],
    "max_content_width": 100,
}

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def config_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--config PATH``: perfci.yaml to use."""
    return click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False, path_type=Path),
        help="perfci.yaml to use (default: found in the current directory or above).",
    )(func)


def baselines_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--baselines DIR``: where baseline files live."""
    return click.option(
        "--baselines",
        "baselines_dir",
        type=click.Path(file_okay=False, path_type=Path),
        help="Directory of baseline files (default: baselines.directory in perfci.yaml).",
    )(func)


def verbose_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """``-v/--verbose``: list passing verdicts too."""
    return click.option(
        "-v", "--verbose", is_flag=True, help="List passing verdicts too, not only their count."
    )(func)


def report_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--json, --markdown and --junit: the report files every judging command can write."""
    for flag, name, text in reversed(
        [
            ("--json", "json_path", "Write the results (measurements and verdicts) as JSON."),
            ("--markdown", "markdown_path", "Write a Markdown report (PR comments, summaries)."),
            ("--junit", "junit_path", "Write JUnit XML: one testcase per verdict."),
        ]
    ):
        func = click.option(flag, name, type=click.Path(dir_okay=False, path_type=Path), help=text)(
            func
        )
    return func


def progress() -> Callable[[str], None]:
    """Progress lines on stderr, each with the seconds since this call."""
    started = time.monotonic()

    def report(message: str) -> None:
        # Progress names tables, endpoints and worker output: untrusted text.
        click.echo(f"perfci [{time.monotonic() - started:6.1f}s] {for_terminal(message)}", err=True)

    return report


def echo(text: str, err: bool) -> None:
    """The gate pipeline's output callback (its text is already made safe for a terminal)."""
    click.echo(text, err=err)


def outputs(
    json_path: Path | None,
    markdown_path: Path | None,
    junit_path: Path | None,
    *,
    html_path: Path | None = None,
    github: bool = False,
    history_url: str | None = None,
    upload: Callable[[RunResult], str] | None = None,
    verbose: bool = False,
) -> Outputs:
    """Where the result goes, with colour and width for this terminal (or a CI log)."""
    color = sys.stdout.isatty()
    return Outputs(
        json=json_path,
        markdown=markdown_path,
        junit=junit_path,
        html=html_path,
        github=github,
        history_url=history_url,
        upload=upload,
        verbose=verbose,
        color=color,
        width=terminal_width(color),
    )


def terminal_width(tty: bool) -> int:
    """The terminal's width; a log file (CI) gets room enough that metric names never wrap."""
    if not tty:
        return 200
    return max(80, min(200, shutil.get_terminal_size((120, 24)).columns))


def baselines_dir(config: Config, override: Path | None) -> Path:
    """``--baselines`` or perfci.yaml's ``baselines.directory``."""
    return override if override is not None else config.resolve(config.model.baselines.directory)


def open_project(config_path: Path | None) -> tuple[Config, PluginHost]:
    """perfci.yaml with its plugins (``load_project``); its warnings go to stderr, a line each."""
    config, host = load_project(config_path)
    for warning in config.warnings:
        click.echo(f"perfci: warning: {for_terminal(warning)}", err=True)
    return config, host
