"""``perfci init``: write a starter perfci.yaml and seed module for the app in this directory."""

from __future__ import annotations

import os
from pathlib import Path

import click

from perfci.cli.options import CONTEXT_SETTINGS
from perfci.init import plan_init, refuse_existing, write_init
from perfci.safetext import for_terminal


@click.command(context_settings=CONTEXT_SETTINGS)
@click.option(
    "--app",
    "app_spec",
    metavar="MODULE:NAME",
    help="The app or factory (default: found like `flask run`: FLASK_APP, wsgi.py, app.py).",
)
@click.option("--force", is_flag=True, help="Replace an existing perfci.yaml.")
@click.option(
    "--directory",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=Path("."),
    show_default=True,
    help="The app's project directory.",
)
def init(app_spec: str | None, force: bool, directory: Path) -> int:
    """Write perfci.yaml and perfci_seed.py for the Flask app in this directory.

    Finds the app or factory, builds it on a scratch SQLite database, seeds
    it with a generated seed module over its models, lists the GET routes
    that answer 2xx (route arguments filled from the seeded rows; routes
    needing a login are listed commented out), and adds .perfci/ to
    .gitignore. An existing perfci.yaml is never replaced without --force
    (exit 2); an existing perfci_seed.py is kept.
    """
    root = directory.resolve()
    refuse_existing(root, force=force)  # before importing anything of the app
    plan = plan_init(root, os.environ, app_spec)
    written = write_init(plan, force=force)
    out = [f"perfci init: {plan.found.app} ({plan.how})"]
    usable = sum(1 for r in plan.routes if r.usable)
    login = sum(1 for r in plan.routes if r.note.startswith("needs a login"))
    out.append(
        f"  {len(plan.routes)} GET routes: {usable} listed, {login} need a login (commented out), "
        f"{len(plan.routes) - usable - login} left for you (commented out)"
    )
    if plan.seed_error:
        out.append(f"  the seed module failed on a scratch database: {plan.seed_error}")
    elif plan.seeded:
        out.append("  seeded " + ", ".join(f"{k} {v}" for k, v in sorted(plan.seeded.items())))
    if plan.seed_kept:
        out.append("  kept the existing perfci_seed.py")
    for path in written:
        out.append(f"  wrote {path.relative_to(root)}")
    if not usable:
        out.append(
            "  no GET route answered 2xx without a login: list endpoints in perfci.yaml first"
        )
    out += ["next:", "  perfci baseline update", "  perfci run"]
    click.echo(for_terminal("\n".join(out)))
    return 0
