"""Editing a sent text message: the sender, within EDIT_WINDOW_S, at most EDIT_MAX_REVISIONS times."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select, update

from chat.events import emit
from chat.messages import batch_sql, posting, screening
from chat.messages.batch import Send, post_off_platform_notice
from chat.messages.bodies import validate_content
from chat.messages.changes import fan_out
from chat.messages.extras import snapshot
from chat.messages.views import message_from_row, message_query
from chat.models import INBOX_EDIT
from chat.tables import messages_t
from core.db import db, utcnow
from core.errors import Conflict, Forbidden, NotFound, ValidationError

msg = messages_t.c


def edit_message(*, actor_id: int, group_id: int, message_id: int, body: Any) -> dict[str, Any]:
    """Replace the text of the actor's `txt` message; it keeps its seq and gains `edited_at` and a revision.

    Keyword rules screen the new text as they screen a send. Every member hears an `edit` event (inbox chats:
    at a new inbox position of theirs, so sync replays it; rooms: live only). 404 for non-members or no such
    message, 403 `not_sender`/`edit_window_passed` or as a send is refused (muted, read-only, banned),
    400 `not_editable` for other types, 409 `message_recalled`/`edit_limit_reached`.
    """
    _, body, _ = validate_content(type="txt", body=body, ext=None)
    screened = screening.screen_message(type="txt", body=body)
    config = current_app.config
    with db.core_transaction() as conn:
        q = batch_sql.for_connection(conn)
        groups, members, _, refusals, _ = posting.check(conn, q, [Send(0, actor_id, group_id, "txt", body)])
        if refusals:
            raise refusals[0]
        target = conn.execute(select(msg.sender_id, msg.type, msg.created_at, msg.recalled_at, msg.revision)
                              .where(msg.id == message_id, msg.group_id == group_id).with_for_update()).one_or_none()
        if target is None:
            raise NotFound("No such message.")
        if target.sender_id != actor_id:
            raise Forbidden("You can only edit your own messages.", code="not_sender")
        if target.type != "txt":
            raise ValidationError("Only text messages are edited.", code="not_editable")
        if target.recalled_at is not None:
            raise Conflict("The message was recalled.", code="message_recalled")
        now = utcnow()
        if now - target.created_at > timedelta(seconds=config["EDIT_WINDOW_S"]):
            raise Forbidden(f"Messages can only be edited within {config['EDIT_WINDOW_S']} seconds of sending.",
                            code="edit_window_passed")
        if target.revision >= config["EDIT_MAX_REVISIONS"]:
            raise Conflict(f"A message is edited at most {config['EDIT_MAX_REVISIONS']} times.",
                           code="edit_limit_reached", details={"limit": config["EDIT_MAX_REVISIONS"]})
        conn.execute(update(messages_t).where(msg.id == message_id)
                     .values(body=screened.body, edited_at=now, revision=msg.revision + 1))
        row = conn.execute(message_query().where(msg.id == message_id)).one()
        message = message_from_row(row)
        kind = groups[group_id].kind
        # the quotes of its replies show the new text (only replies have a reply_to_id: an index probe)
        conn.execute(update(messages_t).where(msg.reply_to_id == message_id).values(reply_to=snapshot(row, kind)))
        cursors = fan_out(conn, q, group_id=group_id, group_kind=kind, member_ids=members[group_id],
                          message_id=message_id, kind=INBOX_EDIT)
        emit({"type": "edit", "group_id": group_id, "message": message, "cursors": cursors,
              "recipients": sorted(members[group_id])})
    if screened.off_platform:
        post_off_platform_notice(group_id=group_id)
    return message
