"""Migration 0006 gives existing users their unread badge: the unread counts of their item and direct chats."""
from __future__ import annotations

import pytest

from tests.support import migration_rows as rows


def _write(conn) -> None:
    rows.users(conn, [1, 2, 3])
    rows.groups(conn, [(1, "direct", "1:2", 5), (2, "direct", "1:3", 4), (3, "room", None, 9)])
    rows.members(conn, [(1, 1, 2, None), (1, 2, 5, None), (2, 1, 1, 3), (2, 3, 0, None), (3, 1, 0, None)])


@pytest.mark.parametrize("backend", rows.BACKENDS)
def test_existing_unread_counts_become_the_badge(backend, tmp_path):
    totals = dict(rows.migrated(backend, tmp_path, start="0001", write=_write, to="0006",
                                read="SELECT user_id, unread_total FROM chat_inbox_counters"))
    # user 1: 3 in group 1, 1 in group 2 (hidden at 3), rooms never; user 2: 0; user 3: 4
    assert totals == {1: 4, 2: 0, 3: 4}
