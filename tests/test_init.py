"""`perfci init` end to end: the written perfci.yaml and seed module run as they are."""

from __future__ import annotations

import json
import os
import shutil

from perfci.errors import ExitCode
from perfci.pytest_plugin import PerfciProject
from tests.target.appshapes import copy_app


def init_app(project: PerfciProject, name: str, seed: str) -> None:
    """The test app without its own seed module (init writes one)."""
    copy_app(name, project.path)
    os.remove(project.path / seed)


def test_init_on_a_config_class_factory_then_baseline_and_run(
    perfci_project: PerfciProject,
) -> None:
    init_app(perfci_project, "blogcls", "blogcls/seed.py")
    (perfci_project.path / ".gitignore").write_text("*.pyc")  # no final newline
    result = perfci_project.run_inprocess("init")
    assert result.exit_code == ExitCode.OK, result.output
    assert result.stdout.splitlines()[-3:] == ["next:", "  perfci baseline update", "  perfci run"]
    config = (perfci_project.path / "perfci.yaml").read_text()
    assert "  app: blogcls:create_app\n" in config
    assert "    - GET /explore\n" in config
    assert "    - GET /user/username0  # from the seeded rows\n" in config
    assert "    # - GET /index  # needs a login (302 to /auth/login)\n" in config
    assert "  # schema: alembic\n" in config  # the app has migrations/
    seed = (perfci_project.path / "perfci_seed.py").read_text()
    assert "from blogcls import Post, User\n" in seed
    assert (perfci_project.path / ".gitignore").read_text() == "*.pyc\n.perfci/\n"
    created = perfci_project.run_inprocess("baseline", "update")
    assert created.exit_code == ExitCode.OK, created.output
    stored = json.loads(
        (perfci_project.path / "baselines" / f"{perfci_project.path.name}.json").read_text()
    )
    names = {m["name"] for m in stored["measurements"]}
    assert "n_plus_one/GET /user/username0/queries" in names
    passed = perfci_project.run_inprocess("run")
    assert passed.exit_code == ExitCode.OK, passed.output


def test_init_on_a_module_level_plain_sqlalchemy_app_then_baseline_and_run(
    perfci_project: PerfciProject,
) -> None:
    init_app(perfci_project, "plainsql", "shop/seed.py")
    result = perfci_project.run_inprocess("init")
    assert result.exit_code == ExitCode.OK, result.output
    config = (perfci_project.path / "perfci.yaml").read_text()
    assert "  app: shop.app:app\n" in config
    assert "  engine: shop.database:engine\n  database_env: SHOP_DATABASE_URL\n" in config
    assert "    - GET /products/1  # from the seeded rows\n" in config
    assert perfci_project.run_inprocess("baseline", "update").exit_code == ExitCode.OK
    assert perfci_project.run_inprocess("run").exit_code == ExitCode.OK
    regressed = perfci_project.run_inprocess("run", env={"SHOP_N_PLUS_ONE": "1"})
    assert regressed.exit_code == ExitCode.REGRESSION, regressed.output


def test_init_marks_token_routes_as_needing_a_login(perfci_project: PerfciProject) -> None:
    copy_app("tokenapi", perfci_project.path)
    result = perfci_project.run_inprocess("init")
    assert result.exit_code == ExitCode.OK, result.output
    config = (perfci_project.path / "perfci.yaml").read_text()
    assert "    # - GET /api/notes  # needs a login (401)\n" in config
    assert "    # - GET /api/accounts/1  # needs a login (401)\n" in config
    assert "no GET route answered 2xx without a login" in result.stdout


def test_init_never_overwrites_perfci_yaml_without_force(perfci_project: PerfciProject) -> None:
    init_app(perfci_project, "plainsql", "shop/seed.py")
    perfci_project.write_config("suite: mine\n")
    refused = perfci_project.run_inprocess("init")
    assert refused.exit_code == ExitCode.USAGE
    assert refused.stderr.strip().endswith(
        "perfci.yaml exists: perfci init does not overwrite it (--force replaces it)"
    )
    assert (perfci_project.path / "perfci.yaml").read_text() == "suite: mine\n"
    assert not (perfci_project.path / "perfci_seed.py").exists()
    (perfci_project.path / "perfci_seed.py").write_text("def seed(app):\n    return None\n")
    forced = perfci_project.run_inprocess("init", "--force")
    assert forced.exit_code == ExitCode.OK, forced.output
    assert "suite: mine" not in (perfci_project.path / "perfci.yaml").read_text()
    # The user's seed module is kept, and init says so.
    assert (perfci_project.path / "perfci_seed.py").read_text() == (
        "def seed(app):\n    return None\n"
    )
    assert "kept the existing perfci_seed.py" in forced.stdout
    assert not list(perfci_project.path.glob(".perfci.yaml.*.tmp"))


def test_init_finds_the_app_through_flask_app(perfci_project: PerfciProject) -> None:
    init_app(perfci_project, "plainsql", "shop/seed.py")
    shutil.move(perfci_project.path / "shop" / "app.py", perfci_project.path / "shop" / "web.py")
    perfci_project.write(".flaskenv", "FLASK_APP=shop/web.py\n")
    result = perfci_project.run_inprocess("init")
    assert result.exit_code == ExitCode.OK, result.output
    config = (perfci_project.path / "perfci.yaml").read_text()
    assert "  app: shop.web:app\n" in config
    assert "Found through FLASK_APP=shop/web.py" in config


def test_no_app_found_is_one_line(perfci_project: PerfciProject) -> None:
    perfci_project.write("readme.txt", "nothing here")
    result = perfci_project.run_inprocess("init")
    assert result.exit_code == ExitCode.USAGE
    assert result.stderr.strip().splitlines() == [
        f"perfci: no Flask app found in {perfci_project.path.resolve()}: no FLASK_APP, wsgi.py, "
        "app.py or package (name it: --app module:create_app)"
    ]
    assert not (perfci_project.path / "perfci.yaml").exists()


def test_init_prefers_the_factory_behind_a_module_level_app(
    perfci_project: PerfciProject,
) -> None:
    # microblog's layout: microblog.py holds `app = create_app()`, .flaskenv names it.
    init_app(perfci_project, "blogcls", "blogcls/seed.py")
    perfci_project.write("microblog.py", "from blogcls import create_app\n\napp = create_app()\n")
    perfci_project.write(".flaskenv", "FLASK_APP=microblog.py\n")
    result = perfci_project.run_inprocess("init")
    assert result.exit_code == ExitCode.OK, result.output
    config = (perfci_project.path / "perfci.yaml").read_text()
    assert "  app: blogcls:create_app\n" in config
    assert "Found through FLASK_APP=microblog.py" in config
    assert perfci_project.run_inprocess("baseline", "update").exit_code == ExitCode.OK


def test_two_rules_of_one_view_are_listed_once() -> None:
    from perfci.init import Route, _distinct_requests

    routes = [
        Route("/", "GET /index", 302, "needs a login"),
        Route("/index", "GET /index", 302, "needs a login"),
        Route("/posts/<int:id>", None, None, "no seeded value"),
        Route("/users/<int:id>", None, None, "no seeded value"),
    ]
    assert [r.rule for r in _distinct_requests(routes)] == [
        "/",
        "/posts/<int:id>",
        "/users/<int:id>",
    ]
