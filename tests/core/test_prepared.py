"""core.prepared runs a statement as Connection.execute would: same SQL, same parameter conversion, SQLAlchemy's
errors and events; it refuses statements it cannot run faithfully."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, bindparam, create_engine, event, insert
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core import prepared
from core.db import UTCDateTime

meta = MetaData()
things = Table("things", meta, Column("id", Integer, primary_key=True), Column("name", String(20), unique=True),
               Column("at", UTCDateTime), Column("size", Integer, default=7))
ADD = insert(things).values(name=bindparam("name"), at=bindparam("at"), size=bindparam("size")).returning(things.c.id)
NAMED = select(things.c.id, things.c.at).where(things.c.name == bindparam("name"))


@pytest.fixture()
def conn():
    engine = create_engine("sqlite://")
    meta.create_all(engine)
    with engine.connect() as c:
        yield c


def test_values_are_converted_as_sqlalchemy_would(conn):
    at = datetime(2026, 12, 4, 23, 30, 1, 250000, tzinfo=timezone.utc)
    new_id = prepared.execute(conn, ADD, {"name": "伞", "at": at, "size": 3}).scalar_one()
    conn.execute(ADD, {"name": "umbrella", "at": at, "size": 3})
    stored = conn.exec_driver_sql("SELECT name, at FROM things ORDER BY id").all()
    assert stored[0][1] == stored[1][1]  # the datetime stored as the same text
    assert conn.execute(NAMED, {"name": "伞"}).one() == (new_id, at)


def test_errors_are_sqlalchemys_and_events_fire(conn):
    seen = []
    event.listen(conn, "before_cursor_execute", lambda *args: seen.append(args[2]))
    prepared.execute(conn, ADD, {"name": "a", "at": None, "size": 1})
    with pytest.raises(IntegrityError):
        prepared.execute(conn, ADD, {"name": "a", "at": None, "size": 1})
    assert len(seen) == 2 and seen[0].startswith("INSERT INTO things")


def test_a_statement_it_cannot_run_faithfully_is_refused(conn):
    with pytest.raises(ValueError, match="default"):
        prepared.execute(conn, insert(things).values(name=bindparam("name")), {"name": "b"})  # size's default
    with pytest.raises(ValueError, match="expanding"):
        prepared.execute(conn, select(things.c.id).where(things.c.id.in_(bindparam("ids", expanding=True))),
                         {"ids": [1]})
