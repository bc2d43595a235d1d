"""Query and output schemas of the conversation list."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from chat.conversations.cursor import CURSOR_PATTERN, MAX_CURSOR_CHARS
from chat.conversations.services import DEFAULT_LIMIT
from chat.groups.schemas import ListingSummarySchema
from chat.models import GROUP_KINDS
from core.input import ROW_ID, JsonBoolean
from core.pagination import MAX_PAGE_SIZE


class ConversationListArgsSchema(ma.Schema):
    kind = fields.String(validate=validate.OneOf(GROUP_KINDS), metadata={"description": "item, direct, group or room"})
    listing_id = fields.Integer(validate=ROW_ID,
                                metadata={"description": "only the item chats about this listing"})
    archived = fields.Boolean(load_default=False, metadata={
        "description": "true: only archived item chats (listing final for longer than the archive period)"})
    limit = fields.Integer(load_default=DEFAULT_LIMIT, validate=validate.Range(min=1, max=MAX_PAGE_SIZE))
    cursor = fields.String(validate=validate.Length(min=1, max=MAX_CURSOR_CHARS), metadata={
        "description": "next_cursor of the previous page (opaque, base64url)", "pattern": CURSOR_PATTERN})


class PeerSchema(ma.Schema):
    """The other party of an item or direct chat."""

    id = fields.Integer(required=True)
    nickname = fields.String(required=True)
    avatar_url = fields.String(allow_none=True, required=True)
    online = fields.Boolean(required=True, metadata={"description": "has a live connection (never across a block)"})
    blocked = fields.Boolean(required=True, metadata={"description": "the caller has blocked this user"})


class LastMessageSchema(ma.Schema):
    id = fields.Integer(required=True)
    seq = fields.Integer(required=True)
    type = fields.String(required=True)
    preview = fields.String(required=True, metadata={
        "description": "text cut to 50 characters, or a label such as [图片], [报价] ¥120.00, 对方撤回了一条消息"})
    sender_id = fields.Integer(allow_none=True, required=True, metadata={"description": "null for system messages"})
    created_at = fields.DateTime(required=True)


class ConversationSchema(ma.Schema):
    group_id = fields.Integer(required=True)
    kind = fields.String(required=True, metadata={"description": "item, direct, group or room"})
    name = fields.String(allow_none=True, required=True, metadata={"description": "the name of a group or room"})
    member_count = fields.Integer(required=True, metadata={"description": "members now (2 in item and direct chats)"})
    listing = fields.Nested(ListingSummarySchema, allow_none=True, required=True,
                            metadata={"description": "the listing as it is now (item chats)"})
    peer = fields.Nested(PeerSchema, allow_none=True, required=True,
                         metadata={"description": "the other party (item and direct chats)"})
    role = fields.String(required=True, metadata={
        "description": "buyer or seller in item chats, the member role (owner, admin, member) otherwise"})
    last_message = fields.Nested(LastMessageSchema, allow_none=True, required=True)
    unread_count = fields.Integer(required=True)
    updated_at = fields.DateTime(required=True, metadata={"description": "latest activity"})
    read_only = fields.Boolean(required=True, metadata={
        "description": "no message can be sent: the listing was taken down, or the chat is archived"})
    muted = fields.Boolean(required=True, metadata={
        "description": "left out of unread_total and never notified (PUT /conversations/{group_id})"})
    pinned = fields.Boolean(required=True, metadata={"description": "listed before the others"})
    mentioned = fields.Boolean(required=True, metadata={
        "description": "a message after your read marker mentions you (by id or as \"all\")"})
    peer_read_seq = fields.Integer(allow_none=True, required=True, metadata={
        "description": "the other party's read marker: your messages up to this seq are read (已读); "
                       "null in rooms and across a block"})


class ConversationPageSchema(ma.Schema):
    items = fields.List(fields.Nested(ConversationSchema), required=True)
    next_cursor = fields.String(allow_none=True, required=True,
                                metadata={"description": "pass as `cursor` for the next page; null at the end"})
    unread_total = fields.Integer(required=True, metadata={
        "description": "unread messages in every item, direct and group chat that is not muted (the tab badge); "
                       "the `unread` WebSocket event carries it whenever it changes"})
    unread_version = fields.Integer(required=True, metadata={
        "description": "one more with every change of unread_total: of this page's total and an `unread` "
                       "event's, the one with the higher version is the newer"})


class ConversationUpdateSchema(ma.Schema):
    muted = JsonBoolean(metadata={"description": "leave out of the badge and of notifications"})
    pinned = JsonBoolean(metadata={"description": "list before the others (at most 10)"})


class ConversationFlagsSchema(ma.Schema):
    group_id = fields.Integer(required=True)
    muted = fields.Boolean(required=True)
    pinned = fields.Boolean(required=True)
