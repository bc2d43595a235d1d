"""core.prepared runs a statement as Connection.execute would: same SQL, same parameter and row conversion,
SQLAlchemy's errors and disconnect handling; straight on the driver's cursor only inside a begun transaction
nobody watches statements on; it refuses statements it cannot run faithfully."""
from __future__ import annotations

import logging
import os
from contextlib import contextmanager
from datetime import datetime, timezone

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import (
    Boolean,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    bindparam,
    create_engine,
    event,
    insert,
    select,
    text,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, ProgrammingError

from core import prepared
from core.db import UTCDateTime
from core.metrics import time_commits
from tests.support.databases import pg_round_trips, pg_schema

meta = MetaData()
things = Table("things", meta, Column("id", Integer, primary_key=True), Column("name", String(20), unique=True),
               Column("at", UTCDateTime), Column("size", Integer, default=7), Column("big", Boolean))
ADD = (insert(things).values(name=bindparam("name"), at=bindparam("at"), size=bindparam("size"), big=bindparam("big"))
       .returning(things.c.id))
NAMED = select(things.c.id, things.c.at, things.c.big).where(things.c.name == bindparam("name"))
AT = datetime(2026, 12, 4, 23, 30, 1, 250000, tzinfo=timezone.utc)


@pytest.fixture()
def conn():
    engine = create_engine("sqlite://")
    meta.create_all(engine)
    with engine.connect() as c:
        yield c


def _no_exec_driver_sql(monkeypatch) -> None:
    def refuse(*_args, **_kw):
        raise AssertionError("went through Connection.exec_driver_sql")
    monkeypatch.setattr(Connection, "exec_driver_sql", refuse)


@pytest.mark.parametrize("begun", [True, False])
def test_values_and_rows_are_converted_as_sqlalchemy_would(conn, begun):
    if begun:
        conn.begin()
    [(new_id,)] = prepared.execute(conn, ADD, {"name": "伞", "at": AT, "size": 3, "big": True})
    conn.execute(ADD, {"name": "umbrella", "at": AT, "size": 3, "big": True})
    stored = conn.exec_driver_sql("SELECT name, at, big FROM things ORDER BY id").all()
    assert stored[0][1:] == stored[1][1:]  # the datetime stored as the same text, the boolean as the same 1
    [row] = prepared.execute(conn, NAMED, {"name": "伞"})
    assert row == conn.execute(NAMED, {"name": "伞"}).one() == (new_id, AT, True)
    assert (row.id, row.at, row.big) == (new_id, AT, True) and row.at.tzinfo is timezone.utc


def test_in_a_begun_transaction_the_statement_goes_to_the_cursor(conn, monkeypatch):
    conn.begin()
    _no_exec_driver_sql(monkeypatch)
    assert prepared.execute(conn, ADD, {"name": "a", "at": None, "size": 1, "big": False}) == [(1,)]
    assert prepared.execute(conn, NAMED, {"name": "a"}) == [(1, None, False)]


def test_outside_a_transaction_sqlalchemy_begins_it(conn):
    prepared.execute(conn, ADD, {"name": "a", "at": None, "size": 1, "big": None})
    assert conn.in_transaction()  # autobegun: the write is not committed behind the caller's back
    conn.rollback()
    assert conn.execute(select(things.c.id)).all() == []


def test_errors_are_sqlalchemys_on_both_paths_and_watchers_see_every_statement(conn, monkeypatch):
    conn.begin()
    prepared.execute(conn, ADD, {"name": "a", "at": None, "size": 1, "big": None})
    with pytest.raises(IntegrityError):
        prepared.execute(conn, ADD, {"name": "a", "at": None, "size": 1, "big": None})  # straight on the cursor
    conn.rollback()
    seen = []
    event.listen(conn, "before_cursor_execute", lambda *args: seen.append(args[2]))
    conn.begin()
    prepared.execute(conn, ADD, {"name": "b", "at": None, "size": 1, "big": None})
    with pytest.raises(IntegrityError):
        prepared.execute(conn, ADD, {"name": "b", "at": None, "size": 1, "big": None})
    assert len(seen) == 2 and seen[0].startswith("INSERT INTO things")


def test_a_lost_connection_is_invalidated_as_sqlalchemy_would(conn):
    conn.begin()
    conn.connection.driver_connection.close()  # the database went away under an open transaction
    with pytest.raises(ProgrammingError) as raised:
        prepared.execute(conn, NAMED, {"name": "a"})
    assert raised.value.connection_invalidated and conn.invalidated


def test_a_statement_it_cannot_run_faithfully_is_refused(conn):
    with pytest.raises(ValueError, match="default"):
        prepared.execute(conn, insert(things).values(name=bindparam("name")), {"name": "b"})  # size's default
    with pytest.raises(ValueError, match="expanding"):
        prepared.execute(conn, select(things.c.id).where(things.c.id.in_(bindparam("ids", expanding=True))),
                         {"ids": [1]})
    with pytest.raises(ValueError, match="textual"):  # whether it returns rows is read off the statement
        prepared.execute(conn, text("SELECT 1"), {})


def test_with_sqlalchemys_sql_log_on_every_statement_is_logged(caplog):
    engine = create_engine("sqlite://")
    meta.create_all(engine)
    with caplog.at_level(logging.INFO, logger="sqlalchemy.engine.Engine"), engine.connect() as conn, conn.begin():
        prepared.execute(conn, NAMED, {"name": "a"})
    assert any(r.getMessage().startswith("SELECT things.id") for r in caplog.records)


RENAME = things.update().where(things.c.name == bindparam("old")).values(name=bindparam("new")).returning(things.c.id)


@pytest.fixture(params=["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else []))
def any_conn(request):
    if request.param == "sqlite":
        engine = create_engine("sqlite://")
    else:
        schema = pg_schema()
        engine = create_engine(schema.__enter__())
        request.addfinalizer(lambda: schema.__exit__(None, None, None))
    meta.create_all(engine)
    with engine.connect() as c:
        yield c
    engine.dispose()


def test_statements_in_turn_each_see_the_one_before_and_a_failure_is_sqlalchemys_error(any_conn, caplog):
    conn = any_conn
    conn.begin()  # on PostgreSQL psycopg sends its BEGIN first, on a round trip of its own (begin_late: with them)
    added, found = prepared.execute_in_turn(conn, [(ADD, {"name": "a", "at": AT, "size": 1, "big": True}),
                                                   (NAMED, {"name": "a"})])
    assert found == [(added[0].id, AT, True)]
    with pytest.raises(IntegrityError):
        prepared.execute_in_turn(conn, [(ADD, {"name": "a", "at": None, "size": 1, "big": None}),
                                        (RENAME, {"old": "a", "new": "b"})]
                                 + [(NAMED, {"name": "a"})] * 200)  # the error arrives while these are sent
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]  # psycopg warns leaving a failed pipeline badly
    conn.rollback()  # the connection stays usable
    conn.begin()
    assert prepared.execute_in_turn(conn, [(NAMED, {"name": "a"})]) == [[]]


@pytest.fixture()
def pg_engine():
    if not os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("PostgreSQL only: psycopg pipelines, sqlite3 has no round trips to save")
    with pg_schema() as url:
        engine = create_engine(url)
        meta.create_all(engine)
        time_commits(engine)
        yield engine
        engine.dispose()


def _commits() -> float:
    return REGISTRY.get_sample_value("paipai_db_commit_seconds_count") or 0


@contextmanager
def _late(engine):
    """A connection as `core_transaction(begin_late=True)` makes it on PostgreSQL, begun."""
    with engine.connect() as conn, prepared.begin_late(conn):
        conn.begin()
        yield conn


def test_a_late_begin_and_the_commit_ride_with_the_units_first_and_last_statements(pg_engine):
    other = pg_engine.connect()  # checked out before the trace: its reads are not counted
    commits = _commits()
    with pg_round_trips(pg_engine) as trips:
        with _late(pg_engine) as conn:
            assert prepared.execute(conn, ADD, {"name": "a", "at": AT, "size": 1, "big": True})
            _added, found = prepared.execute_in_turn(conn, [(ADD, {"name": "b", "at": AT, "size": 2, "big": False}),
                                                            (NAMED, {"name": "b"})], commit=True)
            assert found[0].big is False  # the rows come back as without the commit
            # committed already: another connection sees both rows before SQLAlchemy's commit
            assert other.execute(select(things.c.name).order_by(things.c.name)).scalars().all() == ["a", "b"]
            conn.commit()  # nothing left to end: no round trip, no second observation
    other.close()
    # BEGIN with the first insert; the insert, the select and COMMIT (psycopg alone: BEGIN, insert, both, COMMIT)
    assert len(trips) == 2, "\n".join(trips.messages)
    sent = [m.split("\t")[-1] for m in trips.messages if m.startswith("F") and "\tParse\t" in m]
    assert '"" "BEGIN" 0' in sent[0] and '"" "COMMIT" 0' in sent[-1], sent
    assert _commits() == commits + 1


def test_a_late_begin_makes_one_transaction_of_every_statement_that_follows(pg_engine):
    with _late(pg_engine) as conn:
        prepared.execute(conn, ADD, {"name": "a", "at": AT, "size": 1, "big": True})
        conn.execute(things.insert().values(name="b", size=2))  # SQLAlchemy's own, after the BEGIN
        conn.rollback()
        assert conn.execute(select(things.c.id)).all() == []  # both rolled back
    seen: list[str] = []
    with _late(pg_engine) as conn:
        # statement watchers: the statements go through SQLAlchemy and the BEGIN on its own, unwatched
        event.listen(conn, "before_cursor_execute", lambda _c, _cur, sql, *_a: seen.append(sql.split()[0]))
        prepared.execute_in_turn(conn, [(ADD, {"name": "c", "at": AT, "size": 1, "big": True})], commit=True)
        assert conn.connection.driver_connection.info.transaction_status != 0  # open until SQLAlchemy commits
        conn.rollback()
        assert conn.execute(select(things.c.id)).all() == []
    assert seen[0] == "INSERT"


late = Table("late", MetaData(), Column("n", Integer), UniqueConstraint("n", deferrable=True, initially="DEFERRED"))
ADD_LATE = insert(late).values(n=bindparam("n"))


def test_a_commit_that_fails_with_the_statements_is_sqlalchemys_error_and_keeps_nothing(pg_engine, caplog):
    late.create(pg_engine)
    commits = _commits()
    with pg_engine.connect() as conn:
        conn.begin()
        with pytest.raises(IntegrityError):  # the deferred check fails the COMMIT itself
            prepared.execute_in_turn(conn, [(ADD_LATE, {"n": 1}), (ADD_LATE, {"n": 1})], commit=True)
        conn.rollback()
        conn.begin()
        with pytest.raises(IntegrityError):  # a statement fails: the COMMIT after it does not run
            prepared.execute_in_turn(conn, [(ADD, {"name": "c", "at": None, "size": 1, "big": None}),
                                            (ADD, {"name": "c", "at": None, "size": 1, "big": None})], commit=True)
        conn.rollback()
        assert conn.execute(select(late.c.n)).all() == [] and conn.execute(select(things.c.id)).all() == []
        conn.rollback()
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert _commits() == commits  # no commit observed: none happened


def test_after_a_late_unit_the_connection_is_as_before(pg_engine):
    with pg_engine.connect() as conn:
        with prepared.begin_late(conn):
            with conn.begin():
                prepared.execute(conn, ADD, {"name": "a", "at": AT, "size": 1, "big": True})
        assert conn.connection.driver_connection.autocommit is False
        with conn.begin():  # psycopg's own BEGIN again, and no second one of ours
            prepared.execute(conn, ADD, {"name": "b", "at": AT, "size": 1, "big": True})
            conn.rollback()
        with prepared.begin_late(conn):
            conn.begin()
            prepared.execute(conn, ADD, {"name": "c", "at": AT, "size": 1, "big": True})
            # left open by mistake: the connection is discarded, not pooled in autocommit
        assert conn.invalidated
    with pg_engine.connect() as conn:
        assert conn.execute(select(things.c.name)).scalars().all() == ["a"]
