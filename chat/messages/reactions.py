"""Emoji reactions: add and remove one (members; at most REACTIONS_MAX_DISTINCT distinct emoji a message), and
their summaries ({emoji, count, me}, in order of first reaction) for events, replays and history pages."""
from __future__ import annotations

import unicodedata
from typing import Any, Iterable, Sequence

from flask import current_app
from sqlalchemy import case, delete, func, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from chat.events import emit
from chat.groups.access import not_found
from chat.messages import batch_sql
from chat.messages.changes import fan_out
from chat.models import INBOX_REACTION
from chat.tables import messages_t, reactions_t
from core.db import db, utcnow
from core.errors import Conflict, NotFound, ValidationError

EMOJI_MAX_BYTES = 32
r = reactions_t.c
#: what may join pictographs into one emoji: joiner, variation selectors, keycap, tags
_JOINERS = {"\u200d", "\ufe0e", "\ufe0f", "\u20e3"} | {chr(c) for c in range(0xE0020, 0xE0080)}


def validate_emoji(emoji: str) -> str:
    """A short run of emoji (symbols, their modifiers and joiners), at most EMOJI_MAX_BYTES of UTF-8; else 400."""
    ok = 0 < len(emoji.encode("utf-8", "surrogatepass")) <= EMOJI_MAX_BYTES and all(
        ch in _JOINERS or unicodedata.category(ch) in ("So", "Sk") for ch in emoji) and any(
        unicodedata.category(ch) == "So" for ch in emoji)
    if not ok:
        raise ValidationError(f"A reaction is an emoji of at most {EMOJI_MAX_BYTES} bytes.", code="invalid_emoji",
                              details={"fields": {"emoji": ["Not an emoji."]}})
    return emoji


def summarize(rows: Iterable[tuple[int, str]], viewer_id: int) -> list[dict[str, Any]]:
    """(user_id, emoji) rows in reaction order as [{emoji, count, me}] for `viewer_id`."""
    out: dict[str, dict[str, Any]] = {}
    for user_id, emoji in rows:
        entry = out.setdefault(emoji, {"emoji": emoji, "count": 0, "me": False})
        entry["count"] += 1
        entry["me"] = entry["me"] or user_id == viewer_id
    return list(out.values())


def reaction_rows(executor: Session | Connection, message_ids: Sequence[int]) -> dict[int, list[tuple[int, str]]]:
    """Each message's (user_id, emoji) rows, in reaction order (one query)."""
    found: dict[int, list[tuple[int, str]]] = {}
    if message_ids:
        for mid, uid, emoji in executor.execute(select(r.message_id, r.user_id, r.emoji)
                                                .where(r.message_id.in_(sorted(set(message_ids))))
                                                .order_by(r.message_id, r.created_at, r.user_id, r.emoji)):
            found.setdefault(mid, []).append((uid, emoji))
    return found


def page_reactions(s: Session, message_ids: Sequence[int], viewer_id: int | None) -> dict[int, list[dict]]:
    """The reaction summaries of a history page's messages: one aggregate query for the page."""
    if not message_ids:
        return {}
    me = func.max(case((r.user_id == (viewer_id or 0), 1), else_=0))
    stmt = (select(r.message_id, r.emoji, func.count().label("n"), me.label("me"))
            .where(r.message_id.in_(message_ids)).group_by(r.message_id, r.emoji)
            .order_by(r.message_id, func.min(r.created_at), r.emoji))
    found: dict[int, list[dict]] = {}
    for row in s.execute(stmt):
        found.setdefault(row.message_id, []).append({"emoji": row.emoji, "count": row.n, "me": bool(row.me)})
    return found


def set_reaction(*, actor_id: int, group_id: int, message_id: int, emoji: str, add: bool) -> tuple[bool, dict]:
    """Add (or remove) the actor's `emoji` on a message; idempotent. Returns whether anything changed and
    `{group_id, message_id, seq, reactions}` as the actor sees them.

    Members only (404 otherwise, or for no such message); 409 `message_recalled`, 409 `reaction_limit_reached`
    for a new emoji beyond REACTIONS_MAX_DISTINCT. A change is a `reaction` event to every member (inbox
    chats: at a new inbox position of theirs; rooms: live only). Concurrent reactions to one group are
    serialized by its row lock, so counts and the cap hold on every backend.
    """
    emoji = validate_emoji(emoji)
    limit = current_app.config["REACTIONS_MAX_DISTINCT"]
    with db.core_transaction() as conn:
        q = batch_sql.for_connection(conn)
        groups, member_rows = q.lock_with_members(conn, [group_id], [])
        members = [row.user_id for row in member_rows]
        if not groups or actor_id not in members:
            raise not_found()
        target = conn.execute(select(messages_t.c.seq, messages_t.c.recalled_at).where(
            messages_t.c.id == message_id, messages_t.c.group_id == group_id)).one_or_none()
        if target is None:
            raise NotFound("No such message.")
        if target.recalled_at is not None:
            raise Conflict("The message was recalled.", code="message_recalled")
        rows = reaction_rows(conn, [message_id]).get(message_id, [])
        mine = (actor_id, emoji) in rows
        changed = mine != add
        if changed and add:
            present = {e for _, e in rows}
            if emoji not in present and len(present) >= limit:
                raise Conflict(f"A message carries at most {limit} different reactions.",
                               code="reaction_limit_reached", details={"limit": limit})
            conn.execute(insert(reactions_t).values(message_id=message_id, user_id=actor_id, emoji=emoji,
                                                    created_at=utcnow()))
            rows.append((actor_id, emoji))
        elif changed:
            conn.execute(delete(reactions_t).where(r.message_id == message_id, r.user_id == actor_id,
                                                   r.emoji == emoji))
            rows.remove((actor_id, emoji))
        state = {"group_id": group_id, "message_id": message_id, "seq": target.seq}
        if changed:
            cursors = fan_out(conn, q, group_id=group_id, group_kind=groups[0].kind, member_ids=members,
                              message_id=message_id, kind=INBOX_REACTION)
            emit({"type": "reaction", "group_id": group_id, "state": state, "rows": list(rows),
                  "change": {"user_id": actor_id, "emoji": emoji, "action": "add" if add else "remove"},
                  "cursors": cursors, "recipients": sorted(members)})
    return changed, {**state, "reactions": summarize(rows, actor_id)}
