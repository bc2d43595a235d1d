"""Database engine, the declarative base, the per-request session and the units of work that publish
their events after commit."""
from __future__ import annotations

import logging
import threading
import time
from contextlib import contextmanager, nullcontext
from datetime import datetime, timezone
from functools import partial
from typing import Any, Callable, Iterator

from flask import Flask, current_app
from sqlalchemy import DateTime, MetaData, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.exc import DisconnectionError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session, sessionmaker
from sqlalchemy.types import TypeDecorator

from core import jsontext, pg_pipeline, pg_wait, prepared

log = logging.getLogger(__name__)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(timezone.utc) if value is not None else None

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def dialect_insert(s: Session, table: Any) -> Any:
    """INSERT with ON CONFLICT support for the session's backend (PostgreSQL or SQLite)."""
    return (postgresql if s.get_bind().dialect.name == "postgresql" else sqlite).insert(table)


WRITE_OPTION = "paipai_write"
#: a connection that runs each statement as its own transaction (`Database.read`); SQLite's BEGIN is ours to skip
AUTOCOMMIT_OPTION = "paipai_autocommit"


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    # We emit BEGIN ourselves (see _sqlite_begin), so switch pysqlite's own off.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


_BEGIN = "paipai_begin"


def _sqlite_begin(conn) -> None:
    # A unit of work takes SQLite's write lock up front (BEGIN IMMEDIATE): a deferred
    # transaction that reads, then writes, fails with SQLITE_BUSY instead of waiting
    # when another writer got in between. The listener sees the execution options,
    # _sqlite_do_begin (whose errors SQLAlchemy wraps) runs the statement.
    options = conn.get_execution_options()
    conn.connection.info[_BEGIN] = (None if options.get(AUTOCOMMIT_OPTION)
                                    else "BEGIN IMMEDIATE" if options.get(WRITE_OPTION) else "BEGIN")


def _sqlite_do_begin(dbapi_connection) -> None:
    statement = dbapi_connection.info.pop(_BEGIN, "BEGIN")
    if statement:
        dbapi_connection.driver_connection.execute(statement)


def _postgres_settings(dbapi_conn, _record) -> None:
    # Prepared statements (psycopg prepares a query it has run five times) keep one generic plan. Left to
    # choose, PostgreSQL plans every `= ANY(:ids)` read again on each call: it prices a custom plan for
    # the array it is given below the generic plan's guess at an unknown array (measured: planning was
    # three quarters of the chat send path's reads, bench/pg_plans.py).
    dbapi_conn.execute("SET plan_cache_mode = force_generic_plan")
    dbapi_conn.commit()


#: JSON columns are written and read with the hot path's codec (orjson): the same text as json.dumps's compact form
JSON_CODEC = {"json_serializer": jsontext.dumps, "json_deserializer": jsontext.loads}


def make_engine(url: str) -> Engine:
    """An engine tuned for its backend: WAL and a busy timeout on SQLite; on PostgreSQL pings after idling and, in
    a gevent worker, psycopg waiting through core/pg_wait.py."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10}, **JSON_CODEC)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        engine.dialect.do_begin = _sqlite_do_begin  # type: ignore[method-assign]
        return engine
    pg_wait.install()  # in a gevent worker
    # Fail fast (503) rather than hang when the database host does not answer.
    engine = create_engine(url, pool_size=10, max_overflow=20, connect_args={"connect_timeout": 5}, **JSON_CODEC)
    event.listen(engine, "connect", _postgres_settings)
    pg_pipeline.watch(engine)
    event.listen(engine, "checkin", _note_checkin)
    event.listen(engine, "checkout", partial(_ping_if_idle, engine.dialect))
    return engine


#: A pooled connection idle longer than this is pinged before use. One in use within it is trusted: if the
#: server went away meanwhile its next statement fails as a disconnect, which invalidates the whole pool, so
#: the next unit of work connects afresh. (SQLAlchemy's `pool_pre_ping` pings on every checkout: a round
#: trip per request and per send batch.)
PING_IDLE_S = 2.0
_CHECKED_IN = "paipai_checked_in"


def _note_checkin(_dbapi_conn, record) -> None:
    record.info[_CHECKED_IN] = time.monotonic()


def _ping_if_idle(dialect: Dialect, dbapi_conn, record, _proxy) -> None:
    idle_since = record.info.get(_CHECKED_IN)
    if idle_since is None or time.monotonic() - idle_since <= PING_IDLE_S:
        return  # just connected, or used a moment ago
    try:
        dialect.do_ping(dbapi_conn)  # SQLAlchemy's own ping: no transaction left open
    except Exception as exc:  # the pool drops this connection and checks out another (a new one if need be)
        raise DisconnectionError("a pooled connection stopped answering") from exc


#: an event raised in a unit of work: a small dict with a `type` (chat/events.py lists them)
Event = dict[str, Any]
#: what publishes one commit's events (at most one per app; chat.ws sets it)
Publisher = Callable[[list[Event]], None]


class Database:
    """Holds one engine and one scoped session factory per Flask app.

    `transaction()` and `core_transaction()` are the units of work: each collects the events raised
    inside it (`on_commit`) and hands them to the app's publisher after it commits, or drops them when
    it rolls back (Zulip's send_event_on_commit), so nothing is announced that is not stored.
    """

    def __init__(self) -> None:
        # Open units of work of this thread (greenlet under gevent), innermost last: their pending events.
        self._units = threading.local()

    def init_app(self, app: Flask) -> None:
        engine = make_engine(app.config["DATABASE_URL"])
        factory = sessionmaker(bind=engine, expire_on_commit=False)
        app.extensions["db"] = _AppDatabase(engine, scoped_session(factory), None, _autocommit(engine))
        # Both hooks: a request inside an outer app context (tests, CLI) must not
        # keep its identity map for the next request.
        app.teardown_request(lambda _exc: self.remove())
        app.teardown_appcontext(lambda _exc: self.remove())

    @property
    def engine(self) -> Engine:
        return current_app.extensions["db"].engine

    @property
    def session(self) -> Session:
        return current_app.extensions["db"].session()

    def remove(self) -> None:
        """Close this thread's session and return its connection to the pool.

        A connection the server already killed (failover, pg_terminate_backend) can raise
        while being reset; it is then discarded, never surfaced to the caller.
        """
        scoped = current_app.extensions["db"].session
        if not scoped.registry.has():
            return  # this thread made no session (most socket frames): nothing to close
        try:
            scoped.remove()
        except SQLAlchemyError:
            log.warning("discarding a session whose connection failed while closing", exc_info=True)
            try:
                scoped().invalidate()
            finally:
                scoped.registry.clear()

    def set_publisher(self, app: Flask, publish: Publisher) -> None:
        """Who publishes the app's committed events (replacing any before)."""
        app.extensions["db"].publish = publish

    def on_commit(self, event: Event) -> None:
        """Publish `event` once the innermost open unit of work commits; never if it rolls back."""
        stack = getattr(self._units, "stack", None)
        if not stack:
            raise RuntimeError("events are raised inside db.transaction() or db.core_transaction()")
        stack[-1].append(event)

    @contextmanager
    def _collecting(self) -> Iterator[list[Event]]:
        """Open one unit's event list; the caller publishes it after commit."""
        stack = self._units.__dict__.setdefault("stack", [])
        events: list[Event] = []
        stack.append(events)
        try:
            yield events
        finally:
            stack.pop()

    def _publish(self, events: list[Event]) -> None:
        """Hand committed events to the app's publisher; a failure is logged, never raised: the work is stored."""
        publish = current_app.extensions["db"].publish
        if not events or publish is None:
            return
        try:
            publish(events)
        except Exception:
            log.exception("publishing %d committed event(s) failed", len(events))

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A Core connection for one read outside any unit of work, each statement its own transaction
        (no BEGIN and no ROLLBACK: on PostgreSQL two round trips fewer). Every request's token lookup."""
        # begun, though autocommit sends no BEGIN: core.prepared runs a begun connection's statements directly
        with current_app.extensions["db"].autocommit.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """Run a unit of work: commit on success, roll back on any error.

        Any implicit read transaction is closed first so the unit of work starts
        fresh, as a write transaction (on SQLite: holding the write lock from BEGIN).
        """
        session = self.session
        if session.in_transaction():
            session.commit()
        session.connection(execution_options={WRITE_OPTION: True})
        with self._collecting() as events:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise
        self._publish(events)

    @contextmanager
    def core_transaction(self, *, begin_late: bool = False) -> Iterator[Connection]:
        """A unit of work on a bare Core connection, without the ORM session (the message send path):
        commit on success, roll back on any error; on SQLite it holds the write lock from BEGIN.

        The session's implicit read transaction is closed first, as in `transaction`: its connection
        goes back to the pool, so a request never holds two (concurrent requests would exhaust it).
        `begin_late=True` (the send batch): on PostgreSQL the BEGIN goes in the first statement's round
        trip, not one of its own; that statement must be one of `core.prepared`'s (`prepared.begin_late`).
        """
        session = self.session
        if session.in_transaction():
            session.commit()
        engine = self.engine
        with self._collecting() as events:
            with engine.connect() as conn:
                conn.execution_options(**{WRITE_OPTION: True})
                late = begin_late and engine.dialect.name == "postgresql"
                with prepared.begin_late(conn) if late else nullcontext(), conn.begin():
                    yield conn
        self._publish(events)


def _autocommit(engine: Engine) -> Engine:
    """The engine's pool, handing out connections in autocommit (SQLite's, by skipping our BEGIN: a
    driver-level isolation change there costs a PRAGMA per checkout)."""
    if engine.dialect.name == "sqlite":
        return engine.execution_options(**{AUTOCOMMIT_OPTION: True})
    return engine.execution_options(isolation_level="AUTOCOMMIT")


class _AppDatabase:
    def __init__(self, engine: Engine, session: scoped_session, publish: Publisher | None,
                 autocommit: Engine) -> None:
        self.engine = engine
        self.session = session
        self.publish = publish
        self.autocommit = autocommit


db = Database()
