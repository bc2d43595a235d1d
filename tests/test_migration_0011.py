"""Migration 0011 counts every badge again (a member who had left a group, been removed or seen it dissolved
kept its unread before) and gives each its version."""
from __future__ import annotations

import pytest

from tests.support import migration_rows as rows


def _write(conn) -> None:
    rows.users(conn, [1, 2, 3, 4], unread_total=7)  # 7: what a group they left would have kept
    rows.groups(conn, [(1, "item", None, 5), (2, "direct", "1:3", 4), (3, "group", None, 6), (4, "room", None, 9),
                       (5, "group", None, 8)])
    rows.members(conn, [(1, 1, 2, None), (1, 2, 5, None), (2, 1, 1, 3), (2, 3, 0, None), (3, 1, 4, None),
                        (3, 2, 0, None), (4, 1, 0, None), (5, 3, 0, None)], muted={(5, 3)})


@pytest.mark.parametrize("backend", rows.BACKENDS)
def test_every_badge_is_counted_again_from_the_memberships(backend, tmp_path):
    badges = {uid: (total, version) for uid, total, version in rows.migrated(
        backend, tmp_path, start="0010", write=_write,
        read="SELECT user_id, unread_total, unread_version FROM chat_inbox_counters")}
    # user 1: 3 in the item chat, 1 in the direct one (hidden at 3), 2 in the group, rooms never; user 2: the group's
    # 6; user 3: 4 in the direct chat, its muted group left out; user 4: no chat, so none
    assert badges == {1: (6, 0), 2: (6, 0), 3: (4, 0), 4: (0, 0)}
