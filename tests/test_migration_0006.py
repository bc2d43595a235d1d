"""Migration 0006 gives existing users their unread badge: the unread counts of their item and direct chats."""
from __future__ import annotations

import os
from contextlib import nullcontext

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from core.migrate import upgrade
from tests.support.databases import pg_schema

AT = "2026-01-01 00:00:00"
BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


@pytest.mark.parametrize("backend", BACKENDS)
def test_existing_unread_counts_become_the_badge(backend, tmp_path):
    with (pg_schema() if backend == "postgresql" else nullcontext(f"sqlite:///{tmp_path / 'm.sqlite3'}")) as url:
        upgrade(url, "0001")
        engine = create_engine(url, poolclass=NullPool)
        try:
            with engine.begin() as conn:
                for uid in (1, 2, 3):
                    conn.execute(text("INSERT INTO users (id, username, password_hash, nickname, bio, role, "
                                      "rating_count, rating_total, created_at) VALUES (:id, :name, 'x', :name, '', "
                                      "'user', 0, 0, :at)"), {"id": uid, "name": f"u{uid}", "at": AT})
                    conn.execute(text("INSERT INTO chat_inbox_counters (user_id, last_pos) VALUES (:id, 9)"),
                                 {"id": uid})
                # (group, kind, direct_key, last_seq); members: (group, user, read, hidden)
                for gid, kind, key, last_seq in ((1, "direct", "1:2", 5), (2, "direct", "1:3", 4), (3, "room", None, 9)):
                    conn.execute(text("INSERT INTO chat_groups (id, kind, direct_key, description, read_only, last_seq, "
                                      "last_message_at, created_at) VALUES (:id, :kind, :key, '', false, :seq, :at, :at)"),
                                 {"id": gid, "kind": kind, "key": key, "seq": last_seq, "at": AT})
                for gid, uid, read, hidden in ((1, 1, 2, None), (1, 2, 5, None), (2, 1, 1, 3), (2, 3, 0, None),
                                               (3, 1, 0, None)):
                    conn.execute(text("INSERT INTO chat_members (group_id, user_id, role, joined_at, last_read_seq, "
                                      "activity_at, hidden_until_seq) VALUES (:g, :u, 'member', :at, :r, :at, :h)"),
                                 {"g": gid, "u": uid, "r": read, "h": hidden, "at": AT})
            upgrade(url)
            with engine.connect() as conn:
                totals = dict(conn.execute(text("SELECT user_id, unread_total FROM chat_inbox_counters")).all())
        finally:
            engine.dispose()
    # user 1: 3 in group 1, 1 in group 2 (hidden at 3), rooms never; user 2: 0; user 3: 4
    assert totals == {1: 4, 2: 0, 3: 4}
