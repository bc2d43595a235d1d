"""Who is in a group and who may talk to whom: membership lookups (404 for outsiders), the two parties, members
added and removed."""
from __future__ import annotations

from typing import Iterable

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from chat.events import emit
from chat.inbox import unread
from chat.models import INBOX_KINDS, ChatGroup, ChatMember
from chat.tables import groups_t, members_t
from core.db import dialect_insert
from core.errors import NotFound

#: roles that may moderate a room (recall anyone's message)
MODERATOR_ROLES = frozenset({"owner", "admin"})


def not_found() -> NotFound:
    return NotFound("No such group.")


def direct_key(a_id: int, b_id: int) -> str:
    """The key of the one direct group of two users, whatever the order they are given in."""
    low, high = sorted((a_id, b_id))
    return f"{low}:{high}"


def membership(s: Session, *, group_id: int, user_id: int) -> ChatMember | None:
    return s.get(ChatMember, (group_id, user_id))


def require_member(s: Session, *, group_id: int, user_id: int) -> tuple[ChatGroup, ChatMember]:
    """The group and the caller's membership; 404 when the group does not exist or they are not in it."""
    row = s.execute(select(ChatGroup, ChatMember)
                    .join(ChatMember, (ChatMember.group_id == ChatGroup.id) & (ChatMember.user_id == user_id))
                    .where(ChatGroup.id == group_id)).one_or_none()
    if row is None:
        raise not_found()
    return row[0], row[1]


def member_ids(s: Session, group_id: int) -> list[int]:
    """Every member's user id, ascending."""
    return list(s.scalars(select(members_t.c.user_id).where(members_t.c.group_id == group_id)
                          .order_by(members_t.c.user_id)))


def add_members(s: Session, *, group_id: int, roles: dict[int, str], read_seq: int = 0) -> None:
    """Insert memberships (user id → role) that do not exist yet, having read up to `read_seq`."""
    rows = [{"group_id": group_id, "user_id": uid, "role": role, "last_read_seq": read_seq}
            for uid, role in sorted(roles.items())]
    s.execute(dialect_insert(s, members_t).on_conflict_do_nothing(), rows)


def remove_members(s: Session, *, group_id: int, user_ids: Iterable[int] | None = None) -> None:
    """Delete memberships (all of the group's when `user_ids` is None), the group locked by the caller. What a
    leaving member had unread there leaves their badge with the chat (an `unread` event on commit)."""
    m = members_t.c
    ids = sorted(set(user_ids)) if user_ids is not None else member_ids(s, group_id)
    kind, last_seq = s.execute(select(groups_t.c.kind, groups_t.c.last_seq).where(groups_t.c.id == group_id)).one()
    deltas: dict[int, int] = {}
    if kind in INBOX_KINDS:
        unread.lock_counters(s, ids)  # the counters before the member rows, as every badge change
        rows = s.execute(select(m.user_id, m.last_read_seq, m.hidden_until_seq, m.muted)
                         .where(m.group_id == group_id, m.user_id.in_(ids))).all()
        deltas = {row.user_id: -unread.unread_of(row, last_seq) for row in rows if not row.muted}
    s.execute(delete(ChatMember).where(ChatMember.group_id == group_id, ChatMember.user_id.in_(ids)))
    for event in unread.unread_events(unread.apply(s, deltas)):
        emit(event)
