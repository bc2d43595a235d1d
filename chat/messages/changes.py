"""A change to a stored message (an edit, a reaction) as an inbox entry of its own: each member of an inbox
chat gets the next position of their inbox, so live delivery, resume and `sync` carry it exactly once and in
order, like a message. Unread counts, the group's last seq and the conversation order stay as they are."""
from __future__ import annotations

from typing import Iterable

from sqlalchemy.engine import Connection

from chat.messages.batch_sql import BatchSql
from chat.models import INBOX_KINDS


def fan_out(conn: Connection, q: BatchSql, *, group_id: int, group_kind: str, member_ids: Iterable[int],
            message_id: int, kind: str) -> dict[int, int]:
    """An inbox entry of `kind` about `message_id` for every member (rooms: none); user id → its position.

    The caller holds the group row's lock, taken before the counters' (the order every send takes them in)."""
    if group_kind not in INBOX_KINDS:
        return {}
    positions = q.advance_counters(conn, {uid: 1 for uid in member_ids})
    if positions:
        q.add_changes(conn, [(uid, pos, message_id, group_id, kind) for uid, pos in sorted(positions.items())])
    return positions
