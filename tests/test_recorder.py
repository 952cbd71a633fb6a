"""QueryRecorder: statements per thread, fingerprints, lazy-load origins."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import ForeignKey, create_engine, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    mapped_column,
    relationship,
    selectinload,
)

from perfci.recorder import QueryRecorder, fingerprint


class Base(DeclarativeBase):
    pass


class Chef(Base):
    __tablename__ = "chefs"
    id: Mapped[int] = mapped_column(primary_key=True)
    bookings: Mapped[list[Booking]] = relationship(back_populates="chef")


class Booking(Base):
    __tablename__ = "bookings"
    id: Mapped[int] = mapped_column(primary_key=True)
    chef_id: Mapped[int] = mapped_column(ForeignKey("chefs.id"))
    chef: Mapped[Chef] = relationship(back_populates="bookings")


@pytest.fixture
def engine() -> Iterator[Engine]:
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        for i in range(1, 6):
            session.add(Chef(id=i, bookings=[Booking(), Booking()]))
        session.commit()
    yield engine
    engine.dispose()


@pytest.fixture
def recorder(engine: Engine) -> Iterator[QueryRecorder]:
    recorder = QueryRecorder(engine)
    yield recorder
    recorder.close()


@pytest.mark.parametrize(
    ("sql", "shape"),
    [
        ("SELECT * FROM chefs WHERE id = 5", "SELECT * FROM chefs WHERE id = ?"),
        ("SELECT * FROM chefs WHERE name = 'O''Neil'", "SELECT * FROM chefs WHERE name = ?"),
        ("SELECT * FROM t WHERE id IN (?, ?, ?)", "SELECT * FROM t WHERE id IN (...)"),
        ("SELECT * FROM t WHERE id IN (?)", "SELECT * FROM t WHERE id IN (...)"),
        ("SELECT a FROM t WHERE b = %(b_1)s", "SELECT a FROM t WHERE b = ?"),
        ("SELECT a FROM t2 WHERE b = $1", "SELECT a FROM t2 WHERE b = ?"),
        ("SELECT a\n  FROM t   WHERE b = :b", "SELECT a FROM t WHERE b = ?"),
    ],
)
def test_fingerprint(sql: str, shape: str) -> None:
    assert fingerprint(sql) == shape


def test_records_lazy_loads_as_repeated_fingerprints(
    engine: Engine, recorder: QueryRecorder
) -> None:
    with recorder.record() as recording, Session(engine) as session:
        chefs = session.scalars(select(Chef)).all()
        total = sum(len(chef.bookings) for chef in chefs)
    assert total == 10
    assert recording.count == 6  # 1 + N
    ((shape, count),) = recording.repeated().items()
    assert count == 5
    assert "FROM bookings" in shape
    lazy = {q.lazy_loaded_from for q in recording.queries if q.lazy_loaded_from}
    assert lazy == {"Chef.bookings"}


def test_eager_loading_is_not_repeated(engine: Engine, recorder: QueryRecorder) -> None:
    with recorder.record() as recording, Session(engine) as session:
        chefs = session.scalars(select(Chef).options(selectinload(Chef.bookings))).all()
        sum(len(chef.bookings) for chef in chefs)
    assert recording.count == 2
    assert recording.repeated() == {}
    assert all(q.lazy_loaded_from is None for q in recording.queries)


def test_only_the_recording_thread_is_counted(engine: Engine, recorder: QueryRecorder) -> None:
    def other() -> None:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    with recorder.record() as recording:
        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
        with engine.connect() as conn:
            conn.execute(text("SELECT 2"))
    assert [q.sql for q in recording.queries] == ["SELECT 2"]


def test_nothing_is_recorded_outside_a_block(engine: Engine, recorder: QueryRecorder) -> None:
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    with recorder.record() as recording:
        pass
    assert recording.count == 0


def test_non_select_orm_executions_are_recorded(engine: Engine, recorder: QueryRecorder) -> None:
    from sqlalchemy import update

    with recorder.record() as recording, Session(engine) as session:
        session.execute(text("SELECT 1"))
        session.execute(update(Booking).values(chef_id=1).where(Booking.id == 1))
        session.rollback()
    assert recording.count == 2
    assert all(q.lazy_loaded_from is None for q in recording.queries)
