"""HTTP routes managing members of user groups and rooms: remove/kick, roles, ownership, mutes."""
from __future__ import annotations

from chat.groups.schemas import MemberSchema
from chat.members import services
from chat.members.schemas import MuteSchema, OwnerSchema, RoleSchema
from core.api import Blueprint
from core.auth import auth_required, current_user

bp = Blueprint("chat_members", __name__, description="Members of groups and rooms: remove, roles, owner, mute")


@bp.delete("/groups/<int:group_id>/members/<int:user_id>")
@auth_required
@bp.response(204)
def remove_member(group_id: int, user_id: int):
    """Remove a member of a group or kick one out of a room (owner: admins and members; admins: members).

    A kicked user cannot join the room again for ROOM_KICK_SECONDS (403 `kicked`). Members hear
    `member_removed`; a group also gets a `system` message, and the removed user stops receiving it.
    """
    services.remove_member(actor=current_user(), group_id=group_id, user_id=user_id)


@bp.put("/groups/<int:group_id>/members/<int:user_id>/role")
@auth_required
@bp.arguments(RoleSchema)
@bp.response(200, MemberSchema)
def set_role(data, group_id: int, user_id: int):
    """Grant or revoke admin in a group or room (the owner only); members hear `role_changed`."""
    return services.set_role(actor=current_user(), group_id=group_id, user_id=user_id, **data)


@bp.post("/groups/<int:group_id>/owner")
@auth_required
@bp.arguments(OwnerSchema)
@bp.response(200, MemberSchema)
def transfer_owner(data, group_id: int):
    """Hand a group or room over to another member (the owner only); the previous owner becomes an admin."""
    return services.transfer_owner(actor=current_user(), group_id=group_id, **data)


@bp.post("/groups/<int:group_id>/members/<int:user_id>/mute")
@auth_required
@bp.arguments(MuteSchema)
@bp.response(200, MemberSchema)
def mute_member(data, group_id: int, user_id: int):
    """Mute a member for a time (owner and admins, over lower ranks): their sends get 403 `muted`."""
    return services.mute_member(actor=current_user(), group_id=group_id, user_id=user_id, **data)
