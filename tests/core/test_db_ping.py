"""PostgreSQL pool checkouts: a connection idle longer than PING_IDLE_S is pinged first (a dead one is replaced
before anyone uses it); one used a moment ago is handed out without a round trip, and if the server dropped it
meanwhile its next statement fails as a disconnect that invalidates the pool, so the next unit of work connects
afresh."""
from __future__ import annotations

import os

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from config.settings import normalize_database_url
from core import db as core_db
from core.db import make_engine

pytestmark = pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="PostgreSQL pool")


@pytest.fixture()
def engine():
    engine = make_engine(normalize_database_url(os.environ["TEST_DATABASE_URL"]))
    yield engine
    engine.dispose()


@pytest.fixture()
def pings(engine, monkeypatch):
    seen = []
    ping = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping", lambda conn: seen.append(conn) or ping(conn))
    return seen


def _backend_pid(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT pg_backend_pid()")).scalar_one()


def _terminate(pid: int) -> None:
    admin = create_engine(normalize_database_url(os.environ["TEST_DATABASE_URL"]), poolclass=NullPool)
    with admin.begin() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    admin.dispose()


def test_a_connection_used_a_moment_ago_is_not_pinged(engine, pings):
    first = _backend_pid(engine)
    assert _backend_pid(engine) == first and pings == []


def test_an_idle_connection_is_pinged_and_a_dead_one_replaced_before_use(engine, pings, monkeypatch):
    dead = _backend_pid(engine)
    _terminate(dead)
    monkeypatch.setattr(core_db, "PING_IDLE_S", -1.0)  # every pooled connection counts as idle
    assert _backend_pid(engine) != dead and len(pings) == 1


def test_a_connection_dropped_while_trusted_fails_once_and_the_pool_starts_afresh(engine, pings):
    dead = _backend_pid(engine)
    _terminate(dead)
    with pytest.raises(DBAPIError) as raised:
        _backend_pid(engine)
    assert raised.value.connection_invalidated
    assert _backend_pid(engine) != dead and pings == []
