"""make_app: every app shape gets the run's overrides, the right engine and a probe."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from perfci.errors import ExitCode, TargetError
from perfci.target.recipe import PROBE_PATH, AppRecipe, default_probe, make_app
from tests.target.appshapes import importable

URI = "SQLALCHEMY_DATABASE_URI"


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A scratch database URL on each engine perfci supports."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'run.db'}"
    if request.param == "postgresql":
        return str(request.getfixturevalue("postgres_url"))
    return str(request.getfixturevalue("mariadb_url"))


def connected_to(engine_url: object, wanted: str) -> bool:
    have, want = make_url(str(engine_url)), make_url(wanted)
    return (have.get_backend_name(), have.database) == (want.get_backend_name(), want.database)


def test_a_config_class_factory_gets_a_subclass_carrying_the_overrides(database: str) -> None:
    with importable("blogcls"):
        built = make_app(AppRecipe("blogcls:create_app"), {URI: database, "POSTS_PER_PAGE": 3})
        assert built.app.config[URI] == database
        assert built.app.config["POSTS_PER_PAGE"] == 3
        assert built.app.config["SECRET_KEY"] == "blogcls-dev-secret"  # the class's own
        assert "config class" in built.how and "Config" in built.how
        assert connected_to(built.engine.url, database)
        with built.engine.connect() as connection:
            assert connection.execute(text("SELECT 1")).scalar() == 1
        built.engine.dispose()


def test_a_module_level_app_on_plain_sqlalchemy(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SHOP_DATABASE_URL", raising=False)
    recipe = AppRecipe(
        "shop.app:app", engine="shop.database:engine", database_env="SHOP_DATABASE_URL"
    )
    with importable("plainsql"):
        built = make_app(recipe, {URI: database, "SHOP_FLAG": "x"})
        from shop.database import engine  # type: ignore[import-not-found]

        assert built.engine is engine
        assert connected_to(engine.url, database)
        assert built.app.config["SHOP_FLAG"] == "x"
        assert built.how.startswith("an app object")
        engine.dispose()


def test_a_mapping_factory(database: str) -> None:
    with importable("tokenapi"):
        built = make_app(AppRecipe("tokenapi:create_app"), {URI: database})
        assert built.how == "a factory called with a mapping of the overrides"
        assert connected_to(built.engine.url, database)
        built.engine.dispose()


def test_an_app_object_with_flask_sqlalchemy_is_moved_to_the_run_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "objapp.py").write_text("from tokenapi import create_app\napp = create_app()\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    database = f"sqlite:///{tmp_path / 'run.db'}"
    with importable("tokenapi"):
        built = make_app(AppRecipe("objapp:app"), {URI: database})
        assert connected_to(built.engine.url, database)
        with built.app.app_context():
            from tokenapi import db  # type: ignore[import-not-found]

            assert db.engine is built.engine
        built.engine.dispose()


def test_a_wrong_shape_is_one_line_saying_what_was_tried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = f"sqlite:///{tmp_path / 'run.db'}"
    with importable("blogcls"), pytest.raises(TargetError) as caught:
        make_app(AppRecipe("blogcls:create_app", factory="mapping"), {URI: database})
    # microblog's failure, which perfci used to print bare:
    assert str(caught.value) == (
        "target.app 'blogcls:create_app' failed, a factory called with a mapping of the "
        "overrides: RuntimeError: Either 'SQLALCHEMY_DATABASE_URI' or 'SQLALCHEMY_BINDS' must be "
        "set. (if it takes its configuration another way, set target.factory: mapping, "
        "config_class or none)"
    )
    assert caught.value.exit_code == ExitCode.TARGET
    # A factory that swallows the mapping without failing:
    (tmp_path / "quiet.py").write_text(
        "from flask import Flask\n"
        "from tokenapi import db\n"
        "def create_app(settings=object()):\n"
        "    app = Flask(__name__)\n"
        "    app.config['SQLALCHEMY_DATABASE_URI'] = 'sqlite://'\n"
        "    db.init_app(app)\n"
        "    return app\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    with importable("tokenapi"), pytest.raises(TargetError) as caught:
        make_app(AppRecipe("quiet:create_app", factory="mapping"), {URI: database})
    assert str(caught.value) == (
        "target.app 'quiet:create_app': called as a factory called with a mapping of the "
        "overrides, but SQLALCHEMY_DATABASE_URI did not reach app.config; set target.factory "
        "to how it takes its configuration (mapping, config_class, or none for an app object)"
    )
    assert caught.value.exit_code == ExitCode.TARGET
    with importable("blogcls"), pytest.raises(TargetError, match=r"is function, not a Flask app$"):
        make_app(AppRecipe("blogcls:create_app", factory="none"), {URI: database})


def test_an_engine_elsewhere_than_the_run_database_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SHOP_DATABASE_URL", raising=False)
    database = f"sqlite:///{tmp_path / 'run.db'}"
    with importable("plainsql"), pytest.raises(TargetError) as caught:
        make_app(AppRecipe("shop.app:app", engine="shop.database:engine"), {URI: database})
    assert str(caught.value).startswith(
        "target.engine 'shop.database:engine': the engine is connected to sqlite:///shop.db, "
        f"not the run's database {database}; perfci drops and seeds tables there, so it stops"
    )
    assert "target.database_env" in str(caught.value)


def test_target_engine_must_name_an_engine(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'run.db'}"
    recipe = AppRecipe("shop.app:app", engine="shop.database:db_session")
    with importable("plainsql"), pytest.raises(TargetError, match="is scoped_session, not a"):
        make_app(recipe, {URI: database})


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            "shop.app:ap",
            "target.app 'shop.app:ap': module 'shop.app' has no 'ap' (did you mean 'app'?)",
        ),
        (
            "shop.ap:app",
            "target.app 'shop.ap:app': importing 'shop.ap' failed: "
            "ModuleNotFoundError: No module named 'shop.ap'",
        ),
    ],
)
def test_a_mistyped_target_app_names_the_key_and_the_closest_name(
    tmp_path: Path, spec: str, message: str
) -> None:
    database = f"sqlite:///{tmp_path / 'run.db'}"
    with importable("plainsql"), pytest.raises(TargetError) as caught:
        make_app(AppRecipe(spec), {URI: database})
    assert str(caught.value) == message


def test_an_app_without_flask_sqlalchemy_needs_target_engine(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'run.db'}"
    with importable("plainsql"), pytest.raises(TargetError) as caught:
        make_app(AppRecipe("shop.app:app"), {URI: database})
    assert str(caught.value) == (
        "target.app 'shop.app:app': the app has no Flask-SQLAlchemy extension; "
        "name its engine with target.engine: module:engine"
    )


def test_the_probe_is_the_apps_health_or_perfcis_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = f"sqlite:///{tmp_path / 'run.db'}"
    monkeypatch.delenv("SHOP_DATABASE_URL", raising=False)
    with importable("plainsql"):
        recipe = AppRecipe(
            "shop.app:app", engine="shop.database:engine", database_env="SHOP_DATABASE_URL"
        )
        app = make_app(recipe, {URI: database}).app
        assert default_probe(app) == (
            PROBE_PATH,
            "perfci's own probe route (the app has no GET /health)",
        )
        response = app.test_client().get(PROBE_PATH)
        assert (response.status_code, response.text) == (200, "ok")
    monkeypatch.syspath_prepend(str(Path(__file__).parents[1] / "toy"))
    app = make_app(AppRecipe("toyapp:create_app"), {URI: database}).app
    assert default_probe(app) == ("/health", "the app's GET /health")
