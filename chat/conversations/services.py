"""The conversation list: list a page of the caller's conversations, hide one until its next message."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import case, func, select, update

from chat.conversations.archive import archive_cutoff
from chat.conversations.cursor import Filters, Snapshot, decode_cursor, encode_cursor
from chat.conversations.queries import (
    PINNED,
    ROOM,
    ListQuery,
    list_params,
    list_statement,
    shape_of,
)
from chat.conversations.views import conversation_item, presence_check
from chat.events import emit
from chat.groups.access import require_member
from chat.inbox import unread
from chat.models import INBOX_KINDS
from chat.tables import groups_t, members_t
from core.db import db, utcnow
from core.errors import Conflict, ValidationError
from marketplace.models import User

DEFAULT_LIMIT = 20
#: pinned chats per user: all of them head page 1 of the list (and ride in its cursor)
MAX_PINNED = 10


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
        last_key, last_id = _keyset_end(ranked[:limit], after)
        rooms_left = {group_id: key for key, group_id, row in ranked[limit:] if row.src == ROOM}
        inbox_pos = after.inbox_pos if after is not None else rows[0].inbox_pos
        pinned = dict(after.pinned) if after is not None else {}
        shown = {row.group_id for row in page}
        pinned.update((group_id, None if group_id in shown else key)
                      for key, group_id, row in ranked if row.src == PINNED)
        next_cursor = encode_cursor(Snapshot(user_id=user.id, filters=filters, inbox_pos=inbox_pos,
                                             taken_at=taken_at, key=last_key, group_id=last_id, rooms=rooms_left,
                                             pinned=pinned))
    # The badge comes with the list's rows (an empty list reads it alone).
    badge = unread.shown(rows[0].unread_total, rows[0].unread_version) if rows else unread.badge_of(db.session, user.id)
    return {"items": items, "next_cursor": next_cursor, "unread_total": badge.total, "unread_version": badge.version}


#: where a walk starts when page 1 held only pinned chats: above every real keyset position
_TOP = (datetime(9999, 12, 31, tzinfo=timezone.utc), 2 ** 62)


def _keyset_end(shown: list[tuple[datetime, int, Any]], after: Snapshot | None) -> tuple[datetime, int]:
    """The keyset position after this page: its last chat that is not pinned (pinned chats are
    tracked by the cursor's own list), or where the page started."""
    for key, group_id, row in reversed(shown):
        if row.src != PINNED:
            return key, group_id
    return (after.key, after.group_id) if after is not None else _TOP


def _ranked(rows: list[Any], after: Snapshot | None) -> list[tuple[datetime, int, Any]]:
    """The candidates as (key at the snapshot, group id, row): pinned chats first, then newest first;
    rooms and pinned chats of later pages take their key from the cursor."""
    def key(row: Any) -> datetime:
        if after is not None and row.src == ROOM:
            return after.rooms[row.group_id]
        if after is not None and row.src == PINNED:
            return after.pinned[row.group_id]  # type: ignore[return-value]
        return row.key

    return sorted(((key(row), row.group_id, row) for row in rows),
                  key=lambda t: (t[2].src == PINNED, t[0], t[1]), reverse=True)


def hide_conversation(*, user: User, group_id: int) -> None:
    """Hide a conversation from the caller's list until a message arrives after its current last one.

    Only the caller's own view changes: their read marker stays where it was (no read receipt), and
    the unread count shown when it comes back counts only what arrived after this. Idempotent;
    404 for non-members.
    """
    with db.transaction() as s:
        require_member(s, group_id=group_id, user_id=user.id)
        state = unread.locked_state(s, group_id=group_id, user_id=user.id)
        last_seq = select(groups_t.c.last_seq).where(groups_t.c.id == group_id).scalar_subquery()
        hidden = members_t.c.hidden_until_seq
        s.execute(update(members_t).where(members_t.c.group_id == group_id, members_t.c.user_id == user.id)
                  .values(hidden_until_seq=case((hidden.is_(None), last_seq), (hidden < last_seq, last_seq),
                                                else_=hidden)))
        if state.kind in INBOX_KINDS and not state.muted:
            for event in unread.unread_events(unread.apply(s, {user.id: -unread.unread_of(state, state.last_seq)})):
                emit(event)


def update_conversation(*, user: User, group_id: int, muted: bool | None = None,
                        pinned: bool | None = None) -> dict[str, Any]:
    """Mute or pin one of the caller's item or direct chats (only their own view changes).

    Muted: left out of `unread_total` (an `unread` event when that changes) and never notified.
    Pinned: listed before the others, at most MAX_PINNED (409 `pin_limit`). 400
    `not_an_inbox_chat` for rooms, 404 for non-members.
    """
    with db.transaction() as s:
        require_member(s, group_id=group_id, user_id=user.id)
        state = unread.locked_state(s, group_id=group_id, user_id=user.id)
        if state.kind not in INBOX_KINDS:
            raise ValidationError("Only item, direct and group chats can be muted or pinned.", code="not_an_inbox_chat")
        if pinned and not state.pinned and s.scalar(  # type: ignore[operator]
                select(func.count()).select_from(members_t)
                .where(members_t.c.user_id == user.id, members_t.c.pinned.is_(True))) >= MAX_PINNED:
            raise Conflict(f"At most {MAX_PINNED} conversations can be pinned.", code="pin_limit",
                           details={"max_pinned": MAX_PINNED})
        changes = {name: value for name, value in (("muted", muted), ("pinned", pinned))
                   if value is not None and value != getattr(state, name)}
        totals: dict[int, unread.Badge] = {}
        if changes:
            s.execute(update(members_t).where(members_t.c.group_id == group_id, members_t.c.user_id == user.id)
                      .values(**changes))
        if "muted" in changes:
            count = unread.unread_of(state, state.last_seq)
            totals = unread.apply(s, {user.id: -count if muted else count})
        result = {"group_id": group_id, "muted": changes.get("muted", state.muted),
                  "pinned": changes.get("pinned", state.pinned)}
        for event in unread.unread_events(totals):
            emit(event)
    return result
