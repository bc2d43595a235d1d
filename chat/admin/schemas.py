"""Input and output schemas of the admin's group, room, member and message routes."""
from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from chat.admin.groups import ROOM_ROLES, AdminGroupView
from chat.groups.schemas import GroupFieldsSchema, MemberSchema
from chat.messages.bodies import CLIENT_TYPES, EXT_MAX_BYTES
from chat.models import GROUP_KINDS
from core.input import ROW_ID
from core.pagination import PageArgsSchema


class AdminGroupSchema(GroupFieldsSchema):
    member_count = fields.Integer(required=True)

    @ma.pre_dump
    def _flatten(self, view: AdminGroupView, **_kw: Any) -> dict[str, Any]:
        g = view.group
        return {"id": g.id, "kind": g.kind, "name": g.name, "description": g.description, "listing": g.listing,
                "read_only": g.read_only, "member_count": view.member_count, "last_seq": g.last_seq,
                "last_message_at": g.last_message_at, "created_at": g.created_at, "members": view.members}


class AdminGroupDetailSchema(AdminGroupSchema):
    members = fields.List(fields.Nested(MemberSchema), required=True,
                          metadata={"description": "owners and admins first; at most 100"})


class AdminGroupListArgsSchema(PageArgsSchema):
    kind = fields.String(validate=validate.OneOf(GROUP_KINDS))
    q = fields.String(validate=validate.Length(min=1, max=80),
                      metadata={"description": "part of the group's name or its listing's title"})
    user_id = fields.Integer(validate=ROW_ID, metadata={"description": "only groups this user is a member of"})


class AdminGroupCreateSchema(ma.Schema):
    kind = fields.String(required=True, validate=validate.OneOf(("direct", "item", "group")), metadata={
        "description": "direct: the chat of two users (user_ids); item: a buyer's chat about a listing "
                       "(listing_id, buyer_id); group: a user group (name, owner_id, user_ids as members). "
                       "Rooms are made with POST /admin/rooms"})
    user_ids = fields.List(fields.Integer(strict=True, validate=ROW_ID), validate=validate.Length(max=100),
                           metadata={"description": "direct: the two users; group: the members besides the owner",
                                     "uniqueItems": True})
    owner_id = fields.Integer(strict=True, validate=ROW_ID, metadata={"description": "group: its owner"})
    listing_id = fields.Integer(strict=True, validate=ROW_ID, metadata={"description": "item: the listing"})
    buyer_id = fields.Integer(strict=True, validate=ROW_ID, metadata={"description": "item: the buyer"})
    name = fields.String(validate=validate.Length(min=1, max=64), metadata={"description": "a title for the console"})

    @ma.validates_schema
    def _by_kind(self, data: dict[str, Any], **_kw: Any) -> None:
        kind = data.get("kind")
        needed = {"direct": ("user_ids",), "group": ("name", "owner_id")}.get(kind, ("listing_id", "buyer_id"))  # type: ignore[arg-type]
        missing = {name: ["Required for this kind."] for name in needed if name not in data}
        if missing:
            raise ma.ValidationError(missing)
        ids = data.get("user_ids")
        if kind == "direct" and (len(ids) != 2 or len(set(ids)) != 2):  # type: ignore[arg-type]
            raise ma.ValidationError({"user_ids": ["Two different users."]})


class AdminRoomCreateSchema(ma.Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=64))
    description = fields.String(load_default="", validate=validate.Length(max=500))


class AdminMemberSchema(ma.Schema):
    user_id = fields.Integer(required=True, strict=True, validate=ROW_ID)
    role = fields.String(load_default="member", validate=validate.OneOf(ROOM_ROLES),
                         metadata={"description": "member, or admin to appoint an admin of the room or group"})


class AdminOwnerSchema(ma.Schema):
    user_id = fields.Integer(required=True, strict=True, validate=ROW_ID, metadata={
        "description": "the new owner (added as a member first when not one); the previous owner becomes an admin"})


class AdminMessageSchema(ma.Schema):
    type = fields.String(required=True, metadata={
        "description": f"system (from the system, body {{text}}), or a test message as the admin: "
                       f"{', '.join(CLIENT_TYPES)}"})
    body = fields.Dict(required=True, metadata={"description": "shape depends on type (API.md)"})
    ext = fields.Dict(allow_none=True, load_default=None,
                      metadata={"description": f"any JSON object up to {EXT_MAX_BYTES} bytes, kept verbatim"})
