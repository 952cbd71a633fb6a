"""``perfci upload``: send a results file (``perfci run --json``) to a perfci server."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import click

from perfci.baseline import load_comparable
from perfci.cli.options import CONTEXT_SETTINGS, config_option
from perfci.config.model import Config
from perfci.errors import ConfigError
from perfci.files import read_json
from perfci.project import read_project
from perfci.remote import RemoteBaseline, Server, ServerError, server_from, upload, upload_facts
from perfci.result import RunResult


def configured_server(
    config: Config | None, url: str | None = None, project: str | None = None
) -> Server | None:
    """The server of ``--server-url``/``--project``, else perfci.yaml's ``server`` section,
    else ``$PERFCI_SERVER_URL``/``$PERFCI_PROJECT``; the token comes from ``server.token``
    or ``$PERFCI_TOKEN``, never from the command line."""
    section = config.model.server if config is not None else None
    return server_from(
        url or (section.url if section else None) or os.environ.get("PERFCI_SERVER_URL"),
        project or (section.project if section else None) or os.environ.get("PERFCI_PROJECT"),
        section.token if section else None,
    )


def remote_baseline(config: Config) -> RemoteBaseline:
    """``baselines.from: server``: the server and branch; ConfigError when one is missing."""
    server = configured_server(config)
    if server is None:
        # Point at what asks for the server, or at the setting that came out empty.
        if config.written("server"):
            url = config.model.server.url or os.environ.get("PERFCI_SERVER_URL")
            where = config.where("server", "project" if url else "url")
        elif config.written("baselines", "from"):
            where = config.where("baselines", "from")
        else:  # --baseline-from server, and no server anywhere
            where = config.path.name
        raise ConfigError(
            "baselines from the server need server.url and server.project in perfci.yaml "
            "(or $PERFCI_SERVER_URL and $PERFCI_PROJECT)",
            where=where,
        )
    return RemoteBaseline(server, config.model.baselines.branch)


def run_uploader(config: Config) -> Callable[[RunResult], str]:
    """``perfci run --upload``: uploads to the configured server; a ServerError if there is none."""
    server = configured_server(config)

    def send(result: RunResult) -> str:
        if server is None:
            raise ServerError("no server configured (server.url and server.project)")
        facts = upload_facts(result, config.root, os.environ)
        return upload(server, result, facts)

    return send


@click.command("upload", context_settings=CONTEXT_SETTINGS)
@click.argument("results", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@config_option
@click.option("--server-url", metavar="URL", help="The server (default: server.url).")
@click.option("--project", metavar="NAME", help="The project (default: server.project).")
@click.option("--branch", help="Branch of the run (default: GitHub Actions', else the results').")
@click.option("--commit", help="Commit of the run (default: GitHub Actions', else the results').")
@click.option("--pr", type=click.IntRange(min=1), help="Pull request number.")
@click.option("--ci-url", metavar="URL", help="The CI run's page (default: GitHub Actions').")
def upload_command(
    results: Path,
    config_path: Path | None,
    server_url: str | None,
    project: str | None,
    branch: str | None,
    commit: str | None,
    pr: int | None,
    ci_url: str | None,
) -> int:
    """Upload a results file written by `perfci run --json` to a perfci server.

    The token is read from server.token in perfci.yaml or $PERFCI_TOKEN. A
    server that cannot be reached or refuses the upload is one warning line;
    the exit code stays 0, so an upload never fails a build.

    \b
    Example:
      PERFCI_TOKEN=pci_... perfci upload results.json \\
          --server-url https://perfci.example.com --project api
    """
    config = read_project(config_path, required=False) if (not server_url or not project) else None
    server = configured_server(config, server_url, project)
    if server is None:
        raise ConfigError("no server: give --server-url and --project, or a server section")
    data = read_json(results)  # unreadable, not JSON: exit 2, nothing sent
    if data.get("error"):
        # A run that could not be judged has nothing to keep; in CI that is no reason to fail.
        click.echo(f"perfci: warning: upload: {results}: the run could not be judged", err=True)
        return 0
    load_comparable(results)  # a broken file is an error here (exit 2), not on the server
    try:
        result = RunResult.from_dict(data)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise ConfigError(f"not a valid results file: {error}", where=str(results)) from None
    root = config.root if config is not None else Path.cwd()
    facts = upload_facts(
        result, root, os.environ, commit=commit, branch=branch, pr=pr, ci_url=ci_url
    )
    try:
        url = upload(server, result, facts)
    except ServerError as error:
        click.echo(f"perfci: warning: upload: {error}", err=True)
        return 0
    click.echo(f"perfci: uploaded to {url}")
    return 0
