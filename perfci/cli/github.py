"""``perfci github publish`` and the ``--github`` step of ``perfci run``."""

from __future__ import annotations

import os
from pathlib import Path

import click

from perfci.cli.options import CONTEXT_SETTINGS
from perfci.errors import ConfigError, ExitCode
from perfci.github.environment import read_environment
from perfci.github.publish import Parts, publish, publish_error
from perfci.github.results import load_result


@click.group(context_settings=CONTEXT_SETTINGS)
def github() -> None:
    """Publish results to GitHub: commit status, PR comment, job summary, annotations."""


@github.command("publish", context_settings=CONTEXT_SETTINGS)
@click.option(
    "--results",
    "results_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The results file written by `perfci run --json`.",
)
@click.option(
    "--error",
    "error_message",
    metavar="TEXT",
    help="No results (perfci crashed or was cancelled): set an 'error' status saying TEXT.",
)
@click.option(
    "--pr-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help='JSON from the PR workflow\'s artifact: {"number": N, "head_sha": "..."}.',
)
@click.option("--pr", "pull_request", type=int, help="Pull request to comment on.")
@click.option("--sha", help="Commit to set the status on (default: from the event).")
@click.option("--status/--no-status", default=True, help="Set the commit status 'perfci'.")
@click.option("--comment/--no-comment", default=True, help="Create or update the PR comment.")
@click.option("--summary/--no-summary", default=True, help="Append to the job summary.")
@click.option(
    "--annotations/--no-annotations", default=True, help="Print ::error/::warning commands."
)
@click.option(
    "--details-url",
    help="The run's page on a perfci server (what `perfci upload` printed): the status "
    "links there instead of the workflow run, and the comment links it.",
)
def publish_command(
    results_path: Path | None,
    error_message: str | None,
    pr_file: Path | None,
    pull_request: int | None,
    sha: str | None,
    status: bool,
    comment: bool,
    summary: bool,
    annotations: bool,
    details_url: str | None,
) -> int:
    """Publish a results file to GitHub, driven by the Actions environment.

    Reads GITHUB_API_URL, GITHUB_REPOSITORY, GITHUB_SHA or the event's PR head
    (GITHUB_EVENT_PATH), GITHUB_TOKEN, GITHUB_STEP_SUMMARY, GITHUB_SERVER_URL
    and GITHUB_RUN_ID. Exits 0 when everything was published, whatever the
    verdict (the gate's own step carries it), and 4 when publishing failed.

    \b
    In the read-only PR workflow (no token needed):
      perfci github publish --results out/results.json --no-status --no-comment
    In the workflow_run publisher:
      perfci github publish --results in/results.json --pr-file in/pr.json
    """
    if results_path is not None and error_message is not None:
        raise ConfigError("pass --results FILE or --error TEXT, not both")
    environment = read_environment(os.environ, sha=sha, pull_request=pull_request, pr_file=pr_file)

    def err(line: str) -> None:
        click.echo(line, err=True)

    if error_message is not None:
        publish_error(error_message, environment, err=err)
        click.echo(f"perfci: published an error status for {environment.sha}", err=True)
        return int(ExitCode.OK)
    if results_path is None:
        raise ConfigError("pass --results FILE (or --error TEXT when there are no results)")
    if not results_path.is_file():
        raise ConfigError(f"no such results file: {results_path}")
    result = load_result(results_path)
    parts = Parts(status=status, comment=comment, summary=summary, annotations=annotations)
    if details_url is not None and not details_url.lower().startswith(("https://", "http://")):
        raise ConfigError(f"--details-url: expected an http(s) address, got {details_url!r}")
    publish(result, environment, parts=parts, out=click.echo, err=err, details_url=details_url)
    return int(ExitCode.OK)
