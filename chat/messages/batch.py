"""Sending many messages in one transaction: the unit of work of the WebSocket send queue.

Each request gets what `send_message` would give it (the same checks, errors and idempotency), but
the new messages of a batch are committed together by about ten statements in all, whatever the
batch's size (DESIGN "The hot path": several queued sends committed together). Locks are taken as a
single send takes them: group rows in ascending id, then inbox counters in ascending user id.
"""
from __future__ import annotations

import logging
from collections import Counter, defaultdict
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, Sequence

from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from chat.events import dispatch
from chat.groups.access import other_party
from chat.inbox.arrivals import record_arrivals
from chat.messages import batch_sql, screening
from chat.messages.bodies import validate_client_id, validate_content
from chat.messages.send import (
    SenderRef,
    SendResult,
    post_off_platform_notice,
    posting_refusal,
    send_message,
)
from chat.messages.views import message_dict
from chat.models import INBOX_KINDS
from core.db import db, utcnow
from core.errors import ApiError
from marketplace.uploads.urls import request_base_url

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SendRequest:
    """One client send, as it came in (validated here)."""

    sender_id: int
    group_id: int
    client_id: str
    type: str
    body: Any
    ext: Any = None
    # the base URL of the socket's request: media URLs in the body are checked against it
    base_url: str | None = None


#: a request's outcome: its message, or the error `send_message` raises for it (ApiError, or a
#: database error when even its own transaction failed)
Outcome = SendResult | Exception


@dataclass
class _Send:
    """A request that passed validation and screening, waiting for its place in the batch."""

    index: int
    sender_id: int
    group_id: int
    client_id: str
    type: str
    body: dict
    ext: dict | None
    off_platform: bool


def send_many(requests: Sequence[SendRequest]) -> list[Outcome]:
    """Send every request as `send_message` would and return their outcomes in order.

    New messages are committed in one transaction. A request the batch leaves to `send_message`
    after its commit: a retry of a stored client_id (or the same one twice in the batch), a room,
    content a rule blocks (a retry may still get its stored copy) — and every request of a batch
    whose transaction failed, so a failing send costs the others nothing.
    """
    outcomes: list[Outcome | None] = [None] * len(requests)
    batch: list[_Send] = []
    later: list[int] = []
    keys: set[tuple[int, str]] = set()
    for i, r in enumerate(requests):
        try:
            client_id = validate_client_id(r.client_id)
            with request_base_url(r.base_url):
                type, body, ext = validate_content(type=r.type, body=r.body, ext=r.ext)
            screened = screening.screen_message(type=type, body=body, ext=ext)
        except screening.ContentBlocked:
            later.append(i)
            continue
        except ApiError as exc:
            outcomes[i] = exc
            continue
        if (r.sender_id, client_id) in keys:
            later.append(i)
            continue
        keys.add((r.sender_id, client_id))
        batch.append(_Send(i, r.sender_id, r.group_id, client_id, type, screened.body, screened.ext,
                           screened.off_platform))
    if batch:
        try:
            with db.core_transaction() as conn:
                refused, deferred, results = _append_many(conn, batch)
        except SQLAlchemyError:
            log.warning("a batch of %d sends failed; sending them one by one", len(batch), exc_info=True)
            later += [s.index for s in batch]
        else:
            for index, error in refused.items():
                outcomes[index] = error
            later += deferred
            for index, result in results.items():
                outcomes[index] = result
            dispatch([result.event() for result in results.values()])
            for group_id in dict.fromkeys(s.group_id for s in batch if s.off_platform and s.index in results):
                post_off_platform_notice(group_id=group_id)
    for i in sorted(later):
        outcomes[i] = _send_alone(requests[i])
    return outcomes  # type: ignore[return-value]  # every slot is filled by now


def _send_alone(r: SendRequest) -> Outcome:
    try:
        with request_base_url(r.base_url):
            return send_message(sender=SenderRef(r.sender_id), group_id=r.group_id, client_id=r.client_id,  # type: ignore[arg-type]
                                type=r.type, body=r.body, ext=r.ext)
    except (ApiError, SQLAlchemyError) as exc:
        if isinstance(exc, SQLAlchemyError):
            db.session.rollback()
        return exc


def _append_many(conn: Connection, batch: list[_Send]) -> tuple[dict[int, ApiError], list[int],
                                                                 dict[int, SendResult]]:
    """Check and append the batch's sends: (refusals, requests left for `send_message`, results), by
    request index."""
    q = batch_sql.for_connection(conn)
    refused: dict[int, ApiError] = {}
    sent = q.sent_before(conn, [(s.sender_id, s.client_id) for s in batch])
    deferred = [s.index for s in batch if (s.sender_id, s.client_id) in sent]
    fresh = [s for s in batch if (s.sender_id, s.client_id) not in sent]
    if not fresh:
        return refused, deferred, {}
    groups = {row.id: row for row in q.read(conn, "lock_groups", [s.group_id for s in fresh])}
    inbox_groups = [gid for gid, row in groups.items() if row.kind in INBOX_KINDS]
    members: dict[int, dict[int, str]] = defaultdict(dict)
    muted: dict[tuple[int, int], Any] = {}  # (group, user) → muted_until, for the muted ones
    for row in q.read(conn, "members_of", inbox_groups) if inbox_groups else ():
        members[row.group_id][row.user_id] = row.role
        if row.muted_until is not None:
            muted[(row.group_id, row.user_id)] = row.muted_until
    senders = {row.id: row for row in q.read(conn, "senders", [s.sender_id for s in fresh])}
    parties = [(s.sender_id, other) for s in fresh if (other := _other_party(groups.get(s.group_id), s.sender_id))]
    blocks = q.blocks(conn, parties + [(b, a) for a, b in parties]) if parties else set()

    accepted: list[_Send] = []
    for s in fresh:
        group = groups.get(s.group_id)
        if group is not None and group.kind not in INBOX_KINDS:
            deferred.append(s.index)  # rooms: live only, and possibly huge; the single path serves them
            continue
        refusal = posting_refusal(_sender_view(group, members, muted, senders.get(s.sender_id), s.sender_id),
                                  sender_id=s.sender_id,
                                  blocked=lambda other, me=s.sender_id: (me, other) in blocks or (other, me) in blocks)  # type: ignore[misc]
        if refusal is not None:
            refused[s.index] = refusal
        else:
            accepted.append(s)
    if not accepted:
        return refused, deferred, {}

    now = utcnow()
    last_seq = {gid: row.last_seq for gid, row in groups.items()}
    seqs = []
    for s in accepted:
        last_seq[s.group_id] += 1
        seqs.append(last_seq[s.group_id])
    ids = q.add_messages(conn, [(s.group_id, seq, s.sender_id, s.type, s.body, s.ext, s.client_id)
                                for s, seq in zip(accepted, seqs)], now)

    # Each member's counter moves once by the number of the batch's messages they receive; their
    # positions are then handed out in the batch's order.
    counts = Counter(uid for s in accepted for uid in members[s.group_id])
    last_pos = q.advance_counters(conn, counts)
    next_pos = {uid: last_pos[uid] - n for uid, n in counts.items()}
    results: dict[int, SendResult] = {}
    inbox_rows = []
    newest: dict[int, tuple[int, int]] = {}  # group → (seq, id) of its newest message
    read_to: dict[tuple[int, int], int] = {}  # (group, sender) → the sender's newest seq there
    for s, seq, message_id in zip(accepted, seqs, ids):
        cursors = {}
        for uid in members[s.group_id]:
            next_pos[uid] += 1
            cursors[uid] = next_pos[uid]
            inbox_rows.append((uid, next_pos[uid], message_id, s.group_id))
        newest[s.group_id] = (seq, message_id)
        read_to[(s.group_id, s.sender_id)] = seq
        sender = senders[s.sender_id]
        author = {"id": s.sender_id, "nickname": sender.nickname, "avatar_url": sender.avatar_url}
        message = message_dict(id=message_id, group_id=s.group_id, seq=seq, sender=author, type=s.type,
                               body=s.body, ext=s.ext, client_id=s.client_id, created_at=now, recalled_at=None)
        results[s.index] = SendResult(message=message, created=True, cursors=cursors, recipients=sorted(cursors),
                                      group_kind=groups[s.group_id].kind)
    q.add_inbox(conn, inbox_rows)
    q.move_groups(conn, newest, now)
    record_arrivals(conn, list(results.values()))  # before the senders' read markers move
    q.move_members(conn, {gid: list(members[gid]) for gid in newest}, read_to, now)
    return refused, deferred, results


def _other_party(group: Any, sender_id: int) -> int | None:
    if group is None:
        return None
    return other_party(kind=group.kind, buyer_id=group.buyer_id, seller_id=group.seller_id,
                       direct_key=group.direct_key, user_id=sender_id)


def _sender_view(group: Any, members: dict[int, dict[int, str]], muted: dict[tuple[int, int], Any], sender: Any,
                 sender_id: int) -> Any:
    """The fields `posting_refusal` reads, from the batch's group, member and sender rows."""
    if group is None or sender is None:
        return None
    return SimpleNamespace(
        kind=group.kind, read_only=group.read_only, buyer_id=group.buyer_id, seller_id=group.seller_id,
        direct_key=group.direct_key, listing_final_at=group.listing_final_at, listing_status=group.listing_status,
        role=members[group.id].get(sender_id), muted_until=muted.get((group.id, sender_id)),
        banned_at=sender.banned_at, banned_until=sender.banned_until)
