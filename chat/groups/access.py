"""Who is in a group and who may talk to whom: membership lookups (404 for outsiders), the two parties."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from chat.models import ChatGroup, ChatMember
from chat.tables import members_t
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


def dialect_insert(s: Session, table):
    """INSERT with ON CONFLICT support for the session's backend (PostgreSQL or SQLite)."""
    module = postgresql if s.get_bind().dialect.name == "postgresql" else sqlite
    return module.insert(table)


def add_members(s: Session, *, group_id: int, roles: dict[int, str], read_seq: int = 0) -> None:
    """Insert memberships (user id → role) that do not exist yet, having read up to `read_seq`."""
    rows = [{"group_id": group_id, "user_id": uid, "role": role, "last_read_seq": read_seq}
            for uid, role in sorted(roles.items())]
    s.execute(dialect_insert(s, members_t).on_conflict_do_nothing(), rows)

