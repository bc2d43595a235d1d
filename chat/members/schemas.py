"""Input schemas of member management in groups and rooms (roles, ownership, mutes)."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from chat.members.services import MAX_MUTE_SECONDS
from core.input import ROW_ID


class RoleSchema(ma.Schema):
    role = fields.String(required=True, validate=validate.OneOf(("admin", "member")),
                         metadata={"description": "admin grants, member revokes; ownership moves with /owner"})


class OwnerSchema(ma.Schema):
    user_id = fields.Integer(required=True, strict=True, validate=ROW_ID,
                             metadata={"description": "the new owner (the previous owner becomes an admin)"})


class MuteSchema(ma.Schema):
    seconds = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=MAX_MUTE_SECONDS),
                             metadata={"description": "how long the member may not send; 0 lifts a mute"})
