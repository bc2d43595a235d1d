"""The notification queue (`chat_notifications`): queued by the send transaction, claimed by workers.

Queueing is one upsert per batch of messages: each (member, conversation) row folds every message
that arrives while it is pending, and a row sent within NOTIFY_WINDOW_S is next due at its
`quiet_until`. Claiming sets a lease (`lease_until`, `lease_token`) in a short transaction, FOR
UPDATE SKIP LOCKED on PostgreSQL so concurrent workers take different rows (SQLite's write lock
serializes them); a worker that dies leaves its lease to expire, and the row is claimed again.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Iterable, Sequence

from flask import current_app
from sqlalchemy import case, or_, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from chat.tables import notifications_t
from core.db import utcnow

n = notifications_t
c = n.c


def upsert(stmt: Any) -> Any:
    """`stmt`, a dialect's INSERT of queue rows (VALUES or a SELECT), folding into a pending row of the same
    (user, conversation) instead of failing on it."""
    ex = stmt.excluded
    idle = c.due_at.is_(None)
    return stmt.on_conflict_do_update(index_elements=[c.user_id, c.group_id], set_={
        "message_id": ex.message_id,
        "pending_count": case((idle, ex.pending_count), else_=c.pending_count + ex.pending_count),
        "attempts": case((idle, 0), else_=c.attempts),
        # A new pending notification waits for the quiet period after the last one sent.
        "due_at": case((idle, case((c.quiet_until > ex.due_at, c.quiet_until), else_=ex.due_at)), else_=c.due_at),
        "updated_at": ex.updated_at})


UPSERT = {"postgresql": upsert(postgresql.insert(n)), "sqlite": upsert(sqlite.insert(n))}


def rows(arrivals: Iterable[tuple[int, int, int]]) -> list[dict[str, Any]]:
    """The queue rows of `(user_id, group_id, message_id)` arrivals (in message order): one per (user,
    conversation), with its newest message and how many arrived, due after NOTIFY_DELAY_S."""
    now = utcnow()
    due = now + timedelta(seconds=current_app.config["NOTIFY_DELAY_S"])
    folded: dict[tuple[int, int], dict[str, Any]] = {}
    for user_id, group_id, message_id in arrivals:
        row = folded.setdefault((user_id, group_id), {
            "user_id": user_id, "group_id": group_id, "pending_count": 0, "due_at": due, "attempts": 0,
            "sent_count": 0, "updated_at": now})
        row["message_id"] = message_id
        row["pending_count"] += 1
    return [folded[key] for key in sorted(folded)]


def enqueue(conn: Connection, queued: Sequence[dict[str, Any]]) -> None:
    """Write queue `rows` inside the caller's transaction (the send's)."""
    if queued:
        conn.execute(UPSERT[conn.dialect.name], list(queued))


@dataclass(frozen=True)
class Claimed:
    """A row a worker holds the lease of."""

    user_id: int
    group_id: int
    message_id: int
    pending_count: int
    attempts: int
    token: str


def claim(conn: Connection, *, now: datetime, limit: int, lease_s: float) -> list[Claimed]:
    """Lease up to `limit` due rows nobody holds (or whose holder's lease ran out)."""
    token = secrets.token_hex(8)
    due = (select(c.user_id, c.group_id)
           .where(c.due_at <= now, or_(c.lease_until.is_(None), c.lease_until < now))
           .order_by(c.due_at).limit(limit).with_for_update(skip_locked=True))
    rows = conn.execute(update(n).where(tuple_(c.user_id, c.group_id).in_(due))
                        .values(lease_until=now + timedelta(seconds=lease_s), lease_token=token,
                                attempts=c.attempts + 1)
                        .returning(c.user_id, c.group_id, c.message_id, c.pending_count, c.attempts)).all()
    return [Claimed(r.user_id, r.group_id, r.message_id, r.pending_count, r.attempts, token)
            for r in sorted(rows, key=lambda r: (r.user_id, r.group_id))]


def finish(conn: Connection, item: Claimed, *, outcome: str, now: datetime, window_s: float | None) -> bool:
    """Release a claimed row with its outcome; `window_s` when one was sent (the quiet period starts).

    Messages that arrived while it was held stay pending: due after the quiet period, or at once
    when nothing was sent. False when the lease was lost (another worker took the row over).
    """
    newer = c.message_id != item.message_id
    values: dict[str, Any] = {"lease_until": None, "lease_token": None, "outcome": outcome, "updated_at": now,
                              "attempts": 0,
                              "pending_count": case((newer, c.pending_count - item.pending_count), else_=0)}
    if window_s is not None:
        quiet = now + timedelta(seconds=window_s)
        values.update(quiet_until=quiet, sent_count=c.sent_count + 1, due_at=case((newer, quiet), else_=None))
    else:
        values["due_at"] = case((newer, now), else_=None)
    done = conn.execute(update(n).where(c.user_id == item.user_id, c.group_id == item.group_id,
                                        c.lease_token == item.token).values(**values))
    return done.rowcount > 0


def retry_later(conn: Connection, item: Claimed, *, now: datetime, delay_s: float) -> bool:
    """Release a claimed row to be tried again after `delay_s`."""
    done = conn.execute(update(n).where(c.user_id == item.user_id, c.group_id == item.group_id,
                                        c.lease_token == item.token)
                        .values(lease_until=None, lease_token=None, outcome="retrying", updated_at=now,
                                due_at=now + timedelta(seconds=delay_s)))
    return done.rowcount > 0


def pending_for(conn: Connection, user_ids: Sequence[int]) -> list[Any]:
    """The rows of these users (tests and operators)."""
    return conn.execute(select(n).where(c.user_id.in_(user_ids)).order_by(c.user_id, c.group_id)).all()  # type: ignore[return-value]
