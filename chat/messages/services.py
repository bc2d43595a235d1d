"""Reading and managing messages: history pages, read markers, recall."""
from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from chat.events import emit
from chat.groups.access import (
    MODERATOR_ROLES,
    member_ids,
    membership,
    not_found,
    require_member,
)
from chat.inbox import unread
from chat.messages.extras import snapshot
from chat.messages.reactions import page_reactions
from chat.messages.views import message_from_row, message_query, messages_t
from chat.models import INBOX_KINDS, ChatGroup
from chat.tables import members_t
from core.db import db, utcnow
from core.errors import Forbidden, NotFound, ValidationError
from marketplace.audit import record_audit
from marketplace.models import User

RECALL_WINDOW = timedelta(minutes=2)


def list_messages(*, user: User, group_id: int, before_seq: int | None = None, after_seq: int | None = None,
                  limit: int = 50) -> dict[str, Any]:
    """A page of a group's messages in ascending seq, with `next_cursor` (see the route's docs)."""
    require_member(db.session, group_id=group_id, user_id=user.id)
    return message_page(db.session, group_id=group_id, before_seq=before_seq, after_seq=after_seq, limit=limit,
                        viewer_id=user.id)


def message_page(s: Session, *, group_id: int, before_seq: int | None, after_seq: int | None,
                 limit: int, viewer_id: int | None = None) -> dict[str, Any]:
    """One history page of a group, whoever asks (the caller checks who may read it), with each message's
    reactions (`me`: the viewer's) from one aggregate query for the page."""
    seq = messages_t.c.seq
    stmt = message_query().where(messages_t.c.group_id == group_id)
    if before_seq is not None:
        stmt = stmt.where(seq < before_seq)
    if after_seq is not None:  # forwards from after_seq
        rows = s.execute(stmt.where(seq > after_seq).order_by(seq).limit(limit + 1)).all()
        page, more = rows[:limit], len(rows) > limit
        next_cursor = str(page[-1].seq) if more else None
    else:  # backwards from the newest (or from before_seq)
        rows = s.execute(stmt.order_by(seq.desc()).limit(limit + 1)).all()
        page, more = rows[:limit][::-1], len(rows) > limit
        next_cursor = str(page[0].seq) if more else None
    reactions = page_reactions(s, [row.id for row in page], viewer_id)
    items = [{**message_from_row(row), "reactions": reactions.get(row.id, [])} for row in page]
    return {"items": items, "next_cursor": next_cursor}


def mark_read(*, user: User, group_id: int, seq: int) -> bool:
    """Move the caller's read marker forward to `seq` (never back); True when it moved."""
    with db.transaction() as s:
        group, _ = require_member(s, group_id=group_id, user_id=user.id)
        if seq > group.last_seq:
            raise ValidationError(f"seq is beyond the group's last message ({group.last_seq}).",
                                  code="seq_out_of_range",
                                  details={"fields": {"seq": ["Beyond the last message."]}})
        before = unread.locked_state(s, group_id=group_id, user_id=user.id) if group.kind in INBOX_KINDS else None
        moved = s.execute(update(members_t).where(  # type: ignore[attr-defined]
            members_t.c.group_id == group_id, members_t.c.user_id == user.id,
            members_t.c.last_read_seq < seq).values(last_read_seq=seq)).rowcount > 0
        totals: dict[int, unread.Badge] = {}
        if moved and before is not None and not before.muted:
            after = unread.unread_of(SimpleNamespace(last_read_seq=max(seq, before.last_read_seq),
                                                     hidden_until_seq=before.hidden_until_seq), before.last_seq)
            totals = unread.apply(s, {user.id: after - unread.unread_of(before, before.last_seq)})
        if moved:
            # Read receipts matter between the parties of a chat, not across a whole room.
            recipients = member_ids(s, group_id) if group.kind in INBOX_KINDS else [user.id]
            for event in [{"type": "read", "group_id": group_id, "user_id": user.id, "seq": seq,
                           "recipients": recipients}] + unread.unread_events(totals):
                emit(event)
    return moved


def recall_message(*, actor: User, group_id: int, message_id: int) -> dict[str, Any]:
    """Recall a message: its body (and ext) emptied for everyone, `recalled: true`, and so is its quote in the
    replies to it; idempotent.

    The sender may recall within 2 minutes; group owners/admins and site admins at any time.
    A site admin's recall is audit-logged in the same transaction, like every admin action.
    """
    recalled_now = False
    with db.transaction() as s:
        group = s.get(ChatGroup, group_id)
        member = membership(s, group_id=group_id, user_id=actor.id)
        site_admin = actor.role == "admin"
        if group is None or (member is None and not site_admin):
            raise not_found()
        target = s.execute(select(messages_t.c.sender_id, messages_t.c.seq, messages_t.c.created_at,
                                  messages_t.c.recalled_at)
                           .where(messages_t.c.id == message_id, messages_t.c.group_id == group_id)
                           .with_for_update()).one_or_none()
        if target is None:
            raise NotFound("No such message.")
        moderator = site_admin or (member is not None and member.role in MODERATOR_ROLES)
        is_sender = target.sender_id is not None and target.sender_id == actor.id
        if not (moderator or is_sender):
            raise Forbidden("You can only recall your own messages.", code="not_sender")
        if target.recalled_at is None:
            if not moderator and utcnow() - target.created_at > RECALL_WINDOW:
                raise Forbidden("Messages can only be recalled within 2 minutes of sending.",
                                code="recall_window_passed")
            s.execute(update(messages_t).where(messages_t.c.id == message_id)
                      .values(body={}, ext=None, recalled_at=utcnow()))
            recalled_now = True
            if site_admin:
                record_audit(s, actor_id=actor.id, action="message.recall", target_type="message",
                             target_id=message_id,
                             details={"group_id": group_id, "seq": target.seq, "sender_id": target.sender_id})
        row = s.execute(message_query().where(messages_t.c.id == message_id)).one()
        message = message_from_row(row)
        if recalled_now:
            # the quotes of its replies say so too (only replies have a reply_to_id: an index probe)
            s.execute(update(messages_t).where(messages_t.c.reply_to_id == message_id)
                      .values(reply_to=snapshot(row, group.kind)))
            emit({"type": "recall", "group_id": group_id, "message": message, "by": actor.id,
                  "recipients": member_ids(s, group_id)})
    return message
