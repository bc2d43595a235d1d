"""Sync: replaying a user's inbox (item and direct groups) after a position, in order, in batches."""
from __future__ import annotations

from typing import Any, NamedTuple

from sqlalchemy import select

from chat.messages.views import message_from_row, message_query, messages_t
from chat.tables import counters_t, inbox_t
from core.db import db
from core.errors import ValidationError
from marketplace.models import User

MAX_BATCH = 500


class InboxItem(NamedTuple):
    """One replayed message and its inbox position (encode it with `encode_cursor` for the frame)."""

    pos: int
    message: dict[str, Any]


def sync_batch(*, user: User, after_pos: int, limit: int = 100) -> tuple[list[InboxItem], bool]:
    """The user's inbox entries after `after_pos`, oldest first, at most `limit`; and whether more follow."""
    if not 1 <= limit <= MAX_BATCH:
        raise ValidationError(f"limit must be 1–{MAX_BATCH}.", details={"fields": {"limit": ["Out of range."]}})
    rows = db.session.execute(
        message_query().add_columns(inbox_t.c.pos)
        .join(inbox_t, inbox_t.c.message_id == messages_t.c.id)
        .where(inbox_t.c.user_id == user.id, inbox_t.c.pos > after_pos)
        .order_by(inbox_t.c.pos).limit(limit + 1)).all()
    items = [InboxItem(row.pos, message_from_row(row)) for row in rows[:limit]]
    return items, len(rows) > limit


def user_cursor(user_id: int) -> int:
    """The user's latest inbox position (0 before their first message): where a new device starts."""
    return db.session.scalar(select(counters_t.c.last_pos).where(counters_t.c.user_id == user_id)) or 0


def user_cursors(user_ids: list[int]) -> dict[int, int]:
    """`user_cursor` of each of `user_ids` in one query (users without a message yet are left out)."""
    rows = db.session.execute(select(counters_t.c.user_id, counters_t.c.last_pos)
                              .where(counters_t.c.user_id.in_(user_ids))).all()
    return {row.user_id: row.last_pos for row in rows}
