"""Statements on psycopg's libpq connection in one round trip: sent in one write, answered in one read.

A statement run through a psycopg cursor in pipeline mode is a cursor, a query conversion, a prepared-
statement lookup and a socket write of its own, with a wait for the socket before and after it, and each
write wakes the server's backend again. Here a round trip's commands go to libpq's buffer, then one Sync
and one write; the answers are read together. Values are dumped and rows loaded by psycopg's own adapters
for the connection (`psycopg.adapt.Transformer`), as its cursors do, rows in text format as theirs are.
Each statement is prepared on the connection on its first use, per parameter types, as psycopg prepares a
repeated one (PostgreSQL then keeps one generic plan: `plan_cache_mode` in core/db.py).

psycopg deallocates every prepared statement of a connection (DEALLOCATE ALL) when it rolls back a
transaction after preparing statements of its own, or runs DROP, ALTER or DISCARD ALL: a rollback of an open
transaction (`watch`) and a missing statement forget the connection's names here, and the next round trip
closes them (a protocol-level Close of a missing statement is no error) and prepares afresh.
"""
from __future__ import annotations

import itertools
from functools import partial
from typing import Any, Callable, Generator, NamedTuple, Sequence
from weakref import WeakKeyDictionary

from psycopg import errors, pq
from psycopg.adapt import PyFormat, Transformer
from psycopg.waiting import READY_R, WAIT_R, WAIT_RW
from sqlalchemy import event
from sqlalchemy.engine import Engine

ExecStatus = pq.ExecStatus


class Statement(NamedTuple):
    """A statement's SQL ($1, $2, … placeholders), its parameters in order, and whether it returns rows."""

    sql: bytes
    params: Sequence[Any]
    returns_rows: bool


#: per connection, (SQL, parameter types) → the name it is prepared under there. Prepared statements live
#: as long as their connection (a rollback keeps them); a new connection is a new key.
_prepared: WeakKeyDictionary[Any, dict[tuple[bytes, tuple[int, ...]], bytes]] = WeakKeyDictionary()
#: per connection, names to close before anything else runs there (they may or may not exist still)
_stale: WeakKeyDictionary[Any, list[bytes]] = WeakKeyDictionary()
_numbers = itertools.count(1)  # names of prepared statements, unique in the process (next() is atomic)
#: PostgreSQL's "prepared statement does not exist"
_NO_SUCH_STATEMENT = "26000"


def watch(engine: Engine) -> None:
    """Forget a connection's prepared statements whenever SQLAlchemy rolls back an open transaction on it."""
    event.listen(engine, "rollback", _connection_rolling_back)
    event.listen(engine.pool, "reset", _pool_resetting)


def _connection_rolling_back(conn: Any) -> None:
    if not conn.invalidated:  # an invalidated one is discarded with its statements
        _rolling_back(conn.connection.driver_connection)


def _pool_resetting(driver: Any, _record: Any, state: Any) -> None:
    if not state.transaction_was_reset:
        _rolling_back(driver)


def _rolling_back(driver: Any) -> None:
    # psycopg sends no ROLLBACK (and so no DEALLOCATE ALL) for a connection with no transaction open
    if not driver.closed and driver.info.transaction_status != pq.TransactionStatus.IDLE:
        forget(driver)


def forget(driver: Any) -> None:
    """The connection's statements may be gone: prepare them afresh, closing the old names first."""
    names = _prepared.pop(driver, None)
    if names:
        _stale.setdefault(driver, []).extend(names.values())


def run(driver: Any, statements: Sequence[Statement], *, head: Sequence[bytes] = (),
        tail: Sequence[bytes] = ()) -> list[list[tuple]]:
    """Send the commands `head` (e.g. BEGIN), the statements and the commands `tail` (e.g. COMMIT) in one
    write and read their answers; each statement's rows.

    The first command that failed raises its psycopg error (those after it did not run); a lost connection
    raises psycopg's OperationalError, the connection then broken."""
    with driver.lock:
        tx: Any = Transformer(driver)
        known = _prepared.setdefault(driver, {})
        plan = _plan(tx, known, head, statements, tail)  # values dumped first: a value that fails sends nothing
        pgconn = driver.pgconn
        pgconn.enter_pipeline_mode()
        answered = False
        try:
            closing = _stale.pop(driver, ())
            for name in closing:
                pgconn.send_close_prepared(name)
            for step in plan:
                step.send(pgconn)
            pgconn.pipeline_sync()
            results = driver.wait(_round_trip(pgconn))
            answered = True
        finally:
            # Left with answers unread (the wait was interrupted), pipeline mode cannot be left: the connection
            # is then closed, and its pool drops it.
            if pgconn.status == pq.ConnStatus.OK:
                if answered:
                    pgconn.exit_pipeline_mode()
                else:
                    driver.close()
    failed = None
    rows: list[list[tuple]] = []
    for (_, key, name, statement), result in zip(plan, results[len(closing):], strict=True):
        if result.status == ExecStatus.FATAL_ERROR:
            if failed is None:
                failed = result
        elif key is not None and result.status == ExecStatus.COMMAND_OK:
            known[key] = name  # prepared, whatever comes after
        elif statement is not None and failed is None:
            if statement.returns_rows:
                tx.set_pgresult(result)
                rows.append(tx.load_rows(0, result.ntuples, tuple))
            else:
                rows.append([])
    if failed is not None:
        error = errors.error_from_result(failed, encoding=driver.info.encoding)
        if error.sqlstate == _NO_SUCH_STATEMENT:
            forget(driver)
        raise error
    return rows


class _Step(NamedTuple):
    """One command to queue: a statement to prepare (its key and name), one to run, or a plain command."""

    send: Callable[[Any], None]
    key: tuple[bytes, tuple[int, ...]] | None = None  # a statement prepared: what it prepares, under `name`
    name: bytes = b""
    statement: Statement | None = None  # a statement run


def _plan(tx: Any, known: dict, head: Sequence[bytes], statements: Sequence[Statement],
          tail: Sequence[bytes]) -> list[_Step]:
    """Every command of the round trip in order, each statement's values dumped, first uses prepared."""
    plan = [_Step(partial(_command, command)) for command in head]
    pending: dict[tuple[bytes, tuple[int, ...]], bytes] = {}
    for statement in statements:
        values = tx.dump_sequence(statement.params, [PyFormat.AUTO] * len(statement.params))
        types, formats = tuple(tx.types), list(tx.formats)
        key = (statement.sql, types)
        name = known.get(key) or pending.get(key) or b""
        if not name:
            name = pending[key] = f"paipai_{next(_numbers)}".encode()
            plan.append(_Step(partial(_prepare, name, statement.sql, types), key, name))
        plan.append(_Step(partial(_run_prepared, name, values, formats), statement=statement))
    plan += [_Step(partial(_command, command)) for command in tail]
    return plan


def _command(command: bytes, pgconn: Any) -> None:
    pgconn.send_query_params(command, None)


def _prepare(name: bytes, sql: bytes, types: Sequence[int], pgconn: Any) -> None:
    pgconn.send_prepare(name, sql, param_types=types)


def _run_prepared(name: bytes, values: Sequence[Any], formats: Sequence[Any], pgconn: Any) -> None:
    pgconn.send_query_prepared(name, values, param_formats=formats)


def _round_trip(pgconn: Any) -> Generator[int, int, list[Any]]:
    """psycopg's wait protocol: write the buffer, then read one result per command until the Sync's."""
    while pgconn.flush():
        if (yield WAIT_RW) & READY_R:
            pgconn.consume_input()
    results: list[Any] = []
    while True:
        while pgconn.is_busy():
            if (yield WAIT_R):
                pgconn.consume_input()
        result = pgconn.get_result()
        if result is None:  # the end of one command's results
            continue
        if result.status == ExecStatus.PIPELINE_SYNC:
            return results
        results.append(result)
