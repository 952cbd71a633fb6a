"""`perfci run` end to end on every app shape: factories, plain SQLAlchemy, Alembic, no target."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from perfci.errors import ExitCode
from perfci.pytest_plugin import PerfciProject
from tests.target.appshapes import copy_app

BLOG = """
suite: blog
target:
  app: blogcls:create_app
  database: {database}
  seed: blogcls.seed:seed
  endpoints:
    - GET /explore
    - GET /user/user3
  server: {{workers: 1, threads: 2}}
checks:
  n_plus_one: {{}}
  indexes: {{min_rows: 0}}
  latency: {{mode: http, http_samples: 8, warmup: 1}}
"""

SHOP = """
suite: shop
target:
  app: shop.app:app
  engine: shop.database:engine
  database_env: SHOP_DATABASE_URL
  database: {database}
  seed: shop.seed:seed
  endpoints:
    - GET /categories
    - GET /products/3
  server: {{workers: 1, threads: 2}}
checks:
  n_plus_one: {{}}
  pool: {{min_size: null, min_overflow: null, require_pre_ping: false}}
  indexes: {{min_rows: 0}}
  payload: {{}}
"""


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def database(request: pytest.FixtureRequest) -> str:
    if request.param == "sqlite":
        return "sqlite"
    if request.param == "postgresql":
        return str(request.getfixturevalue("postgres_url"))
    return str(request.getfixturevalue("mariadb_url"))


def test_a_config_class_factory_in_process_and_under_gunicorn(
    perfci_project: PerfciProject,
) -> None:
    copy_app("blogcls", perfci_project.path)
    perfci_project.write_config(BLOG.format(database="sqlite"))
    created = perfci_project.run_inprocess("baseline", "update")
    assert created.exit_code == ExitCode.OK, created.output
    assert "a factory called with a config class carrying the overrides (based on Config)" in (
        created.stderr
    )
    assert "probe /_perfci/probe: perfci's own probe route (the app has no GET /health)" in (
        created.stderr
    )
    stored = json.loads((perfci_project.path / "baselines" / "blog.json").read_text())
    names = {m["name"] for m in stored["measurements"]}
    assert "n_plus_one/GET /explore/queries" in names
    assert "latency/GET /user/user3/http_p50" in names  # gunicorn built the same app
    passed = perfci_project.run_inprocess("run", "--quick")
    assert passed.exit_code == ExitCode.OK, passed.output


def test_plain_sqlalchemy_module_level_app_every_check(
    perfci_project: PerfciProject, database: str
) -> None:
    copy_app("plainsql", perfci_project.path)
    perfci_project.write_config(SHOP.format(database=database))
    created = perfci_project.run_inprocess("baseline", "update")
    assert created.exit_code == ExitCode.OK, created.output
    assert "an app object, the overrides set on app.config" in created.stderr
    stored = json.loads((perfci_project.path / "baselines" / "shop.json").read_text())
    checks = {m["name"].split("/")[0] for m in stored["measurements"]}
    assert checks == {"n_plus_one", "pool", "indexes", "payload"}
    assert perfci_project.run_inprocess("run").exit_code == ExitCode.OK
    regressed = perfci_project.run_inprocess("run", env={"SHOP_N_PLUS_ONE": "1"})
    assert regressed.exit_code == ExitCode.REGRESSION, regressed.output
    assert "n_plus_one/GET /categories/queries" in regressed.stdout


DROP_INDEX = '''
"""posts.user_id loses its index"""

from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.drop_index("ix_posts_user_id", table_name="posts")
'''


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_a_migration_dropping_an_index_is_caught(
    perfci_project: PerfciProject, request: pytest.FixtureRequest, engine: str
) -> None:
    database = "sqlite" if engine == "sqlite" else str(request.getfixturevalue("postgres_url"))
    copy_app("blogcls", perfci_project.path)
    config = BLOG.format(database=database).replace(
        "  seed: blogcls.seed:seed\n",
        "  schema: alembic\n  seed: blogcls.seed:seed\n  seed_args: {create: false}\n",
    )
    perfci_project.write_config(
        config.replace("  latency: {mode: http, http_samples: 8, warmup: 1}\n", "")
    )
    created = perfci_project.run_inprocess("baseline", "update")
    assert created.exit_code == ExitCode.OK, created.output
    perfci_project.write("migrations/versions/v0002_drop.py", DROP_INDEX)
    caught = perfci_project.run_inprocess("run")
    assert caught.exit_code == ExitCode.REGRESSION, caught.output
    assert "indexes/schema/unindexed_foreign_keys" in caught.stdout
    # The default (the seed's create_all) knows nothing of the migration: it cannot see it.
    perfci_project.write_config(
        config.replace("  schema: alembic\n", "")
        .replace("{create: false}", "{}")
        .replace("  latency: {mode: http, http_samples: 8, warmup: 1}\n", "")
    )
    blind = perfci_project.run_inprocess("run", "--json", "blind.json")
    report = json.loads((perfci_project.path / "blind.json").read_text())
    values = {m["name"]: m["value"] for m in report["measurements"]}
    assert values["indexes/schema/unindexed_foreign_keys"] == 0, blind.output


def test_only_pytest_benchmark_needs_no_target(perfci_project: PerfciProject) -> None:
    data = Path(__file__).parents[1] / "plugins" / "data" / "pytest_benchmark.json"
    shutil.copy(data, perfci_project.path / "bench.json")
    perfci_project.write_config("suite: micro\nchecks:\n  pytest_benchmark: {json: bench.json}\n")
    created = perfci_project.run_inprocess("baseline", "update")
    assert created.exit_code == ExitCode.OK, created.output
    assert "building target" not in created.stderr


def test_a_check_needing_the_target_without_one_is_one_line(
    perfci_project: PerfciProject,
) -> None:
    perfci_project.write_config("suite: micro\nchecks:\n  pytest_benchmark: {}\n  n_plus_one: {}\n")
    result = perfci_project.run_inprocess("run")
    assert result.exit_code == ExitCode.USAGE
    assert result.stderr.strip().splitlines()[-1] == (
        "perfci: perfci.yaml:4: checks.n_plus_one: measures the app, but perfci.yaml has no "
        "target section (add target.app: module:create_app, or set enabled: false)"
    )


def test_a_failing_probe_keeps_the_finished_checks_results(
    perfci_project: PerfciProject,
) -> None:
    copy_app("blogcls", perfci_project.path)
    config = BLOG.format(database="sqlite").replace(
        "  latency: {mode: http, http_samples: 8, warmup: 1}",
        "  latency: {mode: inprocess, samples: 8, warmup: 1, calibration: GET /nope}",
    )
    perfci_project.write_config(config + "baselines: {required: false}\n")
    result = perfci_project.run_inprocess("run", "--json", "out.json")
    assert result.exit_code == ExitCode.TARGET, result.output
    assert "GET /nope" in result.stderr
    report = json.loads((perfci_project.path / "out.json").read_text())
    names = {m["name"] for m in report["measurements"]}
    assert "n_plus_one/GET /explore/queries" in names
    assert any(n.startswith("indexes/") for n in names)
