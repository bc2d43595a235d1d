"""The conversation list: list a page of the caller's conversations, hide one until its next message."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import case, select, update

from chat.conversations.archive import archive_cutoff
from chat.conversations.cursor import Filters, Snapshot, decode_cursor, encode_cursor
from chat.conversations.queries import (
    ROOM,
    ListQuery,
    list_params,
    list_statement,
    shape_of,
)
from chat.conversations.views import conversation_item, presence_check
from chat.groups.access import require_member
from chat.tables import groups_t, members_t
from core.db import db, utcnow
from marketplace.models import User

DEFAULT_LIMIT = 20


def list_conversations(*, user: User, limit: int = DEFAULT_LIMIT, cursor: str | None = None,
                       kind: str | None = None, listing_id: int | None = None,
                       archived: bool = False) -> dict[str, Any]:
    """A page of the caller's conversations, latest activity first, in one SQL statement.

    Pages after the first follow the list as it was when the first page was read (the cursor's
    snapshot): a conversation that got a message since then keeps its old place on later pages
    (shown with its new last message and unread count) and one already shown is not shown again;
    conversations opened since appear on the next first page. 400 `invalid_cursor` for a cursor
    this server did not make for this user and these filters.
    """
    filters = Filters(kind=kind, listing_id=listing_id, archived=archived)
    after = decode_cursor(cursor, user_id=user.id, filters=filters) if cursor is not None else None
    taken_at = after.taken_at if after is not None else utcnow()
    query = ListQuery(user_id=user.id, filters=filters, limit=limit, cutoff=archive_cutoff(taken_at), after=after)
    stmt = list_statement(shape_of(query))
    rows = db.session.execute(stmt, list_params(query)).all() if stmt is not None else []
    ranked = _ranked(rows, after)  # type: ignore[arg-type]
    page = [row for _, _, row in ranked[:limit]]
    online = presence_check(row.peer_id for row in page)
    items = [conversation_item(row, user_id=user.id, snapshot_at=taken_at, online=online) for row in page]
    next_cursor = None
    if len(ranked) > limit:
        last_key, last_id, _ = ranked[limit - 1]
        rooms_left = {group_id: key for key, group_id, row in ranked[limit:] if row.src == ROOM}
        inbox_pos = after.inbox_pos if after is not None else rows[0].inbox_pos
        next_cursor = encode_cursor(Snapshot(user_id=user.id, filters=filters, inbox_pos=inbox_pos,
                                             taken_at=taken_at, key=last_key, group_id=last_id, rooms=rooms_left))
    return {"items": items, "next_cursor": next_cursor}


def _ranked(rows: list[Any], after: Snapshot | None) -> list[tuple[datetime, int, Any]]:
    """The candidates as (key at the snapshot, group id, row), newest first; rooms take their key from the cursor."""
    def key(row: Any) -> datetime:
        return after.rooms[row.group_id] if after is not None and row.src == ROOM else row.key

    return sorted(((key(row), row.group_id, row) for row in rows), key=lambda t: (t[0], t[1]), reverse=True)


def hide_conversation(*, user: User, group_id: int) -> None:
    """Hide a conversation from the caller's list until a message arrives after its current last one.

    Only the caller's own view changes: their read marker stays where it was (no read receipt), and
    the unread count shown when it comes back counts only what arrived after this. Idempotent;
    404 for non-members.
    """
    with db.transaction() as s:
        require_member(s, group_id=group_id, user_id=user.id)
        last_seq = select(groups_t.c.last_seq).where(groups_t.c.id == group_id).scalar_subquery()
        hidden = members_t.c.hidden_until_seq
        s.execute(update(members_t).where(members_t.c.group_id == group_id, members_t.c.user_id == user.id)
                  .values(hidden_until_seq=case((hidden.is_(None), last_seq), (hidden < last_seq, last_seq),
                                                else_=hidden)))
