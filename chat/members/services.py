"""Managing members of user groups and rooms: remove (a room kick bars rejoining for a while),
grant/revoke admin, hand over ownership, mute for a time. Each change is one transaction under the
group's row lock; a user group gets a `system` message, and every member hears an event after commit."""
from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from chat.groups.access import add_members, remove_members
from chat.members.announce import Event, announce, removed_text, role_text, transfer_text
from chat.members.rules import find_member, lock_scene, users_by_id
from chat.models import ChatKick, ChatMember
from chat.tables import members_t
from core.db import db, dialect_insert, utcnow
from core.errors import Conflict, ValidationError
from marketplace.audit import record_audit
from marketplace.models import User

MAX_MUTE_SECONDS = 30 * 24 * 3600
kicks_t = ChatKick.__table__


def _audit(scene, action: str, **details) -> None:
    if scene.as_admin:  # the console's changes are audit-logged, as every admin action is
        record_audit(scene.s, actor_id=scene.actor.id, action=action, target_type="group",
                     target_id=scene.group.id, details=details)


def remove_member(*, actor: User, group_id: int, user_id: int, as_admin: bool = False) -> None:
    """Remove a member (owner: admins and members; admins: members). In a room this is a kick: the user
    cannot join again for ROOM_KICK_SECONDS. The removed user hears `member_removed` too."""
    with db.transaction() as s:
        scene = lock_scene(s, group_id=group_id, actor=actor, as_admin=as_admin)
        scene.require("admin")
        target = scene.member(user_id)
        scene.outrank(target)
        if target.role == "owner":
            raise Conflict("The owner cannot be removed; set another owner first.", code="owner_cannot_leave")
        recipients = scene.member_ids()
        user = s.get(User, user_id)
        scene.system(removed_text(user))  # posted while they are a member: they read why
        events: list[Event] = []
        remove_members(s, group_id=group_id, user_ids=[user_id])
        extra = {}
        if scene.group.kind == "room":
            until = utcnow() + timedelta(seconds=current_app.config["ROOM_KICK_SECONDS"])
            stmt = dialect_insert(s, kicks_t).values(group_id=group_id, user_id=user_id, until=until, by_id=actor.id)
            s.execute(stmt.on_conflict_do_update(index_elements=[kicks_t.c.group_id, kicks_t.c.user_id],
                                                 set_={"until": until, "by_id": actor.id}))
            extra["kicked_until"] = until.isoformat()
        events.append(scene.event("member_removed", recipients, user_id=user_id, member_count=len(recipients) - 1,
                                  **extra))
        _audit(scene, "group.member_remove", user_id=user_id, role=target.role)
        announce(events)


def set_role(*, actor: User, group_id: int, user_id: int, role: str, as_admin: bool = False) -> ChatMember:
    """Make a member an admin or a plain member again (the owner only); a no-op when unchanged."""
    if role not in ("admin", "member"):
        raise ValidationError("The role is admin or member; hand ownership over with transfer.",
                              details={"fields": {"role": ["Must be admin or member."]}})
    with db.transaction() as s:
        scene = lock_scene(s, group_id=group_id, actor=actor, as_admin=as_admin)
        scene.require("owner")
        target = scene.member(user_id)
        if target.role == "owner":
            raise Conflict("The owner keeps that role until they hand it over.", code="owner_role")
        events: list[Event] = []
        if target.role != role:
            s.execute(update(members_t).where(members_t.c.group_id == group_id, members_t.c.user_id == user_id)
                      .values(role=role))
            scene.system(role_text(target.user, role))
            events.append(scene.event("role_changed", scene.member_ids(), user_id=user_id, role=role,
                                      previous_role=target.role))
            _audit(scene, "group.member_role", user_id=user_id, role=role, previous_role=target.role)
        announce(events)
    return _member(group_id, user_id)


def transfer_owner(*, actor: User, group_id: int, user_id: int, as_admin: bool = False) -> ChatMember:
    """Make `user_id` the owner; the previous owner stays as an admin. The owner hands over to a member;
    a site admin may name anyone (added as a member first, over the cap if need be)."""
    with db.transaction() as s:
        scene = lock_scene(s, group_id=group_id, actor=actor, as_admin=as_admin)
        scene.require("owner")
        events: list[Event] = []
        target = find_member(s, group_id, user_id) if as_admin else scene.member(user_id)
        if target is None:
            users_by_id(s, [user_id], "user_id")  # 400 `unknown_user` for a missing one
            add_members(s, group_id=group_id, roles={user_id: "member"}, read_seq=scene.group.last_seq)
            events.append(scene.event("member_joined", scene.member_ids(), user_ids=[user_id],
                                      member_count=scene.count()))
            target = scene.member(user_id)
        if target.role != "owner":
            previous_role = target.role
            old = list(s.scalars(select(ChatMember).where(ChatMember.group_id == group_id, ChatMember.role == "owner")))
            s.execute(update(members_t).where(members_t.c.group_id == group_id, members_t.c.role == "owner")
                      .values(role="admin"))
            s.execute(update(members_t).where(members_t.c.group_id == group_id, members_t.c.user_id == user_id)
                      .values(role="owner"))
            scene.system(transfer_text(old[0].user if old else None, target.user))
            recipients = scene.member_ids()
            events += [scene.event("role_changed", recipients, user_id=m.user_id, role="admin", previous_role="owner")
                       for m in old]
            events.append(scene.event("role_changed", recipients, user_id=user_id, role="owner",
                                      previous_role=previous_role))
            _audit(scene, "group.owner", user_id=user_id, previous_owner=[m.user_id for m in old])
        announce(events)
    return _member(group_id, user_id)


def mute_member(*, actor: User, group_id: int, user_id: int, seconds: int, as_admin: bool = False) -> ChatMember:
    """Mute a member for `seconds` (0 lifts it): their sends are refused with 403 `muted` until then.
    Owner: admins and members; admins: members."""
    if not 0 <= seconds <= MAX_MUTE_SECONDS:
        raise ValidationError(f"seconds must be 0–{MAX_MUTE_SECONDS}.",
                              details={"fields": {"seconds": ["Out of range."]}})
    with db.transaction() as s:
        scene = lock_scene(s, group_id=group_id, actor=actor, as_admin=as_admin)
        scene.require("admin")
        target = scene.member(user_id)
        scene.outrank(target)
        until = utcnow() + timedelta(seconds=seconds) if seconds else None
        s.execute(update(members_t).where(members_t.c.group_id == group_id, members_t.c.user_id == user_id)
                  .values(muted_until=until))
        events = [scene.event("member_muted", scene.member_ids(), user_id=user_id,
                              muted_until=until.isoformat() if until else None)]
        _audit(scene, "group.member_mute", user_id=user_id, seconds=seconds)
        announce(events)
    return _member(group_id, user_id)


def _member(group_id: int, user_id: int) -> ChatMember:
    return find_member(db.session, group_id, user_id)  # type: ignore[return-value]
