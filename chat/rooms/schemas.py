"""Output and query schemas of chat rooms."""
from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import fields

from core.pagination import PageArgsSchema


class RoomSchema(ma.Schema):
    id = fields.Integer(required=True, metadata={"description": "the room's group id"})
    name = fields.String(required=True)
    description = fields.String(required=True)
    read_only = fields.Boolean(required=True)
    member_count = fields.Integer(required=True)
    joined = fields.Boolean(required=True, metadata={"description": "whether the caller is a member"})
    last_seq = fields.Integer(required=True)
    last_message_at = fields.DateTime(required=True)
    created_at = fields.DateTime(required=True)

    @ma.pre_dump
    def _flatten(self, view: Any, **_kw: Any) -> dict[str, Any]:
        room = view.room
        return {"id": room.id, "name": room.name, "description": room.description, "read_only": room.read_only,
                "member_count": view.member_count, "joined": view.joined, "last_seq": room.last_seq,
                "last_message_at": room.last_message_at, "created_at": room.created_at}


class RoomListArgsSchema(PageArgsSchema):
    pass
