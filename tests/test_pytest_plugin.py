"""The pytest plugin: ``perfci_queries`` in users' test suites, ``perfci_project`` for plugins."""

from __future__ import annotations

import pytest

from perfci.pytest_plugin import PerfciProject

pytest_plugins = ["pytester"]

MODELS = """
    import pytest
    from flask import Flask
    from flask_sqlalchemy import SQLAlchemy
    from sqlalchemy import ForeignKey, create_engine, literal, select
    from sqlalchemy.orm import (
        DeclarativeBase, Mapped, Session, mapped_column, relationship, selectinload,
    )

    class Base(DeclarativeBase):
        pass

    class Chef(Base):
        __tablename__ = "chefs"
        id: Mapped[int] = mapped_column(primary_key=True)
        bookings: Mapped[list["Booking"]] = relationship()

    class Booking(Base):
        __tablename__ = "bookings"
        id: Mapped[int] = mapped_column(primary_key=True)
        chef_id: Mapped[int] = mapped_column(ForeignKey("chefs.id"))

    @pytest.fixture
    def engine():
        engine = create_engine("sqlite://")
        Base.metadata.create_all(engine)
        with Session(engine) as session:
            session.add_all(Chef(id=i, bookings=[Booking(), Booking()]) for i in range(1, 6))
            session.commit()
        yield engine
        engine.dispose()

    def bookings_per_chef(engine, eager=False):
        query = select(Chef)
        if eager:
            query = query.options(selectinload(Chef.bookings))
        with Session(engine) as session:
            return [len(chef.bookings) for chef in session.scalars(query)]
"""


def run(pytester: pytest.Pytester, tests: str) -> pytest.RunResult:
    pytester.makepyfile(test_queries=MODELS + tests)
    # In-process, the outer run has imported perfci already, so the inner run cannot
    # rewrite the asserts of its pytest11 plugin's package; that notice is not an error.
    rewrite = "ignore:Module already imported so cannot be rewritten"
    return pytester.runpytest("-p", "no:cacheprovider", "-W", "error", "-W", rewrite)


def test_a_block_within_its_limits_passes(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
    def test_eager(engine, perfci_queries):
        with perfci_queries(engine, max=2, max_repeated=1) as recording:
            assert bookings_per_chef(engine, eager=True) == [2] * 5
        assert recording.count == 2

    def test_records_without_limits(engine, perfci_queries):
        with perfci_queries(engine) as recording:
            bookings_per_chef(engine)
        assert recording.count == 6
    """,
    )
    result.assert_outcomes(passed=2)


def test_over_max_lists_every_shape_with_its_count_and_lazy_origin(
    pytester: pytest.Pytester,
) -> None:
    result = run(
        pytester,
        """
    def test_lazy(engine, perfci_queries):
        with perfci_queries(engine, max=3):
            bookings_per_chef(engine)
    """,
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*perfci_queries: 6 statements, over the limit of 3",
            # SQLAlchemy before 2.0.2x labels lazy loads' columns (bookings.id AS bookings_id).
            "*5× SELECT bookings.id*FROM bookings WHERE ? = bookings.chef_id"
            "*[[]lazy load: Chef.bookings]",
            "*e.g. SELECT bookings.id*FROM bookings WHERE ? = bookings.chef_id  -- params (1,)",
            "*1× SELECT chefs.id FROM chefs",
        ]
    )
    # A clean message, not a traceback into the plugin.
    assert "pytest_plugin.py" not in result.stdout.str()


def test_max_repeated_catches_an_n_plus_one_under_a_generous_max(
    pytester: pytest.Pytester,
) -> None:
    result = run(
        pytester,
        """
    def test_lazy(engine, perfci_queries):
        with perfci_queries(engine, max=100, max_repeated=1):
            bookings_per_chef(engine)
    """,
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*one statement shape ran 5 times, over the limit of 1 (an N+1?)", "*5× SELECT*"]
    )


def test_a_flask_sqlalchemy_app_can_be_given(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
    def test_app(perfci_queries):
        app = Flask("t")
        app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite://"
        db = SQLAlchemy(app)
        with app.app_context():
            with perfci_queries(app, max=1):
                db.session.execute(select(literal(1)))
                db.session.execute(select(literal(2)))
            db.session.remove()

    def test_not_an_engine(perfci_queries):
        with pytest.raises(TypeError, match="Engine or a Flask app"):
            with perfci_queries("sqlite://"):
                pass
    """,
    )
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        ["*2 statements, over the limit of 1", "*2× SELECT ? AS anon_1", "*-- params (1,)"]
    )


def test_an_error_in_the_block_is_not_masked(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
    def test_raises(engine, perfci_queries):
        with perfci_queries(engine, max=0):
            bookings_per_chef(engine)
            raise KeyError("the test's own failure")
    """,
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*KeyError*the test's own failure*"])
    assert "over the limit" not in result.stdout.str()


def test_perfci_project_writes_dedented_files(perfci_project: PerfciProject) -> None:
    # Running perfci through it is exercised by every tests/plugins gate test.
    perfci_project.write_config(
        """
        suite: x
        checks: {}
        """
    )
    plugin = perfci_project.write_plugin("mine", "import perfci\n")
    assert (perfci_project.path / "perfci.yaml").read_text() == "suite: x\nchecks: {}\n"
    assert plugin == perfci_project.path / "perfci_plugins_local" / "mine.py"


BENCHMARK = """
    def test_speed(benchmark):
        benchmark(sum, range(10))
"""


def test_benchmark_storage_goes_under_a_git_ignored_perfci_directory(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_speed=BENCHMARK)
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "--benchmark-autosave", "--benchmark-disable-gc"
    )
    result.assert_outcomes(passed=1)
    assert not (pytester.path / ".benchmarks").exists()
    saved = list((pytester.path / ".perfci" / "benchmarks").rglob("*.json"))
    assert len(saved) == 1, saved
    assert (pytester.path / ".perfci" / ".gitignore").read_text().splitlines()[-1] == "*"


def test_a_project_keeps_its_own_benchmark_storage(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_speed=BENCHMARK)
    (pytester.path / ".benchmarks").mkdir()
    result = pytester.runpytest("-p", "no:cacheprovider", "--benchmark-autosave")
    result.assert_outcomes(passed=1)
    assert list((pytester.path / ".benchmarks").rglob("*.json"))
    assert not (pytester.path / ".perfci").exists()
    chosen = pytester.path / "elsewhere"
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "--benchmark-autosave", f"--benchmark-storage={chosen}"
    )
    result.assert_outcomes(passed=1)
    assert list(chosen.rglob("*.json"))
    assert not (pytester.path / ".perfci").exists()
