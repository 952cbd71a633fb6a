"""`perfci run --against` on a plain-SQLAlchemy app and on an app migrated by Alembic."""

from __future__ import annotations

import subprocess
from pathlib import Path

from perfci.errors import ExitCode
from perfci.pytest_plugin import PerfciProject
from tests.target.appshapes import copy_app
from tests.target.test_shapes_run import BLOG, DROP_INDEX, SHOP


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


def commit_all(root: Path, message: str) -> None:
    if not (root / ".git").exists():
        git(root, "init", "-q", "-b", "main")
        git(root, "config", "user.email", "t@example.com")
        git(root, "config", "user.name", "t")
    (root / ".gitignore").write_text("__pycache__/\n.perfci/\n")
    git(root, "add", ".")
    git(root, "commit", "-qm", message)


def test_against_catches_an_n_plus_one_in_a_plain_sqlalchemy_app(
    perfci_project: PerfciProject,
) -> None:
    copy_app("plainsql", perfci_project.path)
    perfci_project.write_config(SHOP.format(database="sqlite"))
    commit_all(perfci_project.path, "base")
    git(perfci_project.path, "checkout", "-qb", "feature")
    app = perfci_project.path / "shop" / "app.py"
    app.write_text(app.read_text().replace('if not app.config["SHOP_N_PLUS_ONE"]:', "if False:"))
    git(perfci_project.path, "commit", "-qam", "drop the selectinload")
    result = perfci_project.run_inprocess("run", "--against", "main", "--only", "n_plus_one")
    assert result.exit_code == ExitCode.REGRESSION, result.output
    assert "n_plus_one/GET /categories/queries" in result.stdout


def test_against_catches_a_migration_dropping_an_index(perfci_project: PerfciProject) -> None:
    copy_app("blogcls", perfci_project.path)
    config = BLOG.format(database="sqlite").replace(
        "  seed: blogcls.seed:seed\n",
        "  schema: alembic\n  seed: blogcls.seed:seed\n  seed_args: {create: false}\n",
    )
    perfci_project.write_config(
        config.replace("  latency: {mode: http, http_samples: 8, warmup: 1}\n", "")
    )
    commit_all(perfci_project.path, "base")
    git(perfci_project.path, "checkout", "-qb", "feature")
    perfci_project.write("migrations/versions/v0002_drop.py", DROP_INDEX)
    git(perfci_project.path, "add", ".")
    git(perfci_project.path, "commit", "-qm", "drop an index")
    result = perfci_project.run_inprocess("run", "--against", "main")
    assert result.exit_code == ExitCode.REGRESSION, result.output
    assert "indexes/schema/unindexed_foreign_keys" in result.stdout
