"""A small library app, shaped unlike target_api, with one endpoint per N+1 scenario kind.

Authors and their books (a parent/child pair). Every list takes its page size
from a different parameter (``per_page``, ``limit``, ``page_size``). The N+1
kinds: lazy one-to-many per parent, lazy many-to-one per child (identity map
hides it when the rows share a parent), per-item statements sent from a thread
pool, and a collection loaded only to be counted. The eager kinds that must
never be flagged: selectinload, subqueryload, joinedload, raiseload with an
eager load, and a manual ``in_()`` prefetch.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flask import Flask, abort, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import ForeignKey, String, func, select
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    joinedload,
    mapped_column,
    raiseload,
    relationship,
    selectinload,
    subqueryload,
)


class Base(DeclarativeBase):
    pass


class Author(Base):
    __tablename__ = "authors"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(50))
    books: Mapped[list[Book]] = relationship(back_populates="author", order_by="Book.id")


class Book(Base):
    __tablename__ = "books"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    title: Mapped[str] = mapped_column(String(50))
    author_id: Mapped[int] = mapped_column(ForeignKey("authors.id"), index=True)
    author: Mapped[Author] = relationship(back_populates="books")


AUTHORS = 30
BOOKS_PER_AUTHOR = 12


def size(name: str, default: int = 5) -> int:
    return int(request.args.get(name, default))


def create_app(config: dict[str, Any]) -> Flask:
    app = Flask("library")
    app.config.update(config)
    app.config.setdefault("FAULTS", "")
    db = SQLAlchemy(model_class=Base)
    db.init_app(app)

    def authors(*options: Any, limit: int) -> list[Author]:
        statement = select(Author).options(*options).order_by(Author.id).limit(limit)
        return list(db.session.scalars(statement))

    def listing(found: list[Author]) -> dict[str, Any]:
        return {"authors": [{"id": a.id, "books": [b.title for b in a.books]} for a in found]}

    @app.get("/authors/selectin")
    def selectin() -> Any:
        return listing(authors(selectinload(Author.books), limit=size("per_page")))

    @app.get("/authors/subquery")
    def subquery() -> Any:
        return listing(authors(subqueryload(Author.books), limit=size("limit")))

    @app.get("/authors/joined")
    def joined() -> Any:
        statement = select(Author).options(joinedload(Author.books)).order_by(Author.id)
        found = db.session.scalars(statement.limit(size("page_size"))).unique().all()
        return listing(list(found))

    @app.get("/authors/raise")
    def raised() -> Any:
        options: tuple[Any, ...] = (selectinload(Author.books), raiseload("*"))
        if "raiseload" in app.config["FAULTS"]:
            options = (raiseload("*"),)
        return listing(authors(*options, limit=size("per_page")))

    @app.get("/authors/prefetch")
    def prefetch() -> Any:
        found = authors(limit=size("limit"))
        ids = [a.id for a in found]
        books = db.session.scalars(select(Book).where(Book.author_id.in_(ids))).all()
        by_author: dict[int, list[str]] = {}
        for book in books:
            by_author.setdefault(book.author_id, []).append(book.title)
        return {"authors": [{"id": i, "books": by_author.get(i, [])} for i in ids]}

    @app.get("/authors/lazy")
    def lazy() -> Any:
        eager = () if "lazy_children" in app.config["FAULTS"] else (selectinload(Author.books),)
        return listing(authors(*eager, limit=size("per_page")))

    @app.get("/books")
    def books() -> Any:
        # Books of the first author only: every lazy load finds the same parent.
        statement = select(Book).where(Book.author_id == 1).order_by(Book.id)
        if "lazy_parent" not in app.config["FAULTS"]:
            statement = statement.options(joinedload(Book.author))
        found = db.session.scalars(statement.limit(size("per_page"))).all()
        return {"books": [{"title": b.title, "author": b.author.name} for b in found]}

    @app.get("/authors/counts")
    def counts() -> Any:
        found = authors(limit=size("page_size"))
        ids = [a.id for a in found]
        if "threads" in app.config["FAULTS"]:
            engine = db.engine

            def count(author_id: int) -> int:
                with engine.connect() as connection:
                    statement = select(func.count()).where(Book.author_id == author_id)
                    return int(connection.scalar(statement) or 0)

            with ThreadPoolExecutor(max_workers=4) as pool:
                totals = list(pool.map(count, ids))
        else:
            statement = (
                select(Book.author_id, func.count())
                .where(Book.author_id.in_(ids))
                .group_by(Book.author_id)
            )
            by_id = {row[0]: row[1] for row in db.session.execute(statement)}
            totals = [by_id.get(i, 0) for i in ids]
        return {"counts": totals}

    @app.get("/authors/<int:author_id>/total")
    def total(author_id: int) -> Any:
        author = db.session.get(Author, author_id) or abort(404)
        if "load_to_count" in app.config["FAULTS"]:
            return {"books": len(author.books)}
        statement = select(func.count()).where(Book.author_id == author_id)
        return {"books": db.session.scalar(statement)}

    @app.get("/explore")
    def explore() -> Any:
        # Every author, no page parameter: only the data size changes the statements.
        eager = () if "lazy_children" in app.config["FAULTS"] else (selectinload(Author.books),)
        statement = select(Author).options(*eager).order_by(Author.id)
        return listing(list(db.session.scalars(statement)))

    return app


def seed(app: Flask, authors: int = AUTHORS) -> dict[str, int]:
    db = app.extensions["sqlalchemy"]
    with app.app_context():
        Base.metadata.drop_all(db.engine)
        Base.metadata.create_all(db.engine)
        db.session.add_all(Author(id=i, name=f"Author {i}") for i in range(1, authors + 1))
        db.session.flush()
        db.session.add_all(
            Book(id=(a - 1) * BOOKS_PER_AUTHOR + n, title=f"Book {a}.{n}", author_id=a)
            for a in range(1, authors + 1)
            for n in range(1, BOOKS_PER_AUTHOR + 1)
        )
        db.session.commit()
    return {"authors": authors, "books": authors * BOOKS_PER_AUTHOR}
