"""HTTP routes of chat messages: history, sending, read markers and recall."""
from __future__ import annotations

from chat.messages import services
from chat.messages.edits import edit_message
from chat.messages.reactions import set_reaction
from chat.messages.receipts import message_reads
from chat.messages.schemas import (
    EditMessageSchema,
    HistoryArgsSchema,
    MessagePageSchema,
    MessageSchema,
    ReactionsSchema,
    ReadMarkerSchema,
    ReadsSchema,
    SendMessageSchema,
)
from chat.messages.send import send_message
from core.api import Blueprint
from core.auth import auth_required, current_user
from core.ratelimit import by_user, rate_limited

bp = Blueprint("chat_messages", __name__,
               description="Chat messages: history, sending, replies and mentions, edits, reactions, read markers "
                           "and receipts, recall")


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
    Each message carries its `reactions` (`me`: whether the caller is among them).
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

    `reply_to: {id}` names a message of this group the message answers (400 `reply_not_found` otherwise):
    the message carries a snapshot of it (`reply_to`: id, seq, sender, type, a one-line preview), which
    says `recalled: true` (and loses its preview) once that message is recalled, and follows its edits.
    `mentions` (user groups and rooms only, else 400 `mentions_not_allowed`) names up to 50 members (400
    `mention_not_member` otherwise), or is `"all"`, which only the owner and admins may say (403
    `mention_all_forbidden`); a mentioned member's conversation item shows `mentioned: true` until they read
    past the message, and a mention notifies them even in a muted chat.
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


@bp.patch("/groups/<int:group_id>/messages/<int:message_id>")
@auth_required
@bp.arguments(EditMessageSchema)
@bp.response(200, MessageSchema)
def edit(data, group_id: int, message_id: int):
    """Edit your `txt` message: new text, same seq; `edited_at` set and `revision` up by one.

    The sender only (403 `not_sender`), within `EDIT_WINDOW_S` of sending (403 `edit_window_passed`), at
    most `EDIT_MAX_REVISIONS` times (409 `edit_limit_reached`), not once recalled (409 `message_recalled`);
    400 `not_editable` for other types. Keyword rules screen the new text as they screen a send (403
    `content_blocked`, or masked). Every member's devices get an `edit` event; in item, direct and user
    groups it is an entry of each member's inbox, so a device that was away gets it once on `sync`.
    """
    return edit_message(actor_id=current_user().id, group_id=group_id, message_id=message_id, body=data["body"])


@bp.put("/groups/<int:group_id>/messages/<int:message_id>/reactions/<string:emoji>")
@auth_required
@bp.response(201, ReactionsSchema)
@bp.alt_response(200, schema=ReactionsSchema, success=True, description="You had reacted so already")
def react(group_id: int, message_id: int, emoji: str):
    """React to a message with an emoji (URL-encoded in the path): 201, or 200 when you had already.

    Members only. `emoji` is one emoji of at most 32 bytes (400 `invalid_emoji`); a message carries at most
    `REACTIONS_MAX_DISTINCT` different emoji (409 `reaction_limit_reached` for one more); no reactions to a
    recalled message (409 `message_recalled`). The members hear a `reaction` event.
    """
    changed, state = set_reaction(actor_id=current_user().id, group_id=group_id, message_id=message_id,
                                  emoji=emoji, add=True)
    return state, 201 if changed else 200


@bp.delete("/groups/<int:group_id>/messages/<int:message_id>/reactions/<string:emoji>")
@auth_required
@bp.response(204)
def unreact(group_id: int, message_id: int, emoji: str):
    """Take your reaction back (204, also when there was none); the members hear a `reaction` event."""
    set_reaction(actor_id=current_user().id, group_id=group_id, message_id=message_id, emoji=emoji, add=False)


@bp.get("/groups/<int:group_id>/messages/<int:message_id>/reads")
@auth_required
@bp.response(200, ReadsSchema)
def reads(group_id: int, message_id: int):
    """Who of the group has read a message (read marker at or past it) and who has not, the sender aside.

    Item, direct and user groups (up to `GROUP_MAX_MEMBERS`); rooms keep no receipts (409
    `receipts_unavailable`). A `read` event tells members live when a marker moves.
    """
    return message_reads(user_id=current_user().id, group_id=group_id, message_id=message_id)
