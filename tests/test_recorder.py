"""QueryRecorder: statements of every thread, fingerprints, lazy loads, rows."""

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

from perfci import recorder as recorder_module
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
        # Casts rendered by psycopg 3 / asyncpg / pg8000 (RENDER_CASTS): lists still collapse.
        (
            "SELECT * FROM c WHERE c.p IN (%(p_1)s::INTEGER, %(p_2)s::INTEGER)",
            "SELECT * FROM c WHERE c.p IN (...)",
        ),
        ("SELECT * FROM c WHERE c.p IN ($1::INTEGER)", "SELECT * FROM c WHERE c.p IN (...)"),
        (
            "SELECT a FROM t WHERE b = %(b)s::VARCHAR(20) AND c > %s::TIMESTAMP WITHOUT TIME ZONE",
            "SELECT a FROM t WHERE b = ? AND c > ?",
        ),
        ("SELECT a FROM t WHERE b = %(b)s::NUMERIC(10, 2)[]", "SELECT a FROM t WHERE b = ?"),
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


def test_statements_of_other_threads_are_counted(engine: Engine, recorder: QueryRecorder) -> None:
    def other() -> None:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    with recorder.record() as recording:
        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
        with engine.connect() as conn:
            conn.execute(text("SELECT 2"))
    assert [(q.sql, q.other_thread) for q in recording.queries] == [
        ("SELECT 1", True),
        ("SELECT 2", False),
    ]
    assert recording.count == 2 and recording.from_other_threads == 1


def test_with_several_recordings_open_a_stray_statement_counts_in_each(
    engine: Engine, recorder: QueryRecorder
) -> None:
    started, release = threading.Event(), threading.Event()
    seen: list[tuple[int, int]] = []

    def second_recording() -> None:
        with recorder.record() as mine:
            started.set()
            release.wait()
        seen.append((len(mine.queries), mine.count))

    def stray() -> None:
        with engine.connect() as conn:
            conn.execute(text("SELECT 9"))

    thread = threading.Thread(target=second_recording)
    with recorder.record() as recording:
        thread.start()
        started.wait()
        worker = threading.Thread(target=stray)
        worker.start()
        worker.join()
        with engine.connect() as conn:
            conn.execute(text("SELECT 3"))
        release.set()
        thread.join()
    # Neither recording can claim SELECT 9; both count it, neither reports fewer.
    assert seen == [(0, 1)]
    assert [q.sql for q in recording.queries] == ["SELECT 3"]
    assert recording.unattributed == 1 and recording.count == 2


def test_the_lazy_loader_of_this_sqlalchemy_is_wrapped() -> None:
    assert recorder_module.LAZY_LOADS_SEEN


def test_lazy_loads_answered_by_the_identity_map_are_counted(
    engine: Engine, recorder: QueryRecorder
) -> None:
    with recorder.record() as recording, Session(engine) as session:
        # Every booking of chef 1: their Booking.chef lazy loads all find one parent.
        bookings = session.scalars(select(Booking).where(Booking.chef_id == 1)).all()
        assert {booking.chef.id for booking in bookings} == {1}
    assert recording.count == 2  # the list, and one lazy load that sent SQL
    assert recording.lazy_loads == {"Booking.chef": 2}
    assert {q.lazy_loaded_from for q in recording.queries} == {None, "Booking.chef"}


def test_eager_loads_are_no_lazy_loads(engine: Engine, recorder: QueryRecorder) -> None:
    with recorder.record() as recording, Session(engine) as session:
        chefs = session.scalars(select(Chef).options(selectinload(Chef.bookings))).all()
        assert sum(len(chef.bookings) for chef in chefs) == 10
        assert {booking.chef.id for chef in chefs for booking in chef.bookings} == {1, 2, 3, 4, 5}
    # booking.chef goes back to an already loaded chef: answered by the identity map
    # whatever the data, so not a lazy load that could become an N+1.
    assert recording.lazy_accesses == {"Booking.chef": 10}
    assert recording.lazy_loads == {}


@pytest.mark.parametrize("count_rows", [True, False])
def test_rows_fetched(engine: Engine, recorder: QueryRecorder, count_rows: bool) -> None:
    with recorder.record(rows=count_rows) as recording, Session(engine) as session:
        session.scalars(select(Booking)).all()
        session.scalars(select(Chef).where(Chef.id == 1)).all()
        session.scalar(select(text("count(*)")).select_from(Booking))
    assert recording.rows == (10 + 1 + 1 if count_rows else 0)


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
