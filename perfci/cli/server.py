"""``perfci server``: serve the API under gunicorn, create the schema, manage projects."""

from __future__ import annotations

import os
import socket
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

import click

from perfci.cli.options import CONTEXT_SETTINGS
from perfci.errors import TargetError, UsageError
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


@dataclass(frozen=True)
class Bind:
    """A gunicorn ``--bind`` address: ``HOST:PORT``, ``[IPv6]:PORT`` or ``unix:PATH``."""

    text: str
    host: str = ""
    port: int = 0
    path: Path | None = None

    def check(self) -> None:
        """``TargetError`` (exit 3) unless gunicorn will be able to bind the address: one
        line instead of gunicorn's retries ("Connection in use" five times) or traceback."""
        if self.path is not None:
            if not self.path.parent.is_dir():
                raise TargetError(f"--bind {self.text}: no directory {self.path.parent}")
            if self.path.exists() and not stat.S_ISSOCK(self.path.stat().st_mode):
                raise TargetError(f"--bind {self.text}: {self.path} exists and is not a socket")
            return
        try:
            found = socket.getaddrinfo(self.host, self.port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as error:
            raise TargetError(
                f"--bind {self.text}: cannot resolve {self.host!r} ({error})"
            ) from None
        family, kind, proto, _, address = found[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn does
            try:
                probe.bind(address)
            except OSError as error:
                raise TargetError(
                    f"--bind {self.text}: cannot bind ({error.strerror or error})"
                ) from None


def parse_bind(_ctx: click.Context, _param: click.Parameter, value: str) -> Bind:
    """``--bind``: one line (exit 2) for anything gunicorn would not take as given."""
    text = str(value)
    if text.startswith("unix:"):
        if not text[5:]:
            raise click.BadParameter(f"{text!r} has no socket path")
        return Bind(text, path=Path(text[5:]))
    host, colon, port = text.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
        if not host or ":" not in host:
            raise click.BadParameter(f"{text!r}: not an IPv6 address in brackets")
    elif ":" in host:
        raise click.BadParameter(f"{text!r}: write an IPv6 address in brackets, [::1]:8400")
    if not colon or not host or not (port.isascii() and port.isdigit()):
        raise click.BadParameter(f"{text!r} is not HOST:PORT, [IPv6]:PORT or unix:PATH")
    if not 1 <= int(port) <= 65535:
        raise click.BadParameter(f"{text!r}: the port is not from 1 to 65535")
    return Bind(text, host=host, port=int(port))


def _store(db_url: str | None) -> HistoryStore:
    group = click.get_current_context().find_root().meta.get("perfci_server_db")
    return HistoryStore(database_url(db_url or group))


@click.group("server", context_settings=CONTEXT_SETTINGS, invoke_without_command=True)
@db_option
@click.option(
    "--bind",
    callback=parse_bind,
    metavar="HOST:PORT",
    default="127.0.0.1:8400",
    show_default=True,
    help="HOST:PORT, [IPv6]:PORT or unix:PATH.",
)
@click.option("--workers", type=click.IntRange(1, 64), default=2, show_default=True)
@click.pass_context
def server(ctx: click.Context, db_url: str | None, bind: Bind, workers: int) -> int:
    """Serve the perfci server (gunicorn) on the store; see the subcommands to set it up.

    Exits 2 on a bad --bind or store URL, 3 when the address cannot be bound
    (in use, not allowed), else with gunicorn's code.

    \b
    Examples:
      perfci server init --db postgresql+psycopg://perfci@db/perfci
      perfci server project create api --private     prints the write token once
      perfci server --db postgresql+psycopg://perfci@db/perfci --workers 4
    """
    ctx.find_root().meta["perfci_server_db"] = db_url
    if ctx.invoked_subcommand is not None:
        return 0
    bind.check()
    url = database_url(db_url)
    with HistoryStore(url) as store:  # create or migrate once, before the workers start
        display = store.display
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "perfci.server:create_app()",
        "--bind",
        bind.text,
        "--workers",
        str(workers),
        "--access-logfile",
        "-",
    ]
    where = bind.text if bind.path is not None else f"http://{bind.text}"
    click.echo(f"perfci: serving {display} on {where}", err=True)
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
    """List, add and revoke a project's tokens (write, or read-only)."""


@token.command("list", context_settings=CONTEXT_SETTINGS)
@click.argument("name")
@db_option
def token_list(name: str, db_url: str | None) -> int:
    """The project's tokens: id, creation date, valid or revoked, write or read-only
    (never the token)."""
    with _store(db_url) as store:
        for info in store.tokens(name):
            state = "valid" if info.revoked_at is None else f"revoked {info.revoked_at:%Y-%m-%d}"
            scope = "read-only" if info.read_only else "write"
            created = info.created_at.isoformat(timespec="seconds")
            click.echo(f"{info.id}  {created}  {state}  {scope}")
    return 0


@token.command("add", context_settings=CONTEXT_SETTINGS)
@click.argument("name")
@db_option
@click.option(
    "--read-only",
    is_flag=True,
    help="A token that reads a private project (its pages, the API) and never writes.",
)
def token_add(name: str, db_url: str | None, read_only: bool) -> int:
    """Add a token to the project and print it (shown this once): a write token, or with
    --read-only one that only reads."""
    value = new_token()
    with _store(db_url) as store:
        info = store.add_token(name, digest(value), read_only=read_only)
    scope = "read-only token" if read_only else "write token"
    click.echo(f"perfci: {scope} {info.id} of {name} (shown once):", err=True)
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
