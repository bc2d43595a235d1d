"""Statements compiled once per dialect and run on the driver: the hot path's reads and writes.

`Connection.execute` makes a cache key of the statement, looks its compiled form up, processes every
parameter and builds a result's metadata from the cursor on each call: about 25 µs a statement, more than
SQLite's own work for most of a send's statements. Here a statement (built once, at import, from the table
objects) is compiled on its first use with a dialect; a call's values are converted by the bind processors
SQLAlchemy would use and its rows by the same result processors (SQLite's datetimes and booleans), as named
tuples. Inside a begun transaction nobody watches statements on, the statement goes to the driver (SQLite:
its cursor; psycopg: libpq's connection, `core.pg_pipeline`) and a driver error is handed to SQLAlchemy's own
handling (the same wrapped exception, a broken connection invalidated with its pool); otherwise (no
transaction yet, statement events or SQL logging on) it runs through `exec_driver_sql`, so SQLAlchemy begins
it and every listener sees it. On PostgreSQL statements that run in turn (`execute_in_turn`) share one round
trip, with the unit's BEGIN (psycopg's own, or a late one: `begin_late`) and its COMMIT: a send batch is
three round trips, not five.
"""
from __future__ import annotations

import copy
import functools
import logging
import time
from collections import namedtuple
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Sequence, cast

from psycopg.pq import TransactionStatus
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

from core import pg_pipeline
from core.metrics import COMMIT_LATENCY

Processor = Callable[[Any], Any]
log = logging.getLogger(__name__)
_SQL_LOG = logging.getLogger("sqlalchemy.engine.Engine")  # where SQLAlchemy logs statements (echo, or set to INFO)


class _Compiled:
    """One statement's SQL for one dialect, how to turn a call's values into the driver's parameters and
    the driver's rows into named tuples."""

    def __init__(self, statement: ClauseElement, dialect: Dialect) -> None:
        compiled = cast(SQLCompiler, statement.compile(dialect=dialect))
        if compiled.insert_prefetch or compiled.update_prefetch:
            raise ValueError("a Python-side column default is filled per call by SQLAlchemy: give the column's "
                             "value in the statement, or leave it to its server default (include_defaults=False)")
        self.statement = statement
        self.sql = compiled.string
        self.positional = compiled.positional
        names = (compiled.positiontup or []) if compiled.positional else list(compiled.binds)
        self.defaults: dict[str, Any] = {}
        self.order: list[tuple[str, Processor | None]] = []
        for name in names:
            bind = compiled.binds[name]
            if bind.expanding:
                raise ValueError(f"{name}: an expanding IN is rewritten per call; pass a list or JSON instead")
            if not bind.required:
                self.defaults[name] = bind.effective_value
            self.order.append((name, bind.type.dialect_impl(dialect).bind_processor(dialect)))
        if not hasattr(statement, "exported_columns"):
            raise ValueError("a textual statement's rows are unknown here: build it from the table objects")
        columns = list(statement.exported_columns)  # a select's or a RETURNING's columns
        self.returns_rows = bool(columns)
        self.row: Any = namedtuple("Row", [c.key for c in columns], rename=True)  # type: ignore[misc]
        self.processors = [(i, p) for i, c in enumerate(columns)
                           if (p := c.type.dialect_impl(dialect).result_processor(dialect, None)) is not None]
        # psycopg: the SQL as libpq takes it ($1, $2, …; a name used twice is one parameter), for core.pg_pipeline
        self.dollar_sql = b""
        self.dollar_order: list[tuple[str, Processor | None]] = []
        if dialect.driver == "psycopg":
            dollar = cast(SQLCompiler, statement.compile(dialect=_numeric_dollar(dialect)))
            self.dollar_sql = dollar.string.encode()
            processors = dict(self.order)
            self.dollar_order = [(name, processors[name]) for name in dollar.positiontup or []]

    def _converted(self, params: dict[str, Any], order: list[tuple[str, Processor | None]]) -> list[Any]:
        values = {**self.defaults, **params} if self.defaults else params
        return [values[name] if process is None else process(values[name]) for name, process in order]

    def arguments(self, params: dict[str, Any]) -> tuple | dict[str, Any]:
        converted = self._converted(params, self.order)
        return tuple(converted) if self.positional else dict(zip((name for name, _ in self.order), converted))

    def pipelined(self, params: dict[str, Any]) -> pg_pipeline.Statement:
        """The call as core.pg_pipeline runs it."""
        return pg_pipeline.Statement(self.dollar_sql, self._converted(params, self.dollar_order), self.returns_rows)

    def rows(self, raw: Sequence[Sequence[Any]]) -> list[Any]:
        make = self.row._make
        if not self.processors:
            return [make(r) for r in raw]
        out = []
        for r in raw:
            values = list(r)
            for i, process in self.processors:
                values[i] = process(values[i])
            out.append(make(values))
        return out


@functools.lru_cache(maxsize=None)
def _numeric_dollar(dialect: Dialect) -> Dialect:
    """The dialect as it would compile for libpq's own placeholders ($1, $2, …)."""
    dollar = copy.copy(dialect)
    dollar.paramstyle, dollar.positional = "numeric_dollar", True
    return dollar


#: the execution option of a connection whose unit of work begins late (`begin_late`)
BEGIN_LATE = "paipai_begin_late"

_cache: dict[tuple[int, str, str], _Compiled] = {}


def _compiled(conn: Connection, statement: ClauseElement) -> _Compiled:
    dialect = conn.dialect
    key = (id(statement), dialect.name, dialect.driver)  # the driver sets the parameter style
    compiled = _cache.get(key)
    if compiled is None or compiled.statement is not statement:
        compiled = _cache[key] = _Compiled(statement, dialect)
    return compiled


def execute_in_turn(conn: Connection, calls: Sequence[tuple[ClauseElement, dict[str, Any]]], *,
                    commit: bool = False) -> list[list[Any]]:
    """Run the statements one after the other, each starting once the one before ended (so each sees what the
    one before locked or wrote), in one round trip where the driver pipelines (psycopg: `core.pg_pipeline`;
    a unit's late BEGIN, `begin_late`, goes first in it); each one's rows.

    `commit=True` says these statements end the unit of work: where they are pipelined, its COMMIT goes in the
    same round trip (observed as the commit, `paipai_db_commit_seconds`) and the transaction's own commit
    then finds nothing to do; elsewhere that commit does it, as always. Nothing may run on `conn` after them
    but that commit (a statement would run outside the committed unit)."""
    if not (_pipelines(conn) and _direct(conn)):
        return [execute(conn, statement, params) for statement, params in calls]
    compiled = [(_compiled(conn, statement), params) for statement, params in calls]
    statements = [c.pipelined(params) for c, params in compiled]
    head = [b"BEGIN"] if _begin_pending(conn) or _driver_would_begin(conn) else []
    tail = [b"COMMIT"] if commit else []
    started = time.perf_counter()
    try:
        raws = pg_pipeline.run(conn.connection.driver_connection, statements, head=head, tail=tail)
    except BaseException as exc:  # the first statement that failed; those after it did not run
        sql = b";\n".join([*head, *(st.sql for st in statements), *tail]).decode()
        conn._handle_dbapi_exception(exc, sql, [st.params for st in statements], None, None)
    if commit:
        COMMIT_LATENCY.observe(time.perf_counter() - started)
    return [c.rows(raw) for (c, _), raw in zip(compiled, raws)]


def execute(conn: Connection, statement: ClauseElement, params: dict[str, Any]) -> list[Any]:
    """Run `statement` with `params` (its bound values by name) on `conn`: its rows (none for a plain write)."""
    if not _direct(conn):
        compiled = _compiled(conn, statement)
        if _begin_pending(conn):
            _begin(conn)
        result = conn.exec_driver_sql(compiled.sql, compiled.arguments(params))
        return compiled.rows(result.all() if result.returns_rows else [])
    if _pipelines(conn):
        return execute_in_turn(conn, [(statement, params)])[0]
    compiled = _compiled(conn, statement)
    args = compiled.arguments(params)
    cursor = None
    try:
        cursor = conn.connection.cursor()
        cursor.execute(compiled.sql, args)
        raw = cursor.fetchall() if compiled.returns_rows else []
        cursor.close()
    except BaseException as exc:  # as Connection's own execution: a greenlet killed mid-statement too
        # SQLAlchemy's handling, not a copy of it: the same wrapped error, a disconnect invalidating the
        # connection and the pool's older ones, a non-transactional connection rolled back.
        conn._handle_dbapi_exception(exc, compiled.sql, args, cursor, None)
    return compiled.rows(raw)


@contextmanager
def begin_late(conn: Connection) -> Iterator[None]:
    """Inside, the unit of work begun on `conn` (PostgreSQL) sends its BEGIN with its first statement, which
    must run here (`execute` or `execute_in_turn`), in that statement's round trip.

    The driver is in autocommit meanwhile, so psycopg sends no BEGIN of its own (it would wait for its answer
    first); SQLAlchemy's commit or rollback still ends the transaction (psycopg's commit() and rollback() end
    whatever the server has open). On the way out the driver is as before, or the connection discarded."""
    driver: Any = conn.connection.driver_connection
    conn.execution_options(**{BEGIN_LATE: True})
    driver.autocommit = True
    try:
        yield
    finally:
        conn.execution_options(**{BEGIN_LATE: False})
        if not conn.invalidated:
            try:
                driver.autocommit = False
            except Exception:  # a transaction still open: never pooled in autocommit
                log.warning("discarding a connection whose transaction outlived its unit of work", exc_info=True)
                conn.invalidate()


def _begin_pending(conn: Connection) -> bool:
    """Whether the unit of work on `conn` begins late (`begin_late`) and has not begun yet."""
    return (bool(conn.get_execution_options().get(BEGIN_LATE))
            and cast(Any, conn.connection.driver_connection).info.transaction_status == TransactionStatus.IDLE)


def _driver_would_begin(conn: Connection) -> bool:
    """Whether psycopg would send a BEGIN before a statement of its own: outside autocommit, none begun yet."""
    driver: Any = conn.connection.driver_connection
    return not driver.autocommit and driver.info.transaction_status == TransactionStatus.IDLE


def _begin(conn: Connection) -> None:
    """A late BEGIN on its own, unseen by statement watchers (as psycopg's own BEGIN is)."""
    try:
        cast(Any, conn.connection.driver_connection).execute("BEGIN").close()
    except BaseException as exc:
        conn._handle_dbapi_exception(exc, "BEGIN", (), None, None)


def _pipelines(conn: Connection) -> bool:
    """Whether the connection's statements go through core.pg_pipeline (psycopg)."""
    return conn.dialect.driver == "psycopg"


def _direct(conn: Connection) -> bool:
    """Whether a statement may go to the driver's cursor: its transaction begun by SQLAlchemy (SQLite's BEGIN
    sent; psycopg sends its own with the first statement, or this module a late one; none on an autocommit
    connection), and nothing watching statements (their events, echo, SQLAlchemy's SQL log)."""
    dispatch = conn.dispatch
    return (conn.in_transaction() and not dispatch.before_cursor_execute and not dispatch.after_cursor_execute
            and not conn.engine.echo and not _SQL_LOG.isEnabledFor(logging.INFO))
