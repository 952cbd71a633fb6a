"""``perfci.count_queries``: statement counts from any test runner, on every engine."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import Engine, ForeignKey, create_engine, select
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    mapped_column,
    relationship,
    scoped_session,
    selectinload,
    sessionmaker,
)

import perfci
from perfci.testing import QueryLimitExceeded, count_queries


class Base(DeclarativeBase):
    pass


class Author(Base):
    __tablename__ = "cq_authors"
    id: Mapped[int] = mapped_column(primary_key=True)
    posts: Mapped[list[Post]] = relationship()


class Post(Base):
    __tablename__ = "cq_posts"
    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("cq_authors.id"))


@pytest.fixture(params=["sqlite", "postgres", "mariadb"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """Five authors with two posts each, on SQLite, PostgreSQL and MariaDB."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'cq.db'}"
    else:
        request.applymarker(getattr(pytest.mark, request.param))
        url = request.getfixturevalue(f"{request.param}_url")
        if request.param == "postgres":
            url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add_all(Author(id=i, posts=[Post(), Post()]) for i in range(1, 6))
        session.commit()
    yield engine
    engine.dispose()


def posts_per_author(engine: Engine, *, eager: bool = False) -> list[int]:
    query = select(Author).order_by(Author.id)
    if eager:
        query = query.options(selectinload(Author.posts))
    with Session(engine) as session:
        return [len(author.posts) for author in session.scalars(query)]


def test_counts_what_the_block_sends(engine: Engine) -> None:
    with count_queries(engine, max=2, max_repeated=1) as q:
        assert posts_per_author(engine, eager=True) == [2] * 5
    assert q.count == 2
    q.assert_at_most(2)
    assert "cq_authors" in q.statements[0] and "cq_posts" in q.statements[1]


def test_an_n_plus_one_fails_with_the_statements_listed(engine: Engine) -> None:
    with count_queries(engine) as q:
        posts_per_author(engine)
    assert q.count == 6
    with pytest.raises(QueryLimitExceeded) as failed:
        q.assert_at_most(3)
    message = str(failed.value)
    assert message.startswith("count_queries: 6 statements, over the limit of 3")
    # SQLAlchemy before 2.0.2x labels a lazy load's columns (cq_posts.id AS cq_posts_id).
    assert re.search(r"  5× SELECT cq_posts\.id.* FROM cq_posts WHERE", message)
    assert "[lazy load: Author.posts]" in message
    assert isinstance(failed.value, AssertionError)  # a failure to every runner, not an error
    with pytest.raises(QueryLimitExceeded, match="one statement shape ran 5 times"):
        q.assert_repeated_at_most(1)


def test_limits_given_up_front_are_checked_when_the_block_ends(engine: Engine) -> None:
    over = pytest.raises(QueryLimitExceeded, match="6 statements, over the limit of 3")
    with over, count_queries(engine, max=3):
        posts_per_author(engine)
    # An error inside the block is the block's own, never masked by a limit.
    with pytest.raises(KeyError), count_queries(engine, max=0):
        posts_per_author(engine)
        raise KeyError("mine")


def test_a_flask_app_a_session_and_a_scoped_session_lead_to_the_engine(engine: Engine) -> None:
    app = Flask("cq")
    app.config["SQLALCHEMY_DATABASE_URI"] = engine.url.render_as_string(hide_password=False)
    db = SQLAlchemy(model_class=Base)
    db.init_app(app)
    with perfci.count_queries(app) as q, app.app_context():
        assert db.session.scalars(select(Author)).all()
        with count_queries(db) as inner:  # Flask-SQLAlchemy's db, in an app context
            db.session.scalars(select(Post)).all()
    assert (q.count, inner.count) == (2, 1)
    with app.app_context():
        db.engine.dispose()
    plain = scoped_session(sessionmaker(engine))
    with count_queries(plain) as q, count_queries(Session(engine)) as q2:
        plain.scalars(select(Author)).all()
    assert q.count == q2.count == 1
    plain.remove()
    with pytest.raises(TypeError, match="got str"), count_queries(cast(Any, "sqlite://")):
        pass


UNITTEST_MODULE = """
    import unittest

    from flask import Flask, jsonify
    from flask_sqlalchemy import SQLAlchemy
    from sqlalchemy import ForeignKey
    from sqlalchemy.orm import Mapped, mapped_column, relationship

    import perfci

    db = SQLAlchemy()

    class User(db.Model):
        id: Mapped[int] = mapped_column(primary_key=True)
        posts: Mapped[list["Post"]] = relationship()

    class Post(db.Model):
        id: Mapped[int] = mapped_column(primary_key=True)
        user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))

    def create_app():
        app = Flask(__name__)
        app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite://"
        db.init_app(app)

        @app.get("/users")
        def users():
            return jsonify([len(u.posts) for u in db.session.scalars(db.select(User))])

        return app

    class UserListTest(unittest.TestCase):
        def setUp(self):
            self.app = create_app()
            self.context = self.app.app_context()
            self.context.push()
            db.create_all()
            db.session.add_all(User(posts=[Post()]) for _ in range(4))
            db.session.commit()
            self.client = self.app.test_client()

        def tearDown(self):
            db.session.remove()
            db.drop_all()
            self.context.pop()

        def test_within_budget(self):
            with perfci.count_queries(self.app) as q:
                self.assertEqual(self.client.get("/users").status_code, 200)
            q.assert_at_most(5)

        def test_over_budget(self):
            with perfci.count_queries(self.app, max=2):
                self.client.get("/users")
"""


def test_unittest_reports_a_broken_limit_as_a_failure_with_the_sql(tmp_path: Path) -> None:
    (tmp_path / "test_users.py").write_text(textwrap.dedent(UNITTEST_MODULE))
    run = subprocess.run(
        [sys.executable, "-m", "unittest", "-v", "test_users"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 1, run.stderr
    assert "test_within_budget (test_users.UserListTest.test_within_budget) ... ok" in run.stderr
    assert "FAIL: test_over_budget" in run.stderr
    assert "FAILED (failures=1)" in run.stderr  # a failure, not an error
    assert "count_queries: 5 statements, over the limit of 2" in run.stderr
    assert re.search(r"4× SELECT post\.id.* FROM post WHERE \? = post\.user_id", run.stderr)
