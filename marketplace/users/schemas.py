"""Input and output schemas of users, tokens and blocks."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from core.pagination import PageArgsSchema
from marketplace.uploads.urls import UploadUrl

USERNAME = validate.Regexp(r"^[A-Za-z0-9_.-]{3,32}$",
                           error="3–32 characters of letters, digits, '_', '.' or '-'.")
NICKNAME = validate.Length(min=1, max=32)


class RegisterSchema(ma.Schema):
    username = fields.String(required=True, validate=USERNAME)
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=8, max=128))
    nickname = fields.String(validate=NICKNAME)


class TokenRequestSchema(ma.Schema):
    grant_type = fields.String(required=True, validate=validate.OneOf(["password"]))
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=128))


class ProfileUpdateSchema(ma.Schema):
    nickname = fields.String(validate=NICKNAME)
    avatar_url = UploadUrl(allow_none=True, kind="image")
    bio = fields.String(validate=validate.Length(max=500))


class UserSummarySchema(ma.Schema):
    """How another user appears inside a listing, claim, review or message."""

    id = fields.Integer(required=True)
    nickname = fields.String(required=True)
    avatar_url = fields.String(allow_none=True, required=True)


class PublicUserSchema(UserSummarySchema):
    username = fields.String(required=True)
    bio = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    rating_avg = fields.Float(allow_none=True, required=True,
                              metadata={"description": "mean review rating, null without reviews"})
    rating_count = fields.Integer(required=True)


class MeSchema(PublicUserSchema):
    role = fields.String(required=True, metadata={"description": "user or admin"})


class TokenSchema(ma.Schema):
    access_token = fields.String(required=True)
    token_type = fields.String(required=True)
    expires_in = fields.Integer(required=True, metadata={"description": "seconds"})
    user = fields.Nested(MeSchema, required=True)


class WsTicketSchema(ma.Schema):
    ticket = fields.String(required=True, metadata={"description": "use once: `/ws?ticket=...`"})
    expires_in = fields.Integer(required=True, metadata={"description": "seconds"})


class BlockSchema(ma.Schema):
    user = fields.Nested(UserSummarySchema, required=True, attribute="blocked")
    created_at = fields.DateTime(required=True)


class BlockListArgsSchema(PageArgsSchema):
    pass
