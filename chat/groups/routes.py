"""HTTP routes of chat groups: inquiries about listings, direct chats, the caller's groups."""
from __future__ import annotations

from chat.groups import manage, services
from chat.groups.schemas import (
    GroupCreateSchema,
    GroupDetailSchema,
    GroupListArgsSchema,
    GroupRenameSchema,
    GroupSchema,
    InviteSchema,
)
from core.api import Blueprint
from core.auth import auth_required, current_user
from core.pagination import page_schema
from core.ratelimit import by_user, rate_limited

bp = Blueprint("chat_groups", __name__, description="Chat groups: inquiries, direct chats, user groups, membership")


@bp.post("/listings/<int:listing_id>/inquiries")
@auth_required
@rate_limited("inquiry", by=by_user)
@bp.response(201, GroupDetailSchema)
@bp.alt_response(200, schema=GroupDetailSchema, success=True,
                 description="The caller's existing item group about this listing")
def open_inquiry(listing_id: int):
    """Ask the seller about a listing: the buyer's item group (201 new, 200 existing)."""
    view, created = services.open_inquiry(buyer=current_user(), listing_id=listing_id)
    return view, 201 if created else 200


@bp.post("/users/<int:user_id>/direct")
@auth_required
@bp.response(201, GroupDetailSchema)
@bp.alt_response(200, schema=GroupDetailSchema, success=True,
                 description="The existing direct group of the two users")
def open_direct(user_id: int):
    """The one direct group of the caller and another user (201 new, 200 existing)."""
    view, created = services.open_direct(user=current_user(), peer_id=user_id)
    return view, 201 if created else 200


@bp.get("/groups")
@auth_required
@bp.arguments(GroupListArgsSchema, location="query")
@bp.response(200, page_schema(GroupSchema))
def list_groups(args):
    """The groups the caller belongs to, latest activity first."""
    return services.list_groups(user=current_user(), **args)


@bp.get("/groups/<int:group_id>")
@auth_required
@bp.response(200, GroupDetailSchema)
def get_group(group_id: int):
    """A group the caller belongs to, with its members and listing summary."""
    return services.get_group(user=current_user(), group_id=group_id)


@bp.post("/groups")
@auth_required
@bp.arguments(GroupCreateSchema)
@bp.response(201, GroupDetailSchema)
def create_group(data):
    """Create a group (`kind: "group"`) owned by the caller, with the members named (up to GROUP_MAX_MEMBERS).

    403 `blocked` when an invitee and the caller blocked each other; 409 `group_full` beyond the cap.
    """
    return manage.create_group(creator=current_user(), **data)


@bp.patch("/groups/<int:group_id>")
@auth_required
@bp.arguments(GroupRenameSchema)
@bp.response(200, GroupDetailSchema)
def rename_group(data, group_id: int):
    """Rename a group (its owner); members hear `group_renamed` and see a `system` message."""
    return manage.rename_group(actor=current_user(), group_id=group_id, **data)


@bp.delete("/groups/<int:group_id>")
@auth_required
@bp.response(204)
def dissolve_group(group_id: int):
    """Dissolve a group (its owner): a last `system` message and `group_dissolved`, then nobody is a member."""
    manage.dissolve(actor=current_user(), group_id=group_id)


@bp.post("/groups/<int:group_id>/members")
@auth_required
@bp.arguments(InviteSchema)
@bp.response(200, GroupDetailSchema)
def invite(data, group_id: int):
    """Add users to a group (owner and admins; members already in are skipped); members hear `member_joined`.

    403 `blocked` when an invitee and the caller blocked each other; 409 `group_full` beyond the cap.
    """
    return manage.invite(actor=current_user(), group_id=group_id, **data)


@bp.post("/groups/<int:group_id>/leave")
@auth_required
@bp.response(204)
def leave_group(group_id: int):
    """Leave a group; the owner hands it over first (409 `owner_must_transfer`). Members hear `member_left`."""
    manage.leave(user=current_user(), group_id=group_id)
