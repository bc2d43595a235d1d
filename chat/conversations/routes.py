"""HTTP routes of the conversation list."""
from __future__ import annotations

from chat.conversations import services
from chat.conversations.schemas import (
    ConversationFlagsSchema,
    ConversationListArgsSchema,
    ConversationPageSchema,
    ConversationUpdateSchema,
)
from core.api import Blueprint
from core.auth import auth_required, current_user

bp = Blueprint("chat_conversations", __name__, description="The conversation list")


@bp.get("/conversations")
@auth_required
@bp.arguments(ConversationListArgsSchema, location="query")
@bp.response(200, ConversationPageSchema)
def list_conversations(args):
    """The caller's conversations, pinned first, then latest activity first, with the badge (`unread_total`).

    Each item has its listing, peer, last message, unread count, `muted`, `pinned` and the peer's
    read marker (`peer_read_seq`). Later pages (`cursor`) follow the list as it was when the first
    page was read: a conversation that moved up (or was pinned) since keeps its old place on later
    pages, and none is shown twice.
    """
    return services.list_conversations(user=current_user(), **args)


@bp.delete("/conversations/<int:group_id>")
@auth_required
@bp.response(204)
def hide_conversation(group_id: int):
    """Hide a conversation for the caller until a new message arrives in it."""
    services.hide_conversation(user=current_user(), group_id=group_id)


@bp.put("/conversations/<int:group_id>")
@auth_required
@bp.arguments(ConversationUpdateSchema)
@bp.response(200, ConversationFlagsSchema)
def update_conversation(data, group_id: int):
    """Mute or pin one of the caller's item or direct chats (fields left out stay as they are).

    Muted chats are left out of `unread_total` and never notified; pinned chats head the list
    (at most 10: `409 pin_limit`). Rooms: `400 not_an_inbox_chat`.
    """
    return services.update_conversation(user=current_user(), group_id=group_id, **data)
