"""Input and output schemas of chat messages."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from chat.messages.bodies import CLIENT_ID_MAX, CLIENT_TYPES, EXT_MAX_BYTES
from core.input import MAX_INT, SEQ
from marketplace.users.schemas import UserSummarySchema

MAX_HISTORY_LIMIT = 100


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


class SendMessageSchema(ma.Schema):
    client_id = fields.String(required=True, validate=validate.Length(min=1, max=CLIENT_ID_MAX),
                              metadata={"description": "the client's idempotency key"})
    type = fields.String(required=True, validate=validate.OneOf(CLIENT_TYPES))
    body = fields.Dict(required=True, metadata={"description": "shape depends on type (API.md)"})
    ext = fields.Dict(allow_none=True, load_default=None,
                      metadata={"description": f"any JSON object up to {EXT_MAX_BYTES} bytes, kept verbatim"})


class ReadMarkerSchema(ma.Schema):
    seq = fields.Integer(required=True, strict=True, validate=SEQ)
