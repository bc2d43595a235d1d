"""Public chat rooms: create (admins, via /admin/rooms), list, join and leave."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from chat.groups.access import add_members, membership
from chat.models import ChatGroup, ChatMember
from core.db import db
from core.errors import Conflict, NotFound
from core.pagination import Page, paginate
from marketplace.models import User


@dataclass
class RoomView:
    """A room as one user sees it in the room list."""

    room: ChatGroup
    member_count: int
    joined: bool


def create_room(*, creator: User, name: str, description: str = "") -> ChatGroup:
    """Open a public room; its creator becomes the owner."""
    with db.transaction() as s:
        return add_room(s, creator=creator, name=name, description=description)


def add_room(s: Session, *, creator: User, name: str, description: str = "") -> ChatGroup:
    """Insert a room owned by `creator` inside the caller's transaction (flushed: it has its id)."""
    room = ChatGroup(kind="room", name=name, description=description, created_by=creator.id,
                     read_only=False, last_seq=0)
    s.add(room)
    s.flush()
    add_members(s, group_id=room.id, roles={creator.id: "owner"})
    return room


def list_rooms(*, user: User, page: int, page_size: int) -> Page:
    """Every room, most recently active first, with member counts and whether the caller is in it."""
    stmt = (select(ChatGroup).where(ChatGroup.kind == "room")
            .order_by(ChatGroup.last_message_at.desc(), ChatGroup.id.desc()))
    result = paginate(db.session, stmt, page=page, page_size=page_size)
    ids = [room.id for room in result.items]
    counts = dict(db.session.execute(select(ChatMember.group_id, func.count())
                                     .where(ChatMember.group_id.in_(ids)).group_by(ChatMember.group_id)).all())
    mine = set(db.session.scalars(select(ChatMember.group_id)
                                  .where(ChatMember.group_id.in_(ids), ChatMember.user_id == user.id)))
    result.items = [RoomView(room, counts.get(room.id, 0), room.id in mine) for room in result.items]
    return result


def join_room(*, user: User, room_id: int) -> RoomView:
    """Become a member of a room (idempotent); what was said before joining does not count as unread."""
    with db.transaction() as s:
        room = _room(room_id)
        add_members(s, group_id=room_id, roles={user.id: "member"}, read_seq=room.last_seq)
    return _view(room, user)


def leave_room(*, user: User, room_id: int) -> None:
    """Leave a room (idempotent); its owner cannot (409 `owner_cannot_leave`)."""
    with db.transaction() as s:
        _room(room_id)
        member = membership(s, group_id=room_id, user_id=user.id)
        if member is None:
            return
        if member.role == "owner":
            raise Conflict("The owner cannot leave the room.", code="owner_cannot_leave")
        s.execute(delete(ChatMember).where(ChatMember.group_id == room_id, ChatMember.user_id == user.id))


def _room(room_id: int) -> ChatGroup:
    room = db.session.get(ChatGroup, room_id)
    if room is None or room.kind != "room":
        raise NotFound("No such room.")
    return room


def _view(room: ChatGroup, user: User) -> RoomView:
    count = db.session.scalar(select(func.count()).where(ChatMember.group_id == room.id))
    return RoomView(room, count or 0, membership(db.session, group_id=room.id, user_id=user.id) is not None)
