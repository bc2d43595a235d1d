"""Who may post where: the checks of a send, made on the rows the batched append locks and reads."""
from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple, Sequence

from sqlalchemy.engine import Connection

from chat.conversations.archive import is_archived
from chat.groups.access import not_found
from chat.messages.batch_sql import BatchSql
from core.db import utcnow
from core.errors import ApiError, Forbidden
from marketplace.models import User


class Checked(NamedTuple):
    """What `check` locked and read."""

    groups: dict[int, Any]  # group id → its locked row
    members: dict[int, dict[int, str]]  # group id → member id → role
    senders: dict[int, Any]  # user id → user row
    refusals: dict[int, ApiError]  # send index → why it is refused
    rows: list[Any]  # the member rows as read (with their read markers)


def check(conn: Connection, q: BatchSql, sends: Sequence[Any]) -> Checked:
    """Lock the sends' groups (ascending id) and read what posting takes. A missing group refuses every
    send; `posting_refusal` a checked one."""
    locked, rows = q.lock_with_members(conn, [s.group_id for s in sends], {s.sender_id for s in sends if s.sender_id})
    groups = {row.id: row for row in locked}
    members: dict[int, dict[int, str]] = {gid: {} for gid in groups}
    muted: dict[tuple[int, int], datetime] = {}  # (group, user) → muted_until, for the muted ones
    senders: dict[int, Any] = {}
    for row in rows:
        members[row.group_id][row.user_id] = row.role
        if row.muted_until is not None:
            muted[(row.group_id, row.user_id)] = row.muted_until
        if row.id is not None:
            senders[row.id] = row
    # Server posts may come from a user who is no member (an admin's test message); a member's send
    # from a non-member is refused whatever their user row says.
    if outsiders := {s.sender_id for s in sends if s.sender_id and not s.checked} - senders.keys():
        senders.update((row.id, row) for row in q.read(conn, "senders", outsiders))
    refusals: dict[int, ApiError] = {}
    for s in sends:
        group = groups.get(s.group_id)
        refusal: ApiError | None = not_found() if group is None else None
        if refusal is None and s.checked:
            refusal = posting_refusal(group, role=members[s.group_id].get(s.sender_id),
                                      muted_until=muted.get((s.group_id, s.sender_id)),
                                      sender=senders.get(s.sender_id))
        if refusal is not None:
            refusals[s.index] = refusal
    return Checked(groups, members, senders, refusals, rows)


def posting_refusal(group: Any, *, role: str | None, sender: Any,
                    muted_until: datetime | None = None) -> ApiError | None:
    """Why the sender may not post in this group (404/403), or None when they may.

    `group` has the group's read_only, listing_final_at, listing_status and parties_blocked (the two
    parties of an item or direct group blocked each other); `role` is the sender's there (None: not a
    member), `muted_until` when they are muted there; `sender` their user row (banned_at, banned_until)
    as stored now.
    """
    if group is None or role is None or sender is None:
        return not_found()
    if group.read_only:
        return Forbidden("This conversation is read-only.", code="read_only")
    if is_archived(listing_final_at=group.listing_final_at, listing_status=group.listing_status):
        return Forbidden("This conversation is archived: its listing closed long ago. History stays readable.",
                         code="archived")
    # A member of an item or direct group is one of its two parties: a block between them is theirs.
    if group.parties_blocked:
        return Forbidden("You cannot send messages to this user.", code="blocked")
    if muted_until is not None and muted_until > utcnow():
        return Forbidden("You are muted in this group.", code="muted",
                         details={"muted_until": muted_until.isoformat()})
    # The ban as stored now: a WebSocket connection may hold a User loaded long ago.
    if User.is_banned(sender):
        return ApiError("This account is banned.", status=403, code="banned")
    return None
