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


WECHAT_CODE = validate.Length(min=1, max=128)


class TokenRequestSchema(ma.Schema):
    """`password` grant: username and password; `wechat` grant: the code from wx.login."""

    grant_type = fields.String(required=True, validate=validate.OneOf(["password", "wechat"]))
    username = fields.String(validate=validate.Length(min=1, max=64),
                             metadata={"description": "password grant"})
    password = fields.String(load_only=True, validate=validate.Length(min=1, max=128),
                             metadata={"description": "password grant"})
    code = fields.String(load_only=True, validate=WECHAT_CODE,
                         metadata={"description": "wechat grant: the code wx.login returned (single use)"})

    @ma.validates_schema
    def _fields_of_grant(self, data: dict, **_kw) -> None:
        wanted = {"password": ("username", "password"), "wechat": ("code",)}.get(data.get("grant_type"), ())  # type: ignore[arg-type]
        others = {"username", "password", "code"} - set(wanted)
        errors = {name: ["Missing data for required field."] for name in wanted if name not in data}
        errors.update({name: [f"Not used by the {data['grant_type']} grant."] for name in others if name in data})
        if errors:
            raise ma.ValidationError(errors)


class WeChatCodeSchema(ma.Schema):
    code = fields.String(required=True, load_only=True, validate=WECHAT_CODE,
                         metadata={"description": "the code wx.login returned (single use)"})


class SubscriptionSchema(ma.Schema):
    template_id = fields.String(required=True, validate=validate.Length(min=1, max=128))
    accepted = fields.Boolean(required=True, metadata={
        "description": "true when wx.requestSubscribeMessage answered `accept` for this template"})


class SubscriptionStateSchema(ma.Schema):
    template_id = fields.String(required=True)
    remaining = fields.Integer(required=True, metadata={"description": "messages we may still send"})


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
