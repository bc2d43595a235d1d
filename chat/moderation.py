"""Chat's part in reports: a reported message must exist in a group the reporter belongs to."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from chat.conversations.previews import RECALLED_IN_ROOM, preview
from chat.models import ChatGroup, ChatMember, ChatMessage
from marketplace.models import User
from marketplace.moderation.targets import SUMMARY_CHARS, ReportTarget


def resolve_reported_message(s: Session, *, target_id: int, reporter: User) -> ReportTarget | None:
    """The message as evidence (its sender, its text or a label for its type, its group and seq), or None
    when it does not exist or the reporter is not a member of its group."""
    row = s.execute(
        select(ChatMessage.sender_id, ChatMessage.type, ChatMessage.body, ChatMessage.recalled_at,
               ChatMessage.group_id, ChatMessage.seq, ChatGroup.kind)
        .join(ChatGroup, ChatGroup.id == ChatMessage.group_id)
        .join(ChatMember, (ChatMember.group_id == ChatMessage.group_id) & (ChatMember.user_id == reporter.id))
        .where(ChatMessage.id == target_id)).one_or_none()
    if row is None:
        return None
    recalled = row.recalled_at is not None
    if recalled:
        summary = RECALLED_IN_ROOM  # the body is gone; said the same way whoever reads it
    elif row.type == "txt":
        # The whole text up to the summary size, not the list's short preview: it is the evidence.
        summary = str(row.body.get("text", ""))[:SUMMARY_CHARS]
    else:
        summary = preview(type=row.type, body=row.body, recalled=False, sender_id=row.sender_id,
                          viewer_id=reporter.id, group_kind=row.kind)
    return ReportTarget(owner_id=row.sender_id, summary=summary,
                        context={"group_id": row.group_id, "seq": row.seq, "group_kind": row.kind,
                                 "type": row.type, "recalled": recalled})
