"""core.pg_pipeline on PostgreSQL: a statement is prepared once per connection and prepared afresh when the
server may have lost it (psycopg's DEALLOCATE ALL after a rollback, or anyone's), without leaking names; an
interrupted round trip leaves no connection behind with answers unread."""
from __future__ import annotations

import os

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, bindparam, create_engine, insert, select, text
from sqlalchemy.exc import ProgrammingError

from core import pg_pipeline, prepared
from tests.support.databases import pg_schema

meta = MetaData()
things = Table("things", meta, Column("id", Integer, primary_key=True), Column("name", String(20)))
ADD = insert(things).values(name=bindparam("name")).returning(things.c.id)
NAMED = select(things.c.id).where(things.c.name == bindparam("name"))


@pytest.fixture()
def engine():
    if not os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("PostgreSQL only: psycopg's prepared statements")
    with pg_schema() as url:
        engine = create_engine(url, pool_size=1, max_overflow=0)
        pg_pipeline.watch(engine)
        meta.create_all(engine)
        yield engine
        engine.dispose()


def _ours(conn) -> list[tuple[str, int]]:
    """This module's prepared statements on the connection: name and generic plans run."""
    rows = [tuple(r) for r in conn.exec_driver_sql(
        "SELECT name, generic_plans FROM pg_prepared_statements WHERE name LIKE 'paipai%%' ORDER BY name").all()]
    conn.commit()
    return rows


def _named(conn, name: str) -> list:
    conn.begin()
    rows = prepared.execute(conn, NAMED, {"name": name})
    conn.commit()
    return rows


def test_a_statement_is_prepared_once_per_connection(engine):
    with engine.connect() as conn:
        conn.exec_driver_sql("SET plan_cache_mode = force_generic_plan")
        conn.commit()
        for _ in range(3):
            assert _named(conn, "a") == []
        [(_name, generic)] = _ours(conn)
        assert generic == 3  # prepared on the first call: every call ran its one plan


def test_after_psycopg_deallocates_everything_on_a_rollback_the_statements_are_prepared_again(engine):
    with engine.connect() as conn:
        driver = conn.connection.driver_connection
        driver.prepare_threshold = 0  # psycopg prepares its own statements at once ...
        conn.execute(select(things.c.id)).all()
        conn.rollback()  # ... and after a rollback of an open transaction sends DEALLOCATE ALL
        _named(conn, "a")
        [before] = _ours(conn)
        conn.execute(select(things.c.id)).all()
        conn.rollback()
        assert _ours(conn) == []  # psycopg dropped ours with its own
        assert _named(conn, "a") == []
        [after] = _ours(conn)
        assert after[0] != before[0]


def test_a_rollback_that_deallocates_nothing_leaves_no_name_behind(engine):
    with engine.connect() as conn:
        conn.connection.driver_connection.prepare_threshold = None  # psycopg prepares nothing: no DEALLOCATE ALL
        _named(conn, "a")
        conn.execute(select(things.c.id)).all()
        conn.rollback()  # ours may be gone: the next round trip closes the old name first
        _named(conn, "a")
        assert len(_ours(conn)) == 1


def test_a_statement_dropped_behind_its_back_fails_once_then_is_prepared_again(engine):
    with engine.connect() as conn:
        _named(conn, "a")
        conn.connection.driver_connection.execute("DEALLOCATE ALL")
        conn.begin()
        with pytest.raises(ProgrammingError, match="does not exist"):
            prepared.execute(conn, NAMED, {"name": "a"})
        conn.rollback()
        assert _named(conn, "a") == []


class Interrupted(BaseException):
    """As gevent's Timeout or a killed greenlet: not an Exception."""


def test_an_interrupted_round_trip_closes_the_connection_and_the_pool_drops_it(engine, monkeypatch):
    with engine.connect() as conn:
        conn.begin()
        driver = conn.connection.driver_connection

        def interrupted(gen, *args, **kwargs):
            next(gen)  # sent; the answers are never read
            raise Interrupted()
        monkeypatch.setattr(driver, "wait", interrupted)
        with pytest.raises(Interrupted):
            prepared.execute_in_turn(conn, [(ADD, {"name": "a"}), (NAMED, {"name": "a"})])
        assert driver.closed and conn.invalidated
    with engine.connect() as conn:  # a new connection; the interrupted unit kept nothing
        assert conn.execute(select(things.c.name)).all() == []
        assert conn.execute(text("SELECT 1")).scalar_one() == 1


def test_a_value_psycopg_cannot_send_fails_before_anything_is_sent(engine):
    with engine.connect() as conn:
        conn.begin()
        prepared.execute(conn, ADD, {"name": "a"})
        with pytest.raises(ProgrammingError, match="cannot adapt"):
            prepared.execute_in_turn(conn, [(ADD, {"name": "b"}), (NAMED, {"name": object()})])
        # the same transaction goes on: nothing of that round trip was sent, the connection is as it was
        assert prepared.execute(conn, NAMED, {"name": "a"}) != [] and prepared.execute(conn, NAMED, {"name": "b"}) == []
        conn.commit()
