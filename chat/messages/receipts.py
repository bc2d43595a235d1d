"""Read receipts of one message: who of its group has read it, from the members' read markers (no rows per
message). Item, direct and user groups only: a room's members are too many and come and go."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from chat.groups.access import require_member
from chat.tables import members_t, messages_t, users_t
from core.db import db
from core.errors import Conflict, NotFound


def message_reads(*, user_id: int, group_id: int, message_id: int) -> dict[str, Any]:
    """`{read, unread, read_count, unread_count}`: the members other than the sender whose read marker is at
    or past the message, and the others (user summaries, by id). 404 for non-members or no such message,
    409 `receipts_unavailable` in rooms."""
    group, _ = require_member(db.session, group_id=group_id, user_id=user_id)
    if group.kind == "room":
        raise Conflict("Rooms keep no read receipts.", code="receipts_unavailable")
    target = db.session.execute(select(messages_t.c.seq, messages_t.c.sender_id).where(
        messages_t.c.id == message_id, messages_t.c.group_id == group_id)).one_or_none()
    if target is None:
        raise NotFound("No such message.")
    m, u = members_t.c, users_t.c
    rows = db.session.execute(select(u.id, u.nickname, u.avatar_url, m.last_read_seq)
                              .join(members_t, m.user_id == u.id)
                              .where(m.group_id == group_id, u.id != (target.sender_id or 0))
                              .order_by(u.id)).all()
    read: list[dict[str, Any]] = []
    unread: list[dict[str, Any]] = []
    for r in rows:
        (read if r.last_read_seq >= target.seq else unread).append(
            {"id": r.id, "nickname": r.nickname, "avatar_url": r.avatar_url})
    return {"read": read, "unread": unread, "read_count": len(read), "unread_count": len(unread)}
