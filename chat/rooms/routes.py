"""HTTP routes of public chat rooms: list, join, leave."""
from __future__ import annotations

from chat.rooms import services
from chat.rooms.schemas import RoomListArgsSchema, RoomSchema
from core.api import Blueprint
from core.auth import auth_required, current_user
from core.pagination import page_schema

bp = Blueprint("chat_rooms", __name__, description="Public chat rooms")


@bp.get("/rooms")
@auth_required
@bp.arguments(RoomListArgsSchema, location="query")
@bp.response(200, page_schema(RoomSchema))
def list_rooms(args):
    """Public chat rooms, most recently active first."""
    return services.list_rooms(user=current_user(), **args)


@bp.post("/rooms/<int:room_id>/join")
@auth_required
@bp.response(200, RoomSchema)
def join_room(room_id: int):
    """Join a room (joining twice is harmless); its messages then come live and in history."""
    return services.join_room(user=current_user(), room_id=room_id)


@bp.post("/rooms/<int:room_id>/leave")
@auth_required
@bp.response(204)
def leave_room(room_id: int):
    """Leave a room; its owner cannot (409)."""
    services.leave_room(user=current_user(), room_id=room_id)
