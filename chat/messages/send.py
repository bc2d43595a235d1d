"""Sending a message, the hot path: one transaction of SQLAlchemy Core statements (DESIGN "The hot path").

Order inside the transaction: dedupe on (sender, client_id); lock the group row and take
`seq = last_seq + 1`; insert the message; take each member's next inbox position under the row
lock of their counter (item and direct groups); insert the inbox rows; move the group's
last_seq/last_message_id/last_message_at and the sender's read marker. Events go out after commit.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import cached_property
from types import SimpleNamespace
from typing import Any, Callable, Iterable, Protocol, Sequence

from sqlalchemy import select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from chat.conversations.archive import is_archived
from chat.events import Event, dispatch
from chat.groups.access import dialect_insert, member_ids, not_found, other_party
from chat.inbox.arrivals import record_arrivals
from chat.messages import screening
from chat.messages import statements as sql
from chat.messages.bodies import SERVER_TYPES, validate_client_id, validate_content
from chat.messages.views import (
    encode_message,
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
    members_t,
    messages_t,
)
from core.db import db, utcnow
from core.errors import ApiError, Conflict, Forbidden
from marketplace.models import User


class Sender(Protocol):
    """Who sends: only the id is read (name, avatar and ban come from the database with the group lock)."""

    id: int


@dataclass(frozen=True)
class SenderRef:
    """A sender known by id alone (a WebSocket connection), with no user row loaded."""

    id: int


#: what the send path's statements run on: a session (inside a caller's unit of work) or a Core connection
Executor = Session | Connection


def _connection(s: Executor) -> Connection:
    return s.connection() if isinstance(s, Session) else s

log = logging.getLogger(__name__)


@dataclass
class SendResult:
    """A sent (or replayed) message and what the WebSocket layer needs to deliver it."""

    message: dict[str, Any]
    created: bool  # False: the same client_id was sent before, `message` is that first one
    cursors: dict[int, int]  # user id → inbox position of this message (empty for rooms)
    recipients: list[int]  # every member to publish to (empty for a replay)
    group_kind: str
    #: user id → new unread total, for the users whose total this unit of work changed (chat/inbox)
    unread: dict[int, int] = field(default_factory=dict)

    @cached_property
    def message_json(self) -> str:
        """The message encoded once, for every frame that carries it (ack, publishes)."""
        return encode_message(self.message)

    def event(self) -> Event:
        return {"type": "message", "group_id": self.message["group_id"], "group_kind": self.group_kind,
                "message": self.message, "message_json": self.message_json, "cursors": self.cursors,
                "recipients": self.recipients, "unread": self.unread}


def send_message(*, sender: Sender, group_id: int, client_id: str, type: str, body: Any,
                 ext: Any = None) -> SendResult:
    """Send a client message into a group the sender belongs to; idempotent per (sender, client_id).

    404 for non-members, 403 `read_only`, `blocked` (between the two parties of an item or
    direct group) or `banned`; 400 for a bad type/body/ext (`ext_too_large` beyond 4 KB);
    409 `client_id_reused` when the client_id already named a message in another group;
    403 `content_blocked` on a keyword rule (`mask` rules rewrite the body instead).
    """
    client_id = validate_client_id(client_id)
    type, body, ext = validate_content(type=type, body=body, ext=ext)
    try:
        screened = screening.screen_message(type=type, body=body, ext=ext)
    except screening.ContentBlocked:
        # A retry of a message stored before the rule existed gets its stored copy, as any retry does.
        stored = _replay(db.session, sender=sender, group_id=group_id, client_id=client_id)
        if stored is None:
            raise
        return stored
    body, ext = screened.body, screened.ext
    try:
        with db.core_transaction() as conn:
            result = None
            if conn.scalar(sql.FIND_SENT, {"sender_id": sender.id, "client_id": client_id}) is not None:
                result = _replay(conn, sender=sender, group_id=group_id, client_id=client_id)
            if result is None:
                group = lock_for_sender(conn, group_id=group_id, sender=sender)
                author = {"id": sender.id, "nickname": group.nickname, "avatar_url": group.avatar_url}
                result = _append(conn, group_id=group_id, kind=group.kind, last_seq=group.last_seq,
                                 sender=author, client_id=client_id, type=type, body=body, ext=ext)
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
    return _append(s, group_id=group_id, kind=group.kind, last_seq=group.last_seq, sender=user_summary(sender),
                   client_id=None, type=type, body=body, ext=ext)


def post_off_platform_notice(*, group_id: int) -> SendResult | None:
    """The `system` warning against trading off the platform, unless the group got one within
    NOTICE_EVERY (checked under the group's row lock, so processes racing post it once).

    The message that prompted it is committed already: a failure here is logged, never raised.
    """
    try:
        return _post_off_platform_notice(group_id)
    except Exception:
        log.exception("could not post the off-platform notice in group %s", group_id)
        db.session.rollback()
        return None


def _post_off_platform_notice(group_id: int) -> SendResult | None:
    with db.transaction() as s:
        s.execute(select(groups_t.c.id).where(groups_t.c.id == group_id).with_for_update())
        if screening.notice_is_recent(s, group_id=group_id):
            return None
        result = post_message(s, group_id=group_id, sender=None, type="system",
                              body={"text": screening.OFF_PLATFORM_NOTICE}, ext=screening.OFF_PLATFORM_EXT)
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
                         sender=user_summary(sender), client_id=None, type=type, body=body, ext=None)
        last_seq[group_id] = result.message["seq"]
        results.append(result)
    return results


def _replay(s: Executor, *, sender: Sender, group_id: int, client_id: str) -> SendResult | None:
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
                      cursors={sender.id: pos} if pos is not None else {}, recipients=[], group_kind=kind)  # type: ignore[arg-type]


def lock_for_sender(s: Executor, *, group_id: int, sender: Sender) -> Any:
    """The group row, locked, with the sender's role, nickname and avatar; raises (404/403) unless the
    sender may post in it."""
    conn = _connection(s)
    row = conn.execute(sql.LOCK_FOR_SENDER, {"group_id": group_id, "sender_id": sender.id}).one_or_none()
    refusal = posting_refusal(row, sender_id=sender.id, blocked=lambda other: bool(
        conn.scalar(sql.BLOCKED_BETWEEN, {"a": sender.id, "b": other})))
    if refusal is not None:
        raise refusal
    return row


def posting_refusal(row: Any, *, sender_id: int, blocked: Callable[[int], bool]) -> ApiError | None:
    """Why the sender may not post in this group (404/403), or None when they may.

    `row` has the group's kind, read_only, party ids, listing_final_at and listing_status, the
    sender's `role` there (None: not a member), their `muted_until` there and their
    banned_at/banned_until; `blocked(other)`
    tells whether the sender and the other party of an item or direct group blocked each other.
    """
    if row is None or row.role is None:
        return not_found()
    if row.read_only:
        return Forbidden("This conversation is read-only.", code="read_only")
    if is_archived(listing_final_at=row.listing_final_at, listing_status=row.listing_status):
        return Forbidden("This conversation is archived: its listing closed long ago. History stays readable.",
                         code="archived")
    other = other_party(kind=row.kind, buyer_id=row.buyer_id, seller_id=row.seller_id,
                        direct_key=row.direct_key, user_id=sender_id)
    if other is not None and blocked(other):
        return Forbidden("You cannot send messages to this user.", code="blocked")
    if row.muted_until is not None and row.muted_until > utcnow():
        return Forbidden("You are muted in this group.", code="muted",
                         details={"muted_until": row.muted_until.isoformat()})
    # The ban as stored now: a WebSocket connection may hold a User loaded long ago.
    if User.is_banned(SimpleNamespace(banned_at=row.banned_at, banned_until=row.banned_until)):  # type: ignore[arg-type]
        return ApiError("This account is banned.", status=403, code="banned")
    return None


def _append(s: Executor, *, group_id: int, kind: str, last_seq: int, sender: dict[str, Any] | None,
            client_id: str | None, type: str, body: dict, ext: dict | None,
            read_only: bool | None = None) -> SendResult:
    """Insert the message at the next seq (the group row must be locked) and fan it out.

    `sender` is the author's `{id, nickname, avatar_url}` (None: the system).
    """
    conn = _connection(s)
    now, seq = utcnow(), last_seq + 1
    sender_id = sender["id"] if sender is not None else None
    message_id = conn.execute(sql.INSERT_MESSAGE, {
        "group_id": group_id, "seq": seq, "sender_id": sender_id, "type": type, "body": body, "ext": ext,
        "client_id": client_id, "created_at": now}).scalar_one()
    cursors: dict[int, int] = {}
    if kind in INBOX_KINDS:
        # One statement takes every member's next position and so names the recipients.
        cursors = dict(conn.execute(sql.TAKE_POSITIONS[conn.dialect.name], {"group_id": group_id}).all())  # type: ignore[call-overload]
        recipients = sorted(cursors)
        if cursors:
            conn.execute(sql.INSERT_INBOX, [{"user_id": uid, "pos": pos, "message_id": message_id,
                                             "group_id": group_id} for uid, pos in cursors.items()])
    else:
        recipients = member_ids(s, group_id)  # type: ignore[arg-type]
    message = message_dict(id=message_id, group_id=group_id, seq=seq, sender=sender, type=type,
                           body=body, ext=ext, client_id=client_id, created_at=now, recalled_at=None)
    result = SendResult(message=message, created=True, cursors=cursors, recipients=recipients, group_kind=kind)
    record_arrivals(conn, [result])  # before the sender's read marker moves
    conn.execute(sql.MOVE_GROUP, {"gid": group_id, "new_seq": seq, "mid": message_id, "at": now})
    if read_only is not None:
        conn.execute(update(groups_t).where(groups_t.c.id == group_id).values(read_only=read_only))
    if kind in INBOX_KINDS:
        # Every member's copy of the activity time (the conversation list's index orders by it),
        # and the sender's read marker, in one statement.
        conn.execute(sql.MOVE_ACTIVITY, {"gid": group_id, "sid": sender_id, "new_seq": seq, "at": now})
    elif sender_id is not None:
        conn.execute(sql.MOVE_READ_MARKER, {"gid": group_id, "sid": sender_id, "new_seq": seq})
    return result


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
