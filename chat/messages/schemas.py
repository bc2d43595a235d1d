"""Input and output schemas of chat messages."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from chat.messages.bodies import CLIENT_ID_MAX, CLIENT_TYPES, EXT_MAX_BYTES, TEXT_MAX
from chat.messages.extras import MENTIONS_MAX
from core.input import MAX_BIGINT, MAX_INT, SEQ
from marketplace.users.schemas import UserSummarySchema

MAX_HISTORY_LIMIT = 100


class QuoteSenderSchema(ma.Schema):
    id = fields.Integer(required=True)
    nickname = fields.String(required=True)


class QuoteSchema(ma.Schema):
    """The message a reply answers, as it was (its preview is emptied once it is recalled)."""

    id = fields.Integer(required=True)
    seq = fields.Integer(required=True)
    sender = fields.Nested(QuoteSenderSchema, allow_none=True, required=True)
    type = fields.String(required=True)
    preview = fields.String(required=True, metadata={"description": "one line, as the conversation list words it"})
    recalled = fields.Boolean(required=True)


class ReactionSchema(ma.Schema):
    emoji = fields.String(required=True)
    count = fields.Integer(required=True)
    me = fields.Boolean(required=True, metadata={"description": "the caller is among them"})


MENTIONS_DOC = f"user ids mentioned (at most {MENTIONS_MAX}, members) or \"all\" (owner and admins); user groups " \
               "and rooms only"


class MessageSchema(ma.Schema):
    id = fields.Integer(required=True)
    group_id = fields.Integer(required=True)
    seq = fields.Integer(required=True, metadata={"description": "gap-free position in the group, from 1"})
    sender = fields.Nested(UserSummarySchema, allow_none=True, required=True,
                           metadata={"description": "null for system messages"})
    type = fields.String(required=True, metadata={"description": "txt, img, audio, video, location, file, "
                                                                 "custom, offer or system"})
    body = fields.Dict(required=True, metadata={"description": "{} once recalled"})
    ext = fields.Dict(allow_none=True, required=True)
    client_id = fields.String(allow_none=True, required=True)
    # Messages are serialized once as JSON-ready dicts (REST and WebSocket alike).
    created_at = fields.String(required=True, metadata={"format": "date-time"})
    recalled = fields.Boolean(required=True)
    reply_to = fields.Nested(QuoteSchema, allow_none=True, required=True)
    mentions = fields.Raw(allow_none=True, required=True, metadata={"description": MENTIONS_DOC})
    edited_at = fields.String(allow_none=True, required=True, metadata={"format": "date-time"})
    revision = fields.Integer(required=True, metadata={"description": "how many times it was edited"})
    reactions = fields.List(fields.Nested(ReactionSchema),
                            metadata={"description": "history pages only: each emoji, how many reacted, and "
                                                     "whether the caller did, in order of first reaction"})


class MessagePageSchema(ma.Schema):
    items = fields.List(fields.Nested(MessageSchema), required=True)
    next_cursor = fields.String(allow_none=True, required=True,
                                metadata={"description": "seq for the next page's before_seq (backwards) "
                                                         "or after_seq (forwards); null at the end"})


class HistoryArgsSchema(ma.Schema):
    before_seq = fields.Integer(validate=validate.Range(min=1, max=MAX_INT),
                                metadata={"description": "only seq < before_seq"})
    after_seq = fields.Integer(validate=SEQ, metadata={"description": "only seq > after_seq"})
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_HISTORY_LIMIT))


class ReplyToSchema(ma.Schema):
    id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=MAX_BIGINT))


class TxtEditSchema(ma.Schema):
    text = fields.String(required=True, validate=validate.Length(min=1, max=TEXT_MAX))


class SendMessageSchema(ma.Schema):
    client_id = fields.String(required=True, validate=validate.Length(min=1, max=CLIENT_ID_MAX),
                              metadata={"description": "the client's idempotency key"})
    type = fields.String(required=True, validate=validate.OneOf(CLIENT_TYPES))
    body = fields.Dict(required=True, metadata={"description": "shape depends on type (API.md)"})
    ext = fields.Dict(allow_none=True, load_default=None,
                      metadata={"description": f"any JSON object up to {EXT_MAX_BYTES} bytes, kept verbatim"})
    # Input without JSON Schema composition (anyOf/oneOf): `mentions` is checked by the send (its rule says how).
    reply_to = fields.Nested(ReplyToSchema, metadata={"description": "the message of this group it answers"})
    mentions = fields.Raw(allow_none=True, metadata={"description": MENTIONS_DOC})


class EditMessageSchema(ma.Schema):
    body = fields.Nested(TxtEditSchema, required=True)


class ReadsSchema(ma.Schema):
    read = fields.List(fields.Nested(UserSummarySchema), required=True)
    unread = fields.List(fields.Nested(UserSummarySchema), required=True)
    read_count = fields.Integer(required=True)
    unread_count = fields.Integer(required=True)


class ReactionsSchema(ma.Schema):
    group_id = fields.Integer(required=True)
    message_id = fields.Integer(required=True)
    seq = fields.Integer(required=True)
    reactions = fields.List(fields.Nested(ReactionSchema), required=True)


class ReadMarkerSchema(ma.Schema):
    seq = fields.Integer(required=True, strict=True, validate=SEQ)
