"""Sending a message, the hot path: one transaction of SQLAlchemy Core statements (DESIGN "The hot path").

Order inside the transaction: dedupe on (sender, client_id); lock the group row and take
`seq = last_seq + 1`; insert the message; take each member's next inbox position under the row
lock of their counter (item and direct groups); insert the inbox rows; move the group's
last_seq/last_message_id/last_message_at and the sender's read marker. Events go out after commit.
"""
from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, Iterable, Sequence

from sqlalchemy import and_, case, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from chat.conversations.archive import is_archived
from chat.events import Event, dispatch
from chat.groups.access import dialect_insert, member_ids, not_found, other_party
from chat.messages.bodies import SERVER_TYPES, validate_client_id, validate_content
from chat.messages.screening import (
    NOTICE_EVERY,
    NOTICE_LOOKBACK,
    OFF_PLATFORM_EXT,
    OFF_PLATFORM_NOTICE,
    screen_message,
)
from chat.messages.views import (
    message_dict,
    message_from_row,
    message_query,
    user_summary,
)
from chat.models import (
    INBOX_KINDS,
)
from chat.tables import (
    counters_t,
    groups_t,
    inbox_t,
    listings_t,
    members_t,
    messages_t,
    users_t,
)
from core.db import db, utcnow
from core.errors import ApiError, Conflict, Forbidden
from marketplace.models import User
from marketplace.users.blocks import is_blocked_between


@dataclass
class SendResult:
    """A sent (or replayed) message and what the WebSocket layer needs to deliver it."""

    message: dict[str, Any]
    created: bool  # False: the same client_id was sent before, `message` is that first one
    cursors: dict[int, int]  # user id → inbox position of this message (empty for rooms)
    recipients: list[int]  # every member to publish to (empty for a replay)
    group_kind: str

    def event(self) -> Event:
        return {"type": "message", "group_id": self.message["group_id"], "group_kind": self.group_kind,
                "message": self.message, "cursors": self.cursors, "recipients": self.recipients}


def send_message(*, sender: User, group_id: int, client_id: str, type: str, body: Any,
                 ext: Any = None) -> SendResult:
    """Send a client message into a group the sender belongs to; idempotent per (sender, client_id).

    404 for non-members, 403 `read_only`, `blocked` (between the two parties of an item or
    direct group) or `banned`; 400 for a bad type/body/ext (`ext_too_large` beyond 4 KB);
    409 `client_id_reused` when the client_id already named a message in another group;
    403 `content_blocked` on a keyword rule (`mask` rules rewrite the body instead).
    """
    client_id = validate_client_id(client_id)
    type, body, ext = validate_content(type=type, body=body, ext=ext)
    screened = screen_message(type=type, body=body)
    body = screened.body
    try:
        with db.transaction() as s:
            result = _replay(s, sender=sender, group_id=group_id, client_id=client_id)
            if result is None:
                group = lock_for_sender(s, group_id=group_id, sender=sender)
                result = _append(s, group_id=group_id, kind=group.kind, last_seq=group.last_seq,
                                 sender=sender, client_id=client_id, type=type, body=body, ext=ext)
    except IntegrityError:
        # A concurrent send with the same client_id committed first: answer with that message.
        result = _replay(db.session, sender=sender, group_id=group_id, client_id=client_id)
        if result is None:
            raise
    if result.created:
        dispatch([result.event()])
        if screened.off_platform:
            post_off_platform_notice(group_id=group_id)
    return result


def post_message(s: Session, *, group_id: int, sender: User | None, type: str, body: dict,
                 ext: dict | None = None) -> SendResult:
    """Append one message inside the caller's transaction from `sender` (None: the system), who
    need not be a member (an admin's test message); the body must be validated. 404 when the group
    is missing. The caller dispatches `result.event()` after commit."""
    group = s.execute(select(groups_t.c.kind, groups_t.c.last_seq).where(groups_t.c.id == group_id)
                      .with_for_update()).one_or_none()
    if group is None:
        raise not_found()
    return _append(s, group_id=group_id, kind=group.kind, last_seq=group.last_seq, sender=sender,
                   client_id=None, type=type, body=body, ext=ext)


def post_off_platform_notice(*, group_id: int) -> SendResult | None:
    """The `system` warning against trading off the platform, unless the group got one within
    NOTICE_EVERY (checked under the group's row lock, so processes racing post it once)."""
    with db.transaction() as s:
        s.execute(select(groups_t.c.id).where(groups_t.c.id == group_id).with_for_update())
        since = utcnow() - NOTICE_EVERY
        # The group's latest messages only (one bounded index range): a chat that said more than
        # NOTICE_LOOKBACK things since its last notice may get another one.
        recent = s.execute(select(messages_t.c.sender_id, messages_t.c.ext, messages_t.c.created_at)
                           .where(messages_t.c.group_id == group_id)
                           .order_by(messages_t.c.seq.desc()).limit(NOTICE_LOOKBACK)).all()
        if any(row.sender_id is None and row.ext == OFF_PLATFORM_EXT and row.created_at > since for row in recent):
            return None
        result = post_message(s, group_id=group_id, sender=None, type="system",
                              body={"text": OFF_PLATFORM_NOTICE}, ext=OFF_PLATFORM_EXT)
    dispatch([result.event()])
    return result


def post_system_messages(*, group_ids: Iterable[int], text: str,
                         read_only: bool | None = None) -> list[SendResult]:
    """Post a server-made `system` message `{text}` into each group; missing groups are skipped.

    One transaction per group, as a send: holding one group's inbox counters while waiting for
    the next group's lock could deadlock with a member sending there. `read_only` (when not
    None) is set on the group in the same transaction as its message.
    """
    results: list[SendResult] = []
    for group_id in sorted(set(group_ids)):
        with db.transaction() as s:
            group = s.execute(select(groups_t.c.kind, groups_t.c.last_seq).where(groups_t.c.id == group_id)
                              .with_for_update()).one_or_none()
            if group is None:
                continue
            result = _append(s, group_id=group_id, kind=group.kind, last_seq=group.last_seq, sender=None,
                             client_id=None, type="system", body={"text": text}, ext=None, read_only=read_only)
        dispatch([result.event()])
        results.append(result)
    return results


def post_server_messages(s: Session, *, sender: User | None,
                         posts: Sequence[tuple[int, str, dict]]) -> list[SendResult]:
    """Append server-made messages, each `(group_id, type, body)`, from `sender` (None: the system).

    Runs inside the caller's transaction and checks nothing about the sender (call
    `lock_for_sender` first where the sender's right to post matters). Every group row is locked
    first (ascending id), then every inbox counter involved (ascending user id), and only then
    are seqs and positions handed out: a unit of work posting into several groups takes its locks
    in the order single sends do, so it cannot deadlock with them. 404 when a group is missing.
    The caller dispatches `[r.event() for r in results]` after commit, never before.
    """
    if any(type not in SERVER_TYPES for _, type, _ in posts):
        raise ValueError(f"only server-made types ({', '.join(sorted(SERVER_TYPES))}) are posted here")
    group_ids = sorted({group_id for group_id, _, _ in posts})
    groups = {row.id: row for row in s.execute(
        select(groups_t.c.id, groups_t.c.kind, groups_t.c.last_seq).where(groups_t.c.id.in_(group_ids))
        .order_by(groups_t.c.id).with_for_update())}
    if len(groups) != len(group_ids):
        raise not_found()
    inbox_groups = [group_id for group_id in group_ids if groups[group_id].kind in INBOX_KINDS]
    if inbox_groups:
        _lock_counters(s, s.scalars(select(members_t.c.user_id).where(members_t.c.group_id.in_(inbox_groups))))
    last_seq = {group_id: row.last_seq for group_id, row in groups.items()}
    results: list[SendResult] = []
    for group_id, type, body in posts:
        result = _append(s, group_id=group_id, kind=groups[group_id].kind, last_seq=last_seq[group_id],
                         sender=sender, client_id=None, type=type, body=body, ext=None)
        last_seq[group_id] = result.message["seq"]
        results.append(result)
    return results


def _replay(s: Session, *, sender: User, group_id: int, client_id: str) -> SendResult | None:
    row = s.execute(message_query().where(messages_t.c.sender_id == sender.id,
                                          messages_t.c.client_id == client_id)).one_or_none()
    if row is None:
        return None
    if row.group_id != group_id:
        raise Conflict("This client_id was already used for a message in another group.",
                       code="client_id_reused", details={"fields": {"client_id": ["Already used."]}})
    pos = s.scalar(select(inbox_t.c.pos).where(inbox_t.c.user_id == sender.id, inbox_t.c.message_id == row.id))
    kind = s.scalar(select(groups_t.c.kind).where(groups_t.c.id == group_id))
    return SendResult(message=message_from_row(row), created=False,
                      cursors={sender.id: pos} if pos is not None else {}, recipients=[], group_kind=kind)


def lock_for_sender(s: Session, *, group_id: int, sender: User) -> Any:
    """The group row, locked, with the sender's role; raises (404/403) unless the sender may post in it."""
    g = groups_t.c
    row = s.execute(
        select(g.kind, g.read_only, g.last_seq, g.buyer_id, g.seller_id, g.direct_key, g.listing_final_at,
               listings_t.c.status.label("listing_status"), members_t.c.role,
               users_t.c.banned_at, users_t.c.banned_until)
        .select_from(groups_t.outerjoin(members_t, and_(members_t.c.group_id == g.id,
                                                        members_t.c.user_id == sender.id))
                     .outerjoin(listings_t, listings_t.c.id == g.listing_id)
                     .join(users_t, users_t.c.id == sender.id))
        .where(g.id == group_id).with_for_update(of=groups_t)).one_or_none()
    if row is None or row.role is None:
        raise not_found()
    if row.read_only:
        raise Forbidden("This conversation is read-only.", code="read_only")
    if is_archived(listing_final_at=row.listing_final_at, listing_status=row.listing_status):
        raise Forbidden("This conversation is archived: its listing closed long ago. History stays readable.",
                        code="archived")
    other = other_party(kind=row.kind, buyer_id=row.buyer_id, seller_id=row.seller_id,
                        direct_key=row.direct_key, user_id=sender.id)
    if other is not None and is_blocked_between(sender.id, other):
        raise Forbidden("You cannot send messages to this user.", code="blocked")
    # The ban as stored now: a WebSocket connection may hold a User loaded long ago.
    if User.is_banned(SimpleNamespace(banned_at=row.banned_at, banned_until=row.banned_until)):
        raise ApiError("This account is banned.", status=403, code="banned")
    return row


def _append(s: Session, *, group_id: int, kind: str, last_seq: int, sender: User | None,
            client_id: str | None, type: str, body: dict, ext: dict | None,
            read_only: bool | None = None) -> SendResult:
    """Insert the message at the next seq (the group row must be locked) and fan it out."""
    now, seq = utcnow(), last_seq + 1
    sender_id = sender.id if sender is not None else None
    message_id = s.execute(insert(messages_t).values(
        group_id=group_id, seq=seq, sender_id=sender_id, type=type, body=body, ext=ext,
        client_id=client_id, created_at=now).returning(messages_t.c.id)).scalar_one()
    recipients = member_ids(s, group_id)
    cursors: dict[int, int] = {}
    if kind in INBOX_KINDS and recipients:
        cursors = _take_positions(s, recipients)
        s.execute(insert(inbox_t), [{"user_id": uid, "pos": pos, "message_id": message_id, "group_id": group_id}
                                    for uid, pos in cursors.items()])
    values: dict[str, Any] = {"last_seq": seq, "last_message_id": message_id, "last_message_at": now}
    if read_only is not None:
        values["read_only"] = read_only
    s.execute(update(groups_t).where(groups_t.c.id == group_id).values(**values))
    m = members_t.c
    if kind in INBOX_KINDS:
        # Every member's copy of the activity time (the conversation list's index orders by it),
        # and the sender's read marker, in one statement.
        read = (m.last_read_seq if sender_id is None else
                case((and_(m.user_id == sender_id, m.last_read_seq < seq), seq), else_=m.last_read_seq))
        s.execute(update(members_t).where(m.group_id == group_id).values(activity_at=now, last_read_seq=read))
    elif sender_id is not None:
        s.execute(update(members_t).where(m.group_id == group_id, m.user_id == sender_id, m.last_read_seq < seq)
                  .values(last_read_seq=seq))
    message = message_dict(id=message_id, group_id=group_id, seq=seq, sender=user_summary(sender), type=type,
                           body=body, ext=ext, client_id=client_id, created_at=now, recalled_at=None)
    return SendResult(message=message, created=True, cursors=cursors, recipients=recipients, group_kind=kind)


def _take_positions(s: Session, user_ids: list[int]) -> dict[int, int]:
    """Each user's next inbox position, under the row lock of their counter until commit.

    One upsert: missing counters are created at 1, existing ones incremented. The rows are given
    in ascending user id, so concurrent senders lock shared counters in the same order (no
    deadlock), and a position is only handed out after the transaction holding the previous
    one has committed (no gaps visible to readers).
    """
    stmt = dialect_insert(s, counters_t).values([{"user_id": uid, "last_pos": 1} for uid in sorted(user_ids)])
    stmt = stmt.on_conflict_do_update(index_elements=[counters_t.c.user_id],
                                      set_={"last_pos": counters_t.c.last_pos + 1})
    rows = s.execute(stmt.returning(counters_t.c.user_id, counters_t.c.last_pos)).all()
    return {row.user_id: row.last_pos for row in rows}


def _lock_counters(s: Session, user_ids: Iterable[int]) -> None:
    """Take the row locks of these users' inbox counters now, in ascending user id.

    Missing counters are created at 0 (the positions taken next in the same transaction start
    them at 1); existing ones are locked by a no-op update.
    """
    ids = sorted(set(user_ids))
    if not ids:
        return
    stmt = dialect_insert(s, counters_t).values([{"user_id": uid, "last_pos": 0} for uid in ids])
    s.execute(stmt.on_conflict_do_update(index_elements=[counters_t.c.user_id],
                                         set_={"last_pos": counters_t.c.last_pos}))
