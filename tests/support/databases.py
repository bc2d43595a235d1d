"""Private databases for tests: a throwaway PostgreSQL schema per run, so parallel runs never collide."""
from __future__ import annotations

import os
import socket
import tempfile
import uuid
from contextlib import contextmanager
from typing import Any, Iterator

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool

from config.settings import normalize_database_url


@contextmanager
def pg_schema(base_url: str | None = None, prefix: str = "pytest") -> Iterator[str]:
    """A PostgreSQL URL (default: TEST_DATABASE_URL) whose search_path is a fresh schema, dropped afterwards."""
    base = normalize_database_url(base_url or os.environ["TEST_DATABASE_URL"])
    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, poolclass=NullPool)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RoundTrips:
    """The client/server messages of PostgreSQL connections, as libpq traces them (`pg_round_trips`)."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def __len__(self) -> int:
        """Round trips: each ends with the server's ReadyForQuery (after a Sync, or a plain Query)."""
        return sum(1 for m in self.messages if m.startswith("B") and "\tReadyForQuery\t" in m)


@contextmanager
def pg_round_trips(engine: Engine) -> Iterator[RoundTrips]:
    """Trace every connection `engine` hands out meanwhile (libpq's PQtrace); read the result after the block."""
    from psycopg import pq

    trips = RoundTrips()
    traced: list[Any] = []

    def trace(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        dbapi_connection.pgconn.trace(out.fileno())
        dbapi_connection.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)
        traced.append(dbapi_connection)

    with tempfile.TemporaryFile() as out:
        event.listen(engine, "checkout", trace)
        try:
            yield trips
        finally:
            event.remove(engine, "checkout", trace)
            for dbapi_connection in traced:
                if not dbapi_connection.closed:
                    dbapi_connection.pgconn.untrace()  # flushes what it wrote
            out.seek(0)
            trips.messages = out.read().decode().splitlines()
