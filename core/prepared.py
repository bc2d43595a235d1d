"""Statements compiled once per dialect and run through `exec_driver_sql`: the hot path's writes.

`Connection.execute` makes a cache key of the statement, looks its compiled form up and processes every
parameter on each call; on a one-message batch that costs more than SQLite's own work. Here the
statement (built once, at import, from the table objects) is compiled on its first use with a dialect and
its parameters are converted by the same bind processors SQLAlchemy would use. SQLAlchemy still wraps
the driver's errors, invalidates a broken connection and fires its events. Rows come back as the driver
returns them, without result processing: for statements that return ids and counts.
"""
from __future__ import annotations

from typing import Any, Callable, Unpack, cast

from sqlalchemy.engine import Connection, CursorResult, Dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.util.typing import TupleAny


class _Compiled:
    """One statement's SQL for one dialect, and how to turn a call's values into the driver's parameters."""

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
        self.order: list[tuple[str, Callable[[Any], Any] | None]] = []
        for name in names:
            bind = compiled.binds[name]
            if bind.expanding:
                raise ValueError(f"{name}: an expanding IN is rewritten per call; pass a list or JSON instead")
            if not bind.required:
                self.defaults[name] = bind.effective_value
            self.order.append((name, bind.type.dialect_impl(dialect).bind_processor(dialect)))

    def arguments(self, params: dict[str, Any]) -> tuple | dict[str, Any]:
        values = {**self.defaults, **params} if self.defaults else params
        converted = [(name, values[name] if process is None else process(values[name])) for name, process in self.order]
        return tuple(value for _, value in converted) if self.positional else dict(converted)


_cache: dict[tuple[int, str, str], _Compiled] = {}


def execute(conn: Connection, statement: ClauseElement, params: dict[str, Any]) -> CursorResult[Unpack[TupleAny]]:
    """Run `statement` with `params` (its bound values by name) on `conn`."""
    dialect = conn.dialect
    key = (id(statement), dialect.name, dialect.driver)  # the driver sets the parameter style
    compiled = _cache.get(key)
    if compiled is None or compiled.statement is not statement:
        compiled = _cache[key] = _Compiled(statement, dialect)
    return conn.exec_driver_sql(compiled.sql, compiled.arguments(params))
