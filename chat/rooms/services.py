"""Public chat rooms: create (admins, via /admin/rooms), list, join and leave."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chat.groups.access import add_members, membership, remove_members
from chat.members.announce import announce
from chat.members.rules import Scene
from chat.models import ChatGroup, ChatKick, ChatMember
from core.db import db, utcnow
from core.errors import Conflict, Forbidden, NotFound
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
    """Become a member of a room (idempotent); what was said before joining does not count as unread.

    403 `kicked` while a kick bars the user (until ROOM_KICK_SECONDS after it); 409 `room_full` at
    ROOM_MAX_MEMBERS. The members hear `member_joined`.
    """
    events = []
    with db.transaction() as s:
        room = _room(room_id, lock=True)
        if membership(s, group_id=room_id, user_id=user.id) is None:
            kicked_until = s.scalar(select(ChatKick.until).where(ChatKick.group_id == room_id,
                                                                 ChatKick.user_id == user.id))
            if kicked_until is not None and kicked_until > utcnow():
                raise Forbidden("You were removed from this room and cannot join it again yet.", code="kicked",
                                details={"until": kicked_until.isoformat()})
            scene = Scene(s, room, user, "member", False)
            scene.check_room_for(1)
            add_members(s, group_id=room_id, roles={user.id: "member"}, read_seq=room.last_seq)
            everyone = scene.member_ids()
            events.append(scene.event("member_joined", everyone, user_ids=[user.id], member_count=len(everyone)))
        announce(events)
    return _view(room, user)


def leave_room(*, user: User, room_id: int) -> None:
    """Leave a room (idempotent); its owner cannot (409 `owner_cannot_leave`). The members hear `member_left`."""
    with db.transaction() as s:
        room = _room(room_id, lock=True)
        member = membership(s, group_id=room_id, user_id=user.id)
        if member is None:
            return
        if member.role == "owner":
            raise Conflict("The owner cannot leave the room.", code="owner_cannot_leave")
        scene = Scene(s, room, user, member.role, False)
        recipients = scene.member_ids()
        remove_members(s, group_id=room_id, user_ids=[user.id])
        event = scene.event("member_left", recipients, user_id=user.id, member_count=len(recipients) - 1)
        announce([event])


def _room(room_id: int, *, lock: bool = False) -> ChatGroup:
    stmt = select(ChatGroup).where(ChatGroup.id == room_id)
    if lock:  # joins and leaves take the room's row lock, as its sends do: the cap holds under concurrency
        stmt = stmt.with_for_update(of=ChatGroup).execution_options(populate_existing=True)
    room = db.session.scalar(stmt)
    if room is None or room.kind != "room":
        raise NotFound("No such room.")
    return room


def _view(room: ChatGroup, user: User) -> RoomView:
    count = db.session.scalar(select(func.count()).where(ChatMember.group_id == room.id))
    return RoomView(room, count or 0, membership(db.session, group_id=room.id, user_id=user.id) is not None)
