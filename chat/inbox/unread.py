"""The unread badge: `chat_inbox_counters.unread_total`, the sum of the unread counts of a user's item,
direct and group chats that are not muted.

Kept exact by deltas, each applied while the user's counter row is locked: a send locks every
member's counter (taking inbox positions) before `arrival_deltas` reads the members' read markers;
reading, hiding, muting and leaving a chat (`groups.access.remove_members`) lock the counter first
(`lock_counters`), then read and change (or delete) the member row. So a total never misses a
concurrent change, and reading it is one primary-key lookup.

Each change also moves the total's version (`unread_version`, one more each time), carried by the `unread`
event and by every conversation page: an event published before a page was read can arrive after it, and a
client that keeps the highest version it has seen never takes the older total for the newer.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from chat.events import Event
from chat.messages import batch_sql
from chat.messages.batch_sql import Badge  # the badge's type, for this module's callers too (unread.Badge)
from chat.tables import counters_t, groups_t, members_t
from core.db import dialect_insert

c = counters_t.c


def unread_of(member: Any, last_seq: int) -> int:
    """One chat's unread count (as the conversation list shows it), from a member row's markers."""
    return max(last_seq - max(member.last_read_seq, member.hidden_until_seq or 0), 0)


def lock_counters(s: Session, user_ids: Iterable[int]) -> None:
    """Take the users' counter row locks, in ascending user id as a send does (creating rows at 0), before
    changing their markers."""
    rows = [{"user_id": uid, "last_pos": 0} for uid in sorted(set(user_ids))]
    if rows:
        stmt = dialect_insert(s, counters_t)
        s.execute(stmt.on_conflict_do_update(index_elements=[c.user_id], set_={"last_pos": c.last_pos}), rows)


def locked_state(s: Session, *, group_id: int, user_id: int) -> Any:
    """Lock the user's counter, then read their membership as it is now: (kind, last_seq,
    last_read_seq, hidden_until_seq, muted, pinned), or None for a non-member."""
    lock_counters(s, [user_id])
    m = members_t.c
    return s.execute(select(groups_t.c.kind, groups_t.c.last_seq, m.last_read_seq, m.hidden_until_seq, m.muted,
                            m.pinned)
                     .select_from(members_t.join(groups_t, groups_t.c.id == m.group_id))
                     .where(m.group_id == group_id, m.user_id == user_id)).one_or_none()


def apply(s: Session | Connection, deltas: Mapping[int, int]) -> dict[int, Badge]:
    """Add each user's delta to their total (their counter rows must be locked); the new badges of
    the users whose total changed."""
    changed = {uid: d for uid, d in deltas.items() if d}
    if not changed:
        return {}
    conn = s.connection() if isinstance(s, Session) else s
    return clamped(batch_sql.for_connection(conn).add_unread(conn, changed))


def shown(total: int, version: int) -> Badge:
    """A stored badge as shown: its total never below 0."""
    return Badge(max(int(total), 0), int(version))


def clamped(badges: Mapping[int, Badge]) -> dict[int, Badge]:
    """Stored badges as shown, by user."""
    return {uid: shown(*badge) for uid, badge in badges.items()}


def badge_of(s: Session | Connection, user_id: int) -> Badge:
    """The user's badge as shown (0, version 0 before their first chat)."""
    row = s.execute(select(c.unread_total, c.unread_version).where(c.user_id == user_id)).one_or_none()
    return shown(*row) if row is not None else Badge(0, 0)


def arrival_deltas(messages: Iterable[tuple[int, int, int | None]],
                   rows: Sequence[Any]) -> tuple[dict[int, int], dict]:
    """The unread deltas of messages `(group_id, seq, sender_id)` appended in this transaction, in
    order, from the member rows as they are before the senders' read markers move (current: read under
    the members' counter locks); and those rows, by group.

    Every other member of a chat they have not muted gets +1; a sender's own chat drops to 0 unread
    (sending moves their read marker to their message).
    """
    messages = list(messages)
    groups = {group_id for group_id, _, _ in messages}
    rows = [row for row in rows if row.group_id in groups]
    members: dict[int, dict[int, Any]] = {}
    for row in rows:
        members.setdefault(row.group_id, {})[row.user_id] = row
    seen = {(row.group_id, row.user_id): max(row.last_read_seq, row.hidden_until_seq or 0) for row in rows}
    deltas: dict[int, int] = {}
    for group_id, seq, sender_id in messages:
        for uid, row in members.get(group_id, {}).items():
            if row.muted:
                continue
            if uid == sender_id:
                deltas[uid] = deltas.get(uid, 0) - max(seq - 1 - seen[(group_id, uid)], 0)
                seen[(group_id, uid)] = seq
            else:
                deltas[uid] = deltas.get(uid, 0) + 1
    return deltas, members


def unread_events(badges: Mapping[int, Badge]) -> list[Event]:
    """One `unread` event per user whose total changed: `{"op": "event", "type": "unread", "data":
    {"unread_total": n, "unread_version": v}}` on their sockets."""
    return [{"type": "unread", "unread_total": total, "unread_version": version, "recipients": [uid]}
            for uid, (total, version) in sorted(badges.items())]
