"""HTTP routes of chat groups: inquiries about listings, direct chats, the caller's groups."""
from __future__ import annotations

from chat.groups import services
from chat.groups.schemas import GroupDetailSchema, GroupListArgsSchema, GroupSchema
from core.api import Blueprint
from core.auth import auth_required, current_user
from core.pagination import page_schema
from core.ratelimit import by_user, rate_limited

bp = Blueprint("chat_groups", __name__, description="Chat groups: inquiries, direct chats, membership")


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
