"""Admin services for groups and rooms: list and open any group, create direct/item groups and rooms,
add members, appoint room admins and remove members. Every change is audit-logged in its transaction."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from chat.admin.members import remove_group_member, set_group_member
from chat.events import emit
from chat.groups.access import add_members, direct_key, member_ids, membership, remove_members
from chat.groups.manage import open_group
from chat.models import ChatGroup, ChatMember
from chat.rooms.services import add_room
from core.db import db
from core.errors import Conflict, NotFound, ValidationError
from core.pagination import Page
from marketplace.audit import record_audit
from marketplace.models import Listing, User

MEMBERS_SHOWN = 100
ROOM_ROLES = ("member", "admin")


@dataclass
class AdminGroupView:
    """A group as the console shows it: any group, with its member count and (detail) members."""

    group: ChatGroup
    member_count: int
    members: list[ChatMember] | None = None


def list_groups(*, page: int, page_size: int, kind: str | None = None, q: str | None = None,
                user_id: int | None = None) -> Page:
    """Every group, latest activity first; `q` matches the name or the listing title, `user_id` a member."""
    stmt = select(ChatGroup).outerjoin(Listing, Listing.id == ChatGroup.listing_id)
    if kind is not None:
        stmt = stmt.where(ChatGroup.kind == kind)
    if q:
        needle = q.lower()
        stmt = stmt.where(or_(func.lower(ChatGroup.name).contains(needle, autoescape=True),
                              func.lower(Listing.title).contains(needle, autoescape=True)))
    if user_id is not None:
        stmt = stmt.where(ChatGroup.id.in_(select(ChatMember.group_id).where(ChatMember.user_id == user_id)))
    s = db.session
    total = s.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    groups = s.scalars(stmt.order_by(ChatGroup.last_message_at.desc(), ChatGroup.id.desc())
                       .limit(page_size).offset((page - 1) * page_size)).all()
    counts = dict(s.execute(select(ChatMember.group_id, func.count()).where(
        ChatMember.group_id.in_([g.id for g in groups])).group_by(ChatMember.group_id)).all())
    return Page(items=[AdminGroupView(g, counts.get(g.id, 0)) for g in groups], page=page,
                page_size=page_size, total=total)


def get_group(*, group_id: int) -> AdminGroupView:
    """Any group with its members, owners and admins first (404 when it does not exist)."""
    s = db.session
    group = s.get(ChatGroup, group_id)
    if group is None:
        raise NotFound("No such group.")
    rank = case((ChatMember.role == "owner", 0), (ChatMember.role == "admin", 1), else_=2)
    members = list(s.scalars(select(ChatMember).where(ChatMember.group_id == group_id)
                             .order_by(rank, ChatMember.joined_at, ChatMember.user_id).limit(MEMBERS_SHOWN)))
    count = len(members)
    if count == MEMBERS_SHOWN:
        count = s.scalar(select(func.count()).where(ChatMember.group_id == group_id)) or 0
    return AdminGroupView(group, count, members)


def _user(user_id: int, field: str) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise ValidationError("No such user.", code="unknown_user",
                              details={"fields": {field: [f"No user {user_id}."]}})
    return user


def create_group(*, admin: User, kind: str, user_ids: list[int] | None = None, listing_id: int | None = None,
                 buyer_id: int | None = None, name: str | None = None,
                 owner_id: int | None = None) -> tuple[AdminGroupView, bool]:
    """The direct group of two users, or the item group of a buyer about a listing; created when missing
    (True), else the existing one (False). Members hear of a new group on /ws. A user group (`group`)
    is always new: `owner_id` owns it, `user_ids` are its members."""
    if kind == "group":
        group_id = open_group(creator=admin, name=name or "", member_ids=user_ids, owner_id=owner_id, as_admin=True,
                              members_field="user_ids")
        return get_group(group_id=group_id), True
    args = {"admin": admin, "kind": kind, "user_ids": user_ids, "listing_id": listing_id, "buyer_id": buyer_id,
            "name": name}
    try:
        return _create_group(**args)  # type: ignore[arg-type]
    except IntegrityError:  # a concurrent request created the same group first: now it exists
        return _create_group(**args)  # type: ignore[arg-type]


def _create_group(*, admin: User, kind: str, user_ids: list[int] | None, listing_id: int | None,
                  buyer_id: int | None, name: str | None) -> tuple[AdminGroupView, bool]:
    with db.transaction() as s:
        if kind == "direct":
            a, b = (_user(uid, "user_ids").id for uid in user_ids or ())
            existing = s.scalar(select(ChatGroup.id).where(ChatGroup.direct_key == direct_key(a, b)))
            group = None if existing else ChatGroup(kind="direct", direct_key=direct_key(a, b), name=name)
            roles = {a: "member", b: "member"}
        else:
            listing = s.get(Listing, listing_id)
            if listing is None:
                raise ValidationError("No such listing.", details={"fields": {"listing_id": ["No such listing."]}})
            buyer = _user(buyer_id, "buyer_id")  # type: ignore[arg-type]
            if buyer.id == listing.seller_id:
                raise Conflict("The seller cannot be the buyer of their own listing.", code="seller_is_buyer")
            existing = s.scalar(select(ChatGroup.id).where(ChatGroup.listing_id == listing.id,
                                                           ChatGroup.buyer_id == buyer.id))
            group = None if existing else ChatGroup(kind="item", listing_id=listing.id, buyer_id=buyer.id,
                                                    seller_id=listing.seller_id, name=name)
            roles = {listing.seller_id: "member", buyer.id: "member"}
        if group is not None:
            group.created_by, group.description, group.read_only, group.last_seq = admin.id, "", False, 0
            s.add(group)
            s.flush()
            add_members(s, group_id=group.id, roles=roles)
            record_audit(s, actor_id=admin.id, action="group.create", target_type="group", target_id=group.id,
                         details={"kind": kind, "members": sorted(roles)})
            emit({"type": "group", "group_id": group.id, "kind": kind, "action": "created",
                  "recipients": sorted(roles)})
    group_id = existing or group.id  # type: ignore[union-attr]
    return get_group(group_id=group_id), group is not None


def create_room(*, admin: User, name: str, description: str = "") -> AdminGroupView:
    """Open a public room owned by the admin."""
    with db.transaction() as s:
        room = add_room(s, creator=admin, name=name, description=description)
        record_audit(s, actor_id=admin.id, action="room.create", target_type="group", target_id=room.id,
                     details={"name": name})
    return get_group(group_id=room.id)


def _kind(group_id: int) -> str | None:
    return db.session.scalar(select(ChatGroup.kind).where(ChatGroup.id == group_id))


def _room(group_id: int) -> ChatGroup:
    group = db.session.scalar(select(ChatGroup).where(ChatGroup.id == group_id).with_for_update(of=ChatGroup)
                              .execution_options(populate_existing=True))
    if group is None:
        raise NotFound("No such group.")
    if group.kind != "room":
        raise Conflict("Only the members of rooms and user groups can be changed: item and direct chats are "
                       "between their two parties.", code="fixed_membership", details={"kind": group.kind})
    return group


def set_member(*, admin: User, group_id: int, user_id: int, role: str = "member") -> tuple[ChatMember, bool]:
    """Add a user to a room with `role` (member or admin), or change the role of a member; True when added.

    The owner's role does not change (409 `owner_role`). User groups: see `set_group_member`."""
    if _kind(group_id) == "group":
        return set_group_member(admin=admin, group_id=group_id, user_id=user_id, role=role)
    with db.transaction() as s:
        room = _room(group_id)
        _user(user_id, "user_id")
        member = membership(s, group_id=group_id, user_id=user_id)
        added, old_role = member is None, member.role if member else None
        if member is not None and member.role == "owner":
            raise Conflict("The room's owner keeps that role.", code="owner_role")
        if added:
            add_members(s, group_id=group_id, roles={user_id: role}, read_seq=room.last_seq)
        elif role != old_role:
            s.execute(update(ChatMember).where(ChatMember.group_id == group_id, ChatMember.user_id == user_id)
                      .values(role=role))
        if added or role != old_role:
            record_audit(s, actor_id=admin.id, action="group.member_add" if added else "group.member_role",
                         target_type="group", target_id=group_id,
                         details={"user_id": user_id, "role": role, "previous_role": old_role})
            _member_event(group_id, user_id, role, "added" if added else "role_changed", member_ids(s, group_id))
    member = db.session.scalar(select(ChatMember).where(ChatMember.group_id == group_id, ChatMember.user_id == user_id)
                               .execution_options(populate_existing=True))
    return member, added  # type: ignore[return-value]


def remove_member(*, admin: User, group_id: int, user_id: int) -> None:
    """Remove a member from a room (404 when not a member, 409 for its owner); user groups: see
    `remove_group_member`."""
    if _kind(group_id) == "group":
        return remove_group_member(admin=admin, group_id=group_id, user_id=user_id)
    with db.transaction() as s:
        _room(group_id)
        member = membership(s, group_id=group_id, user_id=user_id)
        if member is None:
            raise NotFound("No such member.")
        if member.role == "owner":
            raise Conflict("The room's owner cannot be removed.", code="owner_cannot_leave")
        _member_event(group_id, user_id, None, "removed", member_ids(s, group_id))
        remove_members(s, group_id=group_id, user_ids=[user_id])
        record_audit(s, actor_id=admin.id, action="group.member_remove", target_type="group", target_id=group_id,
                     details={"user_id": user_id, "role": member.role})


def _member_event(group_id: int, user_id: int, role: str | None, action: str, recipients: list[int]) -> None:
    event: dict[str, Any] = {"type": "member", "group_id": group_id, "user_id": user_id, "role": role,
                             "action": action, "recipients": recipients}
    emit(event)
