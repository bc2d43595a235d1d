"""HTTP routes of chat messages: history, sending, read markers and recall."""
from __future__ import annotations

from chat.messages import services
from chat.messages.schemas import (
    HistoryArgsSchema,
    MessagePageSchema,
    MessageSchema,
    ReadMarkerSchema,
    SendMessageSchema,
)
from chat.messages.send import send_message
from core.api import Blueprint
from core.auth import auth_required, current_user
from core.ratelimit import by_user, rate_limited

bp = Blueprint("chat_messages", __name__, description="Chat messages: history, sending, read markers, recall")


@bp.get("/groups/<int:group_id>/messages")
@auth_required
@bp.arguments(HistoryArgsSchema, location="query")
@bp.response(200, MessagePageSchema)
def history(args, group_id: int):
    """A page of a group's messages, always in ascending seq.

    Without bounds: the newest `limit` messages, and `next_cursor` is the seq to pass as
    `before_seq` for the page of older ones. With `before_seq` alone: the newest `limit`
    messages below it, `next_cursor` again for `before_seq`. With `after_seq` (and optionally
    `before_seq`): the oldest `limit` messages above it, `next_cursor` is the seq to pass as
    `after_seq` for the next newer page. `next_cursor` is null when nothing more is in that direction.
    """
    return services.list_messages(user=current_user(), group_id=group_id, **args)


@bp.post("/groups/<int:group_id>/messages")
@auth_required
@rate_limited("send", "send_sustained", by=by_user)
@bp.arguments(SendMessageSchema)
@bp.response(201, MessageSchema)
@bp.alt_response(200, schema=MessageSchema, success=True,
                 description="The same client_id was sent before: the first message, not a copy")
def send(data, group_id: int):
    """Send a message (201); the same client_id again returns the first message (200).

    Keyword rules apply to every user-visible string of the message: the text of `txt`, the name
    of `file`, the address of `location`, the `event` and every string inside `data` of `custom`,
    and every string inside `ext` (keys and media URLs are left alone). A `block` rule refuses the
    message with 403 `content_blocked` (`details.field` says where, e.g. `ext.card.title`; nothing
    is stored), a `mask` rule stores and delivers it with each match replaced by `*`. A media URL
    must name an upload of the message's kind (an image for `img` and `thumb_url`, audio for
    `audio`, video for `video`). A phone number or WeChat id goes
    through, and the group gets a `system` notice against trading off the platform (at most one
    per group every 10 minutes).
    """
    result = send_message(sender=current_user(), group_id=group_id, **data)
    return result.message, 201 if result.created else 200


@bp.post("/groups/<int:group_id>/read")
@auth_required
@bp.arguments(ReadMarkerSchema)
@bp.response(204)
def mark_read(data, group_id: int):
    """Move the caller's read marker forward to `seq` (it never moves back)."""
    services.mark_read(user=current_user(), group_id=group_id, seq=data["seq"])


@bp.post("/groups/<int:group_id>/messages/<int:message_id>/recall")
@auth_required
@bp.response(200, MessageSchema)
def recall(group_id: int, message_id: int):
    """Recall a message: the sender within 2 minutes, group or site admins any time.

    A site admin's recall is audit-logged (`message.recall`).
    """
    return services.recall_message(actor=current_user(), group_id=group_id, message_id=message_id)
