"""Sync: replaying a user's inbox (item, direct and user groups) after a position, in order, in batches.

An entry is a message, or a change of one (`chat.messages.changes`): an edit replays as the message as it is
now, a reaction change as the message's reactions now (without the `change` the live event carried)."""
from __future__ import annotations

from typing import Any, NamedTuple

from sqlalchemy import select

from chat.messages.reactions import reaction_rows, summarize
from chat.messages.views import message_from_row, message_query, messages_t
from chat.models import INBOX_EDIT, INBOX_REACTION
from chat.tables import counters_t, inbox_t
from core.db import db
from core.errors import ValidationError
from marketplace.models import User

MAX_BATCH = 500
#: the event type of each kind of change in the inbox
EVENT_OF_KIND = {INBOX_EDIT: "edit", INBOX_REACTION: "reaction"}


class InboxItem(NamedTuple):
    """One replayed entry and its inbox position (encode it with `encode_cursor` for the frame): a message
    (`event` None), or an `edit`/`reaction` event and its `data`."""

    pos: int
    message: dict[str, Any]
    event: str | None = None
    data: dict[str, Any] | None = None


def sync_batch(*, user: User, after_pos: int, limit: int = 100) -> tuple[list[InboxItem], bool]:
    """The user's inbox entries after `after_pos`, oldest first, at most `limit`; and whether more follow."""
    if not 1 <= limit <= MAX_BATCH:
        raise ValidationError(f"limit must be 1–{MAX_BATCH}.", details={"fields": {"limit": ["Out of range."]}})
    rows = db.session.execute(
        message_query().add_columns(inbox_t.c.pos, inbox_t.c.kind.label("entry_kind"))
        .join(inbox_t, inbox_t.c.message_id == messages_t.c.id)
        .where(inbox_t.c.user_id == user.id, inbox_t.c.pos > after_pos)
        .order_by(inbox_t.c.pos).limit(limit + 1)).all()
    more, rows = len(rows) > limit, rows[:limit]
    reactions = reaction_rows(db.session, [row.id for row in rows if row.entry_kind == INBOX_REACTION])
    items = []
    for row in rows:
        message = message_from_row(row)
        event = EVENT_OF_KIND.get(row.entry_kind)
        if event == "edit":
            items.append(InboxItem(row.pos, message, event, {"message": message}))
        elif event == "reaction":
            items.append(InboxItem(row.pos, message, event, {
                "group_id": row.group_id, "message_id": row.id, "seq": row.seq,
                "reactions": summarize(reactions.get(row.id, []), user.id)}))
        else:
            items.append(InboxItem(row.pos, message))
    return items, more


def user_cursor(user_id: int) -> int:
    """The user's latest inbox position (0 before their first message): where a new device starts."""
    return db.session.scalar(select(counters_t.c.last_pos).where(counters_t.c.user_id == user_id)) or 0


def user_cursors(user_ids: list[int]) -> dict[int, int]:
    """`user_cursor` of each of `user_ids` in one query (users without a message yet are left out)."""
    rows = db.session.execute(select(counters_t.c.user_id, counters_t.c.last_pos)
                              .where(counters_t.c.user_id.in_(user_ids))).all()
    return {row.user_id: row.last_pos for row in rows}
