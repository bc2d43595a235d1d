"""Who may change whom in a group or room: the locked group, the actor's role, rank checks, caps."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chat.members.announce import Event, member_event
from chat.messages.send import post_server_messages
from chat.models import ChatGroup, ChatMember
from chat.tables import members_t
from core.errors import Conflict, Forbidden, NotFound, ValidationError
from marketplace.models import User

#: lower is stronger
RANK = {"owner": 0, "admin": 1, "member": 2}
#: setting name of each kind's member cap
CAPS = {"group": "GROUP_MAX_MEMBERS", "room": "ROOM_MAX_MEMBERS"}
MANAGED_KINDS = frozenset({"group", "room"})


@dataclass
class Scene:
    """A group or room locked (FOR UPDATE) for one membership change, and who makes it.

    A site admin acting from the console (`as_admin`) has the owner's powers without being a member.
    """

    s: Session
    group: ChatGroup
    actor: User
    actor_role: str
    as_admin: bool

    def require(self, role: str) -> None:
        """403 unless the actor is `role` or stronger (`not_owner`, `not_group_admin`)."""
        if RANK[self.actor_role] > RANK[role]:
            if role == "owner":
                raise Forbidden("Only the owner can do this.", code="not_owner")
            raise Forbidden("Only the owner and admins can do this.", code="not_group_admin")

    def outrank(self, target: ChatMember) -> None:
        """403 `outranked` unless the actor's role is above the target's (the owner over admins, admins over
        members); a site admin outranks everyone."""
        if not self.as_admin and RANK[self.actor_role] >= RANK[target.role]:
            raise Forbidden("You cannot do this to a member of your rank or above.", code="outranked")

    def member(self, user_id: int) -> ChatMember:
        """A member of the group (404 `not_member` otherwise)."""
        member = find_member(self.s, self.group.id, user_id)
        if member is None:
            raise NotFound("No such member.", code="not_member")
        return member

    def member_ids(self) -> list[int]:
        return list(self.s.scalars(select(members_t.c.user_id).where(members_t.c.group_id == self.group.id)
                                   .order_by(members_t.c.user_id)))

    def count(self) -> int:
        return self.s.scalar(select(func.count()).where(members_t.c.group_id == self.group.id)) or 0

    def check_room_for(self, new: int) -> None:
        """409 `group_full`/`room_full` when `new` more members would pass the kind's cap."""
        limit = current_app.config[CAPS[self.group.kind]]
        if self.count() + new <= limit:
            return
        if self.group.kind == "group":
            raise Conflict(f"This group holds at most {limit} members.", code="group_full", details={"limit": limit})
        raise Conflict(f"This room holds at most {limit} members.", code="room_full", details={"limit": limit})

    def system(self, text: str) -> None:
        """Post a `system` message into a user group (rooms get events only); its event goes out on commit."""
        if self.group.kind == "group":
            post_server_messages(self.s, sender=None, posts=[(self.group.id, "system", {"text": text})])

    def event(self, type: str, recipients: Iterable[int], **data) -> Event:
        return member_event(type, group_id=self.group.id, group_kind=self.group.kind, recipients=recipients,
                            by=self.actor.id, **data)


def find_member(s: Session, group_id: int, user_id: int) -> ChatMember | None:
    return s.scalar(select(ChatMember).where(ChatMember.group_id == group_id, ChatMember.user_id == user_id)
                    .execution_options(populate_existing=True))


def lock_scene(s: Session, *, group_id: int, actor: User, kinds: Iterable[str] = MANAGED_KINDS,
               as_admin: bool = False) -> Scene:
    """Lock the group and find the actor's role: 404 when it is missing, of another kind, or the actor
    is not in it; 409 `group_dissolved` for a dissolved group."""
    group = s.scalar(select(ChatGroup).where(ChatGroup.id == group_id).with_for_update(of=ChatGroup)
                     .execution_options(populate_existing=True))
    kinds = frozenset(kinds)
    if group is None or group.kind not in kinds:
        raise NotFound("No such group.")
    if as_admin:
        role = "owner"
    else:
        member = find_member(s, group_id, actor.id)
        if member is None:
            raise NotFound("No such group.")
        role = member.role
    if group.kind == "group" and group.read_only:
        raise Conflict("This group was dissolved.", code="group_dissolved")
    return Scene(s, group, actor, role, as_admin)


def users_by_id(s: Session, user_ids: Iterable[int], field: str) -> list[User]:
    """The users, in the order given (400 `unknown_user` naming the missing ids)."""
    ids = list(dict.fromkeys(user_ids))
    found = {u.id: u for u in s.scalars(select(User).where(User.id.in_(ids)))} if ids else {}
    missing = [uid for uid in ids if uid not in found]
    if missing:
        raise ValidationError("No such user.", code="unknown_user",
                              details={"fields": {field: [f"No user {uid}." for uid in missing]}})
    return [found[uid] for uid in ids]
