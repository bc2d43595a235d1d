"""Output and query schemas of chat groups (item, direct and room)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from chat.models import GROUP_KINDS, ChatGroup, ChatMember
from core.input import ROW_ID
from core.pagination import PageArgsSchema
from marketplace.users.schemas import UserSummarySchema


@dataclass
class GroupView:
    """A group as one member sees it: their read marker, and (detail only) the members."""

    group: ChatGroup
    last_read_seq: int
    members: list[ChatMember] | None = None
    member_count: int | None = None


class ListingSummarySchema(ma.Schema):
    """The listing an item group is about."""

    id = fields.Integer(required=True)
    title = fields.String(required=True)
    price_cents = fields.Integer(required=True)
    kind = fields.String(required=True)
    status = fields.String(required=True)
    cover_url = fields.String(required=True, allow_none=True, dump_only=True,
                              metadata={"description": "the first image, or null"})


class MemberSchema(ma.Schema):
    user = fields.Nested(UserSummarySchema, required=True)
    role = fields.String(required=True, metadata={"description": "owner, admin or member"})
    joined_at = fields.DateTime(required=True)
    muted_until = fields.DateTime(allow_none=True, dump_default=None, metadata={
        "description": "groups and rooms: the member may not send until then (null: not muted)"})


class GroupFieldsSchema(ma.Schema):
    """What every view of a group shows: a member's (GroupSchema) and an admin's (chat.admin)."""

    id = fields.Integer(required=True)
    kind = fields.String(required=True, metadata={"description": "item, direct, group or room"})
    name = fields.String(allow_none=True, required=True)
    description = fields.String(required=True)
    listing = fields.Nested(ListingSummarySchema, allow_none=True, required=True)
    read_only = fields.Boolean(required=True)
    last_seq = fields.Integer(required=True, metadata={"description": "seq of the latest message, 0 when none"})
    last_message_at = fields.DateTime(required=True, metadata={"description": "latest activity"})
    created_at = fields.DateTime(required=True)


class GroupSchema(GroupFieldsSchema):
    last_read_seq = fields.Integer(required=True, metadata={"description": "the caller's read marker"})
    unread_count = fields.Integer(required=True)

    @ma.pre_dump
    def _flatten(self, view: GroupView, **_kw: Any) -> dict[str, Any]:
        g = view.group
        return {"id": g.id, "kind": g.kind, "name": g.name, "description": g.description,
                "listing": g.listing, "read_only": g.read_only, "last_seq": g.last_seq,
                "last_read_seq": view.last_read_seq, "unread_count": max(g.last_seq - view.last_read_seq, 0),
                "last_message_at": g.last_message_at, "created_at": g.created_at,
                "members": view.members, "member_count": view.member_count}


class GroupDetailSchema(GroupSchema):
    members = fields.List(fields.Nested(MemberSchema), required=True,
                          metadata={"description": "owners and admins first; at most 100"})
    member_count = fields.Integer(required=True)


class GroupListArgsSchema(PageArgsSchema):
    kind = fields.String(validate=validate.OneOf(GROUP_KINDS))


GROUP_NAME = validate.Length(min=1, max=64)
#: user ids one request may name (invites, a new group's members)
USER_IDS = validate.Length(min=1, max=100)


class GroupCreateSchema(ma.Schema):
    name = fields.String(required=True, validate=GROUP_NAME)
    member_ids = fields.List(fields.Integer(strict=True, validate=ROW_ID), load_default=list,
                             validate=validate.Length(max=100),
                             metadata={"description": "users invited at once (the creator is the owner)"})


class GroupRenameSchema(ma.Schema):
    name = fields.String(required=True, validate=GROUP_NAME)


class InviteSchema(ma.Schema):
    user_ids = fields.List(fields.Integer(strict=True, validate=ROW_ID), required=True, validate=USER_IDS,
                           metadata={"description": "users to add; members already in are skipped"})
