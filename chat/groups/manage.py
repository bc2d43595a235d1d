"""User groups (kind "group"): create, invite, leave, rename, dissolve. Members, roles, mutes and
ownership are managed in chat.members.services, shared with rooms."""
from __future__ import annotations

from sqlalchemy import update

from chat.groups.access import add_members, remove_members
from chat.groups.schemas import GroupView
from chat.groups.services import get_group
from chat.members.announce import (
    DISSOLVED_TEXT,
    Event,
    announce,
    created_text,
    joined_text,
    left_text,
    renamed_text,
)
from chat.members.rules import Scene, lock_scene, users_by_id
from chat.models import ChatGroup
from chat.tables import groups_t
from core.db import db
from core.errors import Conflict
from marketplace.audit import record_audit
from marketplace.models import User
from marketplace.users.blocks import ensure_not_blocked

GROUP = ("group",)


def create_group(*, creator: User, name: str, member_ids: list[int] | None = None) -> GroupView:
    """A user's new group: they own it, the members named are in it (see `open_group`)."""
    return get_group(user=creator, group_id=open_group(creator=creator, name=name, member_ids=member_ids))


def open_group(*, creator: User, name: str, member_ids: list[int] | None = None,
               owner_id: int | None = None, as_admin: bool = False, members_field: str = "member_ids") -> int:
    """A new group's id: owned by its creator (or, from the console, by `owner_id`) with the members invited.

    400 `unknown_user`, 403 `blocked` when an invitee and the creator blocked each other, 409
    `group_full` beyond GROUP_MAX_MEMBERS. `members_field` is the request field holding `member_ids`
    (what an `unknown_user` error names).
    """
    with db.transaction() as s:
        owner = users_by_id(s, [owner_id], "owner_id")[0] if owner_id is not None else creator
        invited = [u for u in users_by_id(s, member_ids or [], members_field) if u.id != owner.id]
        if not as_admin:
            for user in invited:
                ensure_not_blocked(actor_id=creator.id, other_id=user.id)
        group = ChatGroup(kind="group", name=name, description="", created_by=creator.id, read_only=False,
                          last_seq=0)
        s.add(group)
        s.flush()
        scene = Scene(s, group, creator, "owner", as_admin)
        scene.check_room_for(1 + len(invited))
        add_members(s, group_id=group.id, roles={owner.id: "owner", **{u.id: "member" for u in invited}})
        scene.system(created_text(owner, invited))
        events: list[Event] = []
        everyone = scene.member_ids()
        events.append(scene.event("member_joined", everyone, user_ids=everyone, member_count=len(everyone)))
        if as_admin:
            record_audit(s, actor_id=creator.id, action="group.create", target_type="group", target_id=group.id,
                         details={"kind": "group", "owner_id": owner.id, "members": everyone})
        announce(events)
    return group.id


def invite(*, actor: User, group_id: int, user_ids: list[int]) -> GroupView:
    """Invite users into a group as its owner or an admin; the group as the actor sees it after."""
    invite_users(actor=actor, group_id=group_id, user_ids=user_ids)
    return get_group(user=actor, group_id=group_id)


def invite_users(*, actor: User, group_id: int, user_ids: list[int], as_admin: bool = False) -> None:
    """Add users to a group (owner and admins); members already in are skipped, so a repeat is harmless.

    403 `blocked` when an invitee and the inviter blocked each other, 409 `group_full` beyond the cap.
    """
    with db.transaction() as s:
        scene = lock_scene(s, group_id=group_id, actor=actor, kinds=GROUP, as_admin=as_admin)
        scene.require("admin")
        current = set(scene.member_ids())
        new = [u for u in users_by_id(s, user_ids, "user_ids") if u.id not in current]
        events: list[Event] = []
        if new:
            if not as_admin:
                for user in new:
                    ensure_not_blocked(actor_id=actor.id, other_id=user.id)
            scene.check_room_for(len(new))
            add_members(s, group_id=group_id, roles={u.id: "member" for u in new}, read_seq=scene.group.last_seq)
            scene.system(joined_text(None if as_admin else actor, new))
            everyone = scene.member_ids()
            events.append(scene.event("member_joined", everyone, user_ids=[u.id for u in new],
                                      member_count=len(everyone)))
            if as_admin:
                record_audit(s, actor_id=actor.id, action="group.member_add", target_type="group",
                             target_id=group_id, details={"user_ids": [u.id for u in new]})
        announce(events)


def leave(*, user: User, group_id: int) -> None:
    """Leave a group; its owner hands it over (or dissolves it) first (409 `owner_must_transfer`)."""
    with db.transaction() as s:
        scene = lock_scene(s, group_id=group_id, actor=user, kinds=GROUP)
        if scene.actor_role == "owner":
            raise Conflict("The owner must hand the group over before leaving.", code="owner_must_transfer")
        recipients = scene.member_ids()
        scene.system(left_text(user))
        events: list[Event] = []
        remove_members(s, group_id=group_id, user_ids=[user.id])
        events.append(scene.event("member_left", recipients, user_id=user.id, member_count=len(recipients) - 1))
        announce(events)


def rename_group(*, actor: User, group_id: int, name: str) -> GroupView:
    """Rename a group as its owner; the group after."""
    rename(actor=actor, group_id=group_id, name=name)
    return get_group(user=actor, group_id=group_id)


def rename(*, actor: User, group_id: int, name: str, as_admin: bool = False) -> None:
    """Rename a group (the owner, or a site admin)."""
    with db.transaction() as s:
        scene = lock_scene(s, group_id=group_id, actor=actor, kinds=GROUP, as_admin=as_admin)
        scene.require("owner")
        events: list[Event] = []
        if name != scene.group.name:
            s.execute(update(groups_t).where(groups_t.c.id == group_id).values(name=name))
            scene.system(renamed_text(name))
            events.append(scene.event("group_renamed", scene.member_ids(), name=name))
            if as_admin:
                record_audit(s, actor_id=actor.id, action="group.rename", target_type="group", target_id=group_id,
                             details={"name": name})
        announce(events)


def dissolve(*, actor: User, group_id: int, as_admin: bool = False) -> None:
    """Dissolve a group (the owner): a last `system` message, then nobody is a member and it is read-only.
    What was said stays in the former members' synced history."""
    with db.transaction() as s:
        scene = lock_scene(s, group_id=group_id, actor=actor, kinds=GROUP, as_admin=as_admin)
        scene.require("owner")
        recipients = scene.member_ids()
        scene.system(DISSOLVED_TEXT)
        events: list[Event] = []
        remove_members(s, group_id=group_id)
        s.execute(update(groups_t).where(groups_t.c.id == group_id).values(read_only=True))
        events.append(scene.event("group_dissolved", recipients))
        if as_admin:
            record_audit(s, actor_id=actor.id, action="group.dissolve", target_type="group", target_id=group_id,
                         details={"members": recipients})
        announce(events)

