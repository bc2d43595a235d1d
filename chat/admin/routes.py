"""HTTP routes of the admin console, chat side: groups, rooms, members, messages (admins only)."""
from __future__ import annotations

from chat.admin import groups, members, messages
from chat.admin.schemas import (
    AdminGroupCreateSchema,
    AdminGroupDetailSchema,
    AdminGroupListArgsSchema,
    AdminGroupSchema,
    AdminMemberSchema,
    AdminMessageSchema,
    AdminOwnerSchema,
    AdminRoomCreateSchema,
)
from chat.groups.schemas import MemberSchema
from chat.members.schemas import MuteSchema
from chat.messages.schemas import HistoryArgsSchema, MessagePageSchema, MessageSchema
from core.api import Blueprint
from core.auth import admin_required, current_user
from core.pagination import page_schema

bp = Blueprint("admin_chat", __name__, description="Admin: groups and rooms, members, system and test messages")


@bp.get("/admin/groups")
@admin_required
@bp.arguments(AdminGroupListArgsSchema, location="query")
@bp.response(200, page_schema(AdminGroupSchema))
def list_groups(args):
    """Every group (item, direct, room), latest activity first, with member counts."""
    return groups.list_groups(**args)


@bp.post("/admin/groups")
@admin_required
@bp.arguments(AdminGroupCreateSchema)
@bp.response(201, AdminGroupDetailSchema)
@bp.alt_response(200, schema=AdminGroupDetailSchema, success=True, description="The group already existed")
def create_group(data):
    """Create a direct chat, an item chat (201 new, 200 existing) or a user group with its owner (201).

    direct: the chat of two users; item: a buyer's chat about a listing; group: owner_id, name, user_ids.
    """
    view, created = groups.create_group(admin=current_user(), **data)
    return view, 201 if created else 200


@bp.post("/admin/rooms")
@admin_required
@bp.arguments(AdminRoomCreateSchema)
@bp.response(201, AdminGroupDetailSchema)
def create_room(data):
    """Open a public chat room owned by the calling admin."""
    return groups.create_room(admin=current_user(), **data)


@bp.get("/admin/groups/<int:group_id>")
@admin_required
@bp.response(200, AdminGroupDetailSchema)
def get_group(group_id: int):
    """Any group with its members and listing summary."""
    return groups.get_group(group_id=group_id)


@bp.post("/admin/groups/<int:group_id>/members")
@admin_required
@bp.arguments(AdminMemberSchema)
@bp.response(201, MemberSchema)
@bp.alt_response(200, schema=MemberSchema, success=True, description="Already a member: the role is set")
def set_member(data, group_id: int):
    """Add a user to a room or user group (201) or change a member's role, e.g. appoint an admin (200).

    Item and direct chats keep their two parties (409 `fixed_membership`); the owner's role does
    not change (409 `owner_role`). A room's members get a `member` event on /ws; a group's get
    `member_joined`/`role_changed` and a `system` message.
    """
    member, added = groups.set_member(admin=current_user(), group_id=group_id, **data)
    return member, 201 if added else 200


@bp.delete("/admin/groups/<int:group_id>/members/<int:user_id>")
@admin_required
@bp.response(204)
def remove_member(group_id: int, user_id: int):
    """Remove a member from a room or user group (not its owner); the members and the removed user hear it."""
    groups.remove_member(admin=current_user(), group_id=group_id, user_id=user_id)


@bp.post("/admin/groups/<int:group_id>/messages")
@admin_required
@bp.arguments(AdminMessageSchema)
@bp.response(201, MessageSchema)
def post_message(data, group_id: int):
    """Send a `system` message or a test message (as the admin) into any group; audit-logged."""
    return messages.post_admin_message(admin=current_user(), group_id=group_id, **data)


@bp.get("/admin/groups/<int:group_id>/messages")
@admin_required
@bp.arguments(HistoryArgsSchema, location="query")
@bp.response(200, MessagePageSchema)
def history(args, group_id: int):
    """A page of any group's messages, paged as GET /groups/{id}/messages; every read is audit-logged."""
    return messages.read_history(admin=current_user(), group_id=group_id, **args)


@bp.put("/admin/groups/<int:group_id>/owner")
@admin_required
@bp.arguments(AdminOwnerSchema)
@bp.response(200, MemberSchema)
def set_owner(data, group_id: int):
    """Set the owner of a room (the old console's super admin) or user group; members hear `role_changed`."""
    return members.set_owner(admin=current_user(), group_id=group_id, **data)


@bp.post("/admin/groups/<int:group_id>/members/<int:user_id>/mute")
@admin_required
@bp.arguments(MuteSchema)
@bp.response(200, MemberSchema)
def mute_member(data, group_id: int, user_id: int):
    """Mute a member of a room or user group for a time (0 lifts it); their sends get 403 `muted`."""
    return members.mute(admin=current_user(), group_id=group_id, user_id=user_id, **data)


@bp.delete("/admin/groups/<int:group_id>")
@admin_required
@bp.response(204)
def dissolve_group(group_id: int):
    """Dissolve a user group (404 for other kinds): a last `system` message, then nobody is a member."""
    members.dissolve(admin=current_user(), group_id=group_id)
