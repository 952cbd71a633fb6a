"""``perfci server``: serve the API under gunicorn, create the schema, manage projects."""

from __future__ import annotations

import os
import sys

import click

from perfci.cli.options import CONTEXT_SETTINGS
from perfci.errors import UsageError
from perfci.history.store import HistoryStore
from perfci.process import start_process_group, stop_process_group
from perfci.server import DB_ENV, database_url
from perfci.server.tokens import digest, new_token


def db_option(func: click.decorators.FC) -> click.decorators.FC:
    return click.option(
        "--db",
        "db_url",
        metavar="URL",
        help=f"SQLAlchemy URL of the store (default: ${DB_ENV}, else sqlite perfci-server.db).",
    )(func)


def _store(db_url: str | None) -> HistoryStore:
    group = click.get_current_context().find_root().meta.get("perfci_server_db")
    return HistoryStore(database_url(db_url or group))


@click.group("server", context_settings=CONTEXT_SETTINGS, invoke_without_command=True)
@db_option
@click.option("--bind", default="127.0.0.1:8400", show_default=True, metavar="HOST:PORT")
@click.option("--workers", type=click.IntRange(1, 64), default=2, show_default=True)
@click.pass_context
def server(ctx: click.Context, db_url: str | None, bind: str, workers: int) -> int:
    """Serve the perfci server (gunicorn) on the store; see the subcommands to set it up.

    \b
    Examples:
      perfci server init --db postgresql+psycopg://perfci@db/perfci
      perfci server project create api --private     prints the write token once
      perfci server --db postgresql+psycopg://perfci@db/perfci --workers 4
    """
    ctx.find_root().meta["perfci_server_db"] = db_url
    if ctx.invoked_subcommand is not None:
        return 0
    url = database_url(db_url)
    with HistoryStore(url) as store:  # create or migrate once, before the workers start
        display = store.display
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "perfci.server:create_app()",
        "--bind",
        bind,
        "--workers",
        str(workers),
        "--access-logfile",
        "-",
    ]
    click.echo(f"perfci: serving {display} on http://{bind}", err=True)
    process = start_process_group(command, env={**os.environ, DB_ENV: url})
    try:
        return process.wait()
    finally:
        stop_process_group(process)


@server.command("init", context_settings=CONTEXT_SETTINGS)
@db_option
def init(db_url: str | None) -> int:
    """Create the store's schema (or migrate it to this perfci's)."""
    with _store(db_url) as store:
        click.echo(f"perfci: {store.display} is ready")
    return 0


@server.group("project", context_settings=CONTEXT_SETTINGS)
def project() -> None:
    """Create projects and manage their write tokens."""


@project.command("create", context_settings=CONTEXT_SETTINGS)
@click.argument("name")
@db_option
@click.option(
    "--public/--private",
    default=False,
    show_default=True,
    help="Whether anyone may read its runs (writes always need its token).",
)
@click.option("--default-branch", default="main", show_default=True)
def create(name: str, db_url: str | None, public: bool, default_branch: str) -> int:
    """Create a project and print its write token (shown this once, stored as a hash)."""
    if not name or len(name) > 100 or not all(c.isalnum() or c in "-_." for c in name):
        raise UsageError(f"project name {name!r}: letters, digits, '-', '_' and '.' (at most 100)")
    token = new_token()
    with _store(db_url) as store:
        store.create_project(name, digest(token), public=public, default_branch=default_branch)
    click.echo(f"perfci: created project {name} ({'public' if public else 'private'})", err=True)
    click.echo(
        "perfci: its write token (shown once; keep it as the PERFCI_TOKEN secret):", err=True
    )
    click.echo(token)
    return 0


@project.group("token", context_settings=CONTEXT_SETTINGS)
def token() -> None:
    """List, add and revoke a project's write tokens."""


@token.command("list", context_settings=CONTEXT_SETTINGS)
@click.argument("name")
@db_option
def token_list(name: str, db_url: str | None) -> int:
    """The project's tokens: id, creation date, revoked or not (never the token)."""
    with _store(db_url) as store:
        for info in store.tokens(name):
            state = "valid" if info.revoked_at is None else f"revoked {info.revoked_at:%Y-%m-%d}"
            click.echo(f"{info.id}  {info.created_at.isoformat(timespec='seconds')}  {state}")
    return 0


@token.command("add", context_settings=CONTEXT_SETTINGS)
@click.argument("name")
@db_option
def token_add(name: str, db_url: str | None) -> int:
    """Add a write token to the project and print it (shown this once)."""
    value = new_token()
    with _store(db_url) as store:
        info = store.add_token(name, digest(value))
    click.echo(f"perfci: token {info.id} of {name} (shown once):", err=True)
    click.echo(value)
    return 0


@token.command("revoke", context_settings=CONTEXT_SETTINGS)
@click.argument("name")
@click.argument("token_id", type=click.IntRange(min=1), metavar="ID")
@db_option
def token_revoke(name: str, token_id: int, db_url: str | None) -> int:
    """Revoke token ID of the project: uploads and reads with it are refused from now on."""
    with _store(db_url) as store:
        if not store.revoke_token(name, token_id):
            raise UsageError(f"project {name} has no valid token {token_id}")
    click.echo(f"perfci: revoked token {token_id} of {name}")
    return 0
