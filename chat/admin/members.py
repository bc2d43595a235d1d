"""Admin services for user groups and room owners: the console acts with an owner's powers (set or hand
over the owner, mute, add and remove group members, dissolve), audit-logged like every admin action."""
from __future__ import annotations

from chat.groups import manage
from chat.groups.access import membership
from chat.members import services
from chat.models import ChatMember
from core.db import db
from core.errors import ValidationError
from marketplace.models import User


def set_owner(*, admin: User, group_id: int, user_id: int) -> ChatMember:
    """Make any user the owner of a group or room (added first when not a member); the previous owner
    stays as an admin."""
    return services.transfer_owner(actor=admin, group_id=group_id, user_id=user_id, as_admin=True)


def mute(*, admin: User, group_id: int, user_id: int, seconds: int) -> ChatMember:
    """Mute a member of a group or room for `seconds` (0 lifts it), whatever their role."""
    return services.mute_member(actor=admin, group_id=group_id, user_id=user_id, seconds=seconds, as_admin=True)


def set_group_member(*, admin: User, group_id: int, user_id: int, role: str) -> tuple[ChatMember, bool]:
    """Add a user to a user group (True) and/or set their role (member or admin), as the owner would."""
    if db.session.get(User, user_id) is None:
        raise ValidationError("No such user.", code="unknown_user", details={"fields": {"user_id": [f"No user {user_id}."]}})  # noqa: E501
    added = membership(db.session, group_id=group_id, user_id=user_id) is None
    manage.invite_users(actor=admin, group_id=group_id, user_ids=[user_id], as_admin=True)
    member = services.set_role(actor=admin, group_id=group_id, user_id=user_id, role=role, as_admin=True)
    return member, added


def remove_group_member(*, admin: User, group_id: int, user_id: int) -> None:
    """Remove anyone but the owner from a user group."""
    services.remove_member(actor=admin, group_id=group_id, user_id=user_id, as_admin=True)


def dissolve(*, admin: User, group_id: int) -> None:
    """Dissolve a user group from the console."""
    manage.dissolve(actor=admin, group_id=group_id, as_admin=True)
