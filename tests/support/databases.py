"""Private databases for tests: a throwaway PostgreSQL schema per run, so parallel runs never collide."""
from __future__ import annotations

import os
import socket
import uuid
from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import create_engine, text
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
