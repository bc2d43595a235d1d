"""Rows written by hand into a database migrated to an older revision, for tests of a later migration."""
from __future__ import annotations

import os
from contextlib import nullcontext
from pathlib import Path
from typing import Any, Callable

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

from core.migrate import upgrade
from tests.support.databases import pg_schema

AT = "2026-01-01 00:00:00"
BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


def migrated(backend: str, tmp_path: Path, *, start: str, write: Callable[[Connection], None], read: str,
             to: str = "head") -> list[Any]:
    """An empty database on `backend` migrated to `start`, `write`'s rows put in, migrated on to `to`: the rows of
    the query `read` then."""
    with pg_schema() if backend == "postgresql" else nullcontext(f"sqlite:///{tmp_path / 'm.sqlite3'}") as url:
        upgrade(url, start)
        engine = create_engine(url, poolclass=NullPool)
        try:
            with engine.begin() as conn:
                write(conn)
            upgrade(url, to)
            with engine.connect() as conn:
                return list(conn.execute(text(read)))
        finally:
            engine.dispose()


def users(conn: Connection, ids: list[int], *, unread_total: int | None = None) -> None:
    """Users with an inbox counter (and `unread_total` when the revision has the column)."""
    for uid in ids:
        conn.execute(text("INSERT INTO users (id, username, password_hash, nickname, bio, role, rating_count, "
                          "rating_total, created_at) VALUES (:id, :name, 'x', :name, '', 'user', 0, 0, :at)"),
                     {"id": uid, "name": f"u{uid}", "at": AT})
        if unread_total is None:
            conn.execute(text("INSERT INTO chat_inbox_counters (user_id, last_pos) VALUES (:id, 9)"), {"id": uid})
        else:
            conn.execute(text("INSERT INTO chat_inbox_counters (user_id, last_pos, unread_total) "
                              "VALUES (:id, 9, :total)"), {"id": uid, "total": unread_total})


def groups(conn: Connection, rows: list[tuple[int, str, str | None, int]]) -> None:
    """Groups (id, kind, direct_key, last_seq)."""
    for gid, kind, key, last_seq in rows:
        conn.execute(text("INSERT INTO chat_groups (id, kind, direct_key, description, read_only, last_seq, "
                          "last_message_at, created_at) VALUES (:id, :kind, :key, '', false, :seq, :at, :at)"),
                     {"id": gid, "kind": kind, "key": key, "seq": last_seq, "at": AT})


def members(conn: Connection, rows: list[tuple[int, int, int, int | None]], *, muted: set[tuple[int, int]] = frozenset()
            ) -> None:
    """Members (group, user, read marker, hidden until); `muted` (group, user) pairs where the revision has it."""
    for gid, uid, read, hidden in rows:
        conn.execute(text("INSERT INTO chat_members (group_id, user_id, role, joined_at, last_read_seq, activity_at, "
                          "hidden_until_seq) VALUES (:g, :u, 'member', :at, :r, :at, :h)"),
                     {"g": gid, "u": uid, "r": read, "h": hidden, "at": AT})
    for gid, uid in sorted(muted):
        conn.execute(text("UPDATE chat_members SET muted = true WHERE group_id = :g AND user_id = :u"),
                     {"g": gid, "u": uid})
