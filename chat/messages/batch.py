"""The one way a message is stored: a batch of sends appended in one transaction (Zulip's do_send_messages).

A single send is a batch of one (`send.send_message`); the WebSocket send queue commits every send
queued so far; rooms, offers, listing notices, admin and system posts call `append` inside their own
unit of work. Each send gets its own outcome: its new message, the message a retry of its client_id
already stored, or its refusal. A batch whose transaction fails is retried as batches of one, so a
failing send costs the others nothing.

Order inside the transaction: replays and refusals of content found first; group rows locked in
ascending id; each sender's right to post checked against them; seqs handed out in the batch's
order; inbox counters moved once each in ascending user id, positions handed out in the batch's
order; the members' read markers read (unread totals, notifications); rooms' read-only switches and
mentions; then one `finish` writes inbox rows, the groups' last message, unread totals, notifications
and the members' activity and read markers (one statement on PostgreSQL, sent with the COMMIT when the
batch is its own unit of work: three round trips a batch). Each new message's event is raised in the
unit of work, published after it commits (`core.db`).
"""
from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Sequence

from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from chat.events import Event, emit
from chat.inbox.arrivals import plan_arrivals, settle_unread
from chat.messages import batch_sql, extras, posting, screening
from chat.messages.bodies import validate_client_id, validate_content
from chat.messages.views import encode_message, message_dict, message_from_row, message_query
from chat.models import INBOX_KINDS, INBOX_MESSAGE
from chat.tables import groups_t, inbox_t, messages_t
from core.db import db, utcnow
from core.errors import ApiError, Conflict
from marketplace.uploads.urls import request_base_url

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SendRequest:
    """One client send, as it came in (validated by `send_many`)."""

    sender_id: int
    group_id: int
    client_id: str
    type: str
    body: Any
    ext: Any = None
    # the base URL of the socket's request: media URLs in the body are checked against it
    base_url: str | None = None
    reply_to: Any = None  # {"id": message id}
    mentions: Any = None  # [user id, ...] or "all"
    # the socket the send came from, opaque here: its ack carries the message, so the hub may leave out
    # its live copy (chat/ws/hub.py)
    origin: Any = None


@dataclass
class SendResult:
    """A sent (or replayed) message and what the WebSocket layer needs to deliver it."""

    message: dict[str, Any]
    created: bool  # False: the same client_id was sent before, `message` is that first one
    cursors: dict[int, int]  # user id → inbox position of this message (empty for rooms)
    recipients: list[int]  # every member to publish to (empty for a replay)
    group_kind: str
    #: user id → new badge, for the users whose unread total this unit of work changed (chat/inbox)
    unread: dict[int, batch_sql.Badge] = field(default_factory=dict)
    origin: Any = None  # the request's

    @cached_property
    def message_json(self) -> str:
        """The message encoded once, for every frame that carries it (ack, publishes)."""
        return encode_message(self.message)

    def event(self) -> Event:
        return {"type": "message", "group_id": self.message["group_id"], "group_kind": self.group_kind,
                "message": self.message, "message_json": self.message_json, "cursors": self.cursors,
                "recipients": self.recipients, "unread": self.unread, "origin": self.origin}


#: a send's outcome: its message, or the error it is refused with (ApiError, or a database error
#: when even its own transaction failed)
Outcome = SendResult | Exception


@dataclass
class Send:
    """One send ready to append: validated and screened (client sends) or made by the server.

    `checked` sends are a member's: refused unless the sender may post in the group. Server posts
    (`checked=False`, `client_id` None) come from the system (`sender_id` None) or a user who need
    not be a member. `refusal` is the answer unless the client_id names a stored message (content a
    rule blocks: a retry of a message stored before the rule still gets its copy).
    """

    index: int
    sender_id: int | None
    group_id: int
    type: str
    body: dict
    ext: dict | None = None
    client_id: str | None = None
    checked: bool = True
    refusal: ApiError | None = None
    off_platform: bool = False
    read_only: bool | None = None  # set on the group with the message (None: leave it)
    reply_to_id: int | None = None
    mentions: list[int] | str | None = None
    origin: Any = None


def send_many(requests: Sequence[SendRequest]) -> list[Outcome]:
    """Validate, screen and append client sends; their outcomes in order.

    New messages commit in one transaction. A client_id sent twice in the batch is sent again after
    it (answered with the first's message). A batch that breaks the unique client_id (a retry of a stored
    message) goes again whole, its client_ids looked up first; every send of a batch whose transaction
    failed otherwise is sent again alone. The groups where a new message shares contact details get the
    off-platform notice.
    """
    outcomes: list[Outcome | None] = [None] * len(requests)
    batch: list[Send] = []
    again: list[Send] = []
    keys: set[tuple[int, str | None]] = set()
    for i, r in enumerate(requests):
        try:
            send = _prepare(i, r)
        except ApiError as exc:
            outcomes[i] = exc
            continue
        key = (r.sender_id, send.client_id)
        (again if key in keys else batch).append(send)
        keys.add(key)
    if batch:
        stored = _append_batch(batch)
        if stored is None:
            again = batch + again
        else:
            for index, outcome in stored.items():
                outcomes[index] = outcome
    for send in sorted(again, key=lambda s: s.index):
        outcomes[send.index] = _append_alone(send)
    noticed = [s.group_id for s in batch + again if s.off_platform and _is_new(outcomes[s.index])]
    for group_id in dict.fromkeys(noticed):
        post_off_platform_notice(group_id=group_id)
    return outcomes  # type: ignore[return-value]  # every slot is filled by now


def _prepare(index: int, r: SendRequest) -> Send:
    client_id = validate_client_id(r.client_id)
    with request_base_url(r.base_url):
        type, body, ext = validate_content(type=r.type, body=r.body, ext=r.ext)
    reply_to_id, mentions = extras.validate_reply_to(r.reply_to), extras.validate_mentions(r.mentions)
    try:
        screened = screening.screen_message(type=type, body=body, ext=ext)
    except screening.ContentBlocked as blocked:
        return Send(index, r.sender_id, r.group_id, type, body, ext, client_id, refusal=blocked)
    return Send(index, r.sender_id, r.group_id, type, screened.body, screened.ext, client_id,
                off_platform=screened.off_platform, reply_to_id=reply_to_id, mentions=mentions, origin=r.origin)


def _is_new(outcome: Outcome | None) -> bool:
    return isinstance(outcome, SendResult) and outcome.created


def _append_batch(batch: list[Send]) -> dict[int, Outcome] | None:
    """The batch's outcomes by index, in one transaction; None when it failed (each send then goes alone).

    Sends are taken as new: a retry of a stored message breaks the unique (sender, client_id) on insert
    and fails the batch, which goes again whole with its client_ids looked up first. Retries are rare (a
    client resending after a lost ack): checking every batch up front would cost a statement each time,
    and sending a big batch's sends one by one would stall every socket behind it."""
    try:
        return _append_many(batch, check_replays=False)
    except IntegrityError:
        log.info("a batch of %d sends broke a constraint; sending it again, its client_ids looked up", len(batch))
    except SQLAlchemyError:
        log.warning("a batch of %d sends failed; sending them one by one", len(batch), exc_info=True)
        return None
    try:
        return _append_many(batch, check_replays=True)
    except SQLAlchemyError:
        log.warning("a batch of %d sends failed twice; sending them one by one", len(batch), exc_info=True)
        return None


def _append_many(batch: list[Send], *, check_replays: bool) -> dict[int, Outcome]:
    """The batch in its own transaction (on PostgreSQL its BEGIN and COMMIT ride with its first and last
    statements); a database error fails it whole."""
    with db.core_transaction(begin_late=True) as conn:
        return append(conn, batch, check_replays=check_replays, ends_unit=True)


def _append_alone(send: Send) -> Outcome:
    """One send in its own transaction; its database error is its outcome."""
    try:
        with db.core_transaction(begin_late=True) as conn:
            return append(conn, [send], ends_unit=True)[send.index]
    except SQLAlchemyError as exc:
        log.warning("a send of user %s failed in the database: %s", send.sender_id, exc)
        return exc


def append(executor: Session | Connection, sends: Sequence[Send], *, check_replays: bool = True,
           ends_unit: bool = False) -> dict[int, Outcome]:
    """Append the sends inside the caller's unit of work; each one's outcome by its index.

    Missing groups are 404 `not_found` for every send; a checked send is refused (404/403) as
    `posting.posting_refusal` says, unless its client_id names a stored message (a retry gets its
    copy whatever changed since). Each new message's event is raised here, published after commit.
    `check_replays=False` looks a client_id up only for a refused send: the others are taken as new
    (`_append_many`). `ends_unit=True`: nothing but the commit follows in the caller's unit of work, so
    PostgreSQL commits with the last writes, in their round trip (`core.prepared.execute_in_turn`).
    """
    conn = executor.connection() if isinstance(executor, Session) else executor
    q = batch_sql.for_connection(conn)
    outcomes: dict[int, Outcome] = {}
    stored = _stored(conn, q, [s for s in sends if check_replays or s.refusal is not None])
    fresh: list[Send] = []
    for s in sends:
        if _key(s) in stored:
            outcomes[s.index] = _replay(conn, s)
        elif s.refusal is not None:
            outcomes[s.index] = s.refusal
        else:
            fresh.append(s)
    if not fresh:
        return outcomes

    groups, members, senders, refusals, member_rows = posting.check(conn, q, fresh)
    if not check_replays and refusals:
        # A refused send may retry a message stored before what refuses it now: it gets its copy.
        refused = [s for s in fresh if s.index in refusals]
        retried = _stored(conn, q, refused)
        for s in refused:
            if _key(s) in retried:
                outcomes[s.index] = _replay(conn, s)
                del refusals[s.index]
        fresh = [s for s in fresh if s.index not in outcomes]
    snapshots: dict[int, dict] = {}
    extra = [s for s in fresh if s.index not in refusals and (s.reply_to_id is not None or s.mentions is not None)]
    if extra:
        snapshots, refused_extra = extras.check(conn, extra, groups, members)
        refusals.update(refused_extra)
    accepted = [s for s in fresh if s.index not in refusals]
    outcomes.update(refusals)
    if accepted:
        results = _store(conn, q, accepted, groups, members, senders, snapshots, member_rows, ends_unit=ends_unit)
        for s, result in zip(accepted, results):
            outcomes[s.index] = result
            emit(result.event())
    return outcomes


def _key(s: Send) -> tuple[int | None, str | None]:
    return (s.sender_id, s.client_id)


def _stored(conn: Connection, q: batch_sql.BatchSql, sends: Sequence[Send]) -> set[tuple[int, str]]:
    """Which of these sends' (sender, client_id) name a stored message (sends without one never do)."""
    keyed = [(s.sender_id, s.client_id) for s in sends if s.sender_id is not None and s.client_id is not None]
    return q.sent_before(conn, keyed) if keyed else set()


def _store(conn: Connection, q: batch_sql.BatchSql, accepted: list[Send], groups: dict[int, Any],
           members: dict[int, dict[int, str]], senders: dict[int, Any],
           snapshots: dict[int, dict], member_rows: list[Any], *, ends_unit: bool) -> list[SendResult]:
    """Insert the accepted sends (their group rows locked), fan each out to its members' inboxes, and move
    the mentioned members' markers; `finish` writes last (`ends_unit`: and commits, on PostgreSQL)."""
    now = utcnow()
    last_seq = {gid: row.last_seq for gid, row in groups.items()}
    seqs = []
    for s in accepted:
        last_seq[s.group_id] += 1
        seqs.append(last_seq[s.group_id])
    inbox = [s for s in accepted if groups[s.group_id].kind in INBOX_KINDS]
    # Each member's counter moves once by the number of the batch's messages they receive; their
    # positions are then handed out in the batch's order.
    counts = Counter(uid for s in inbox for uid in members[s.group_id])
    rows = [(s.group_id, seq, s.sender_id, s.type, s.body, s.ext, s.client_id, s.reply_to_id, snapshots.get(s.index),
             s.mentions) for s, seq in zip(accepted, seqs)]
    ids, positions, markers = q.add_messages(conn, rows, now, counts)
    next_pos = {uid: pos - counts[uid] for uid, pos in positions.items()}
    results: list[SendResult] = []
    inbox_rows = []
    newest: dict[int, tuple[int, int]] = {}  # group → (seq, id) of its newest message
    read_to: dict[tuple[int, int | None], int] = {}  # (group, sender) → the sender's newest seq there
    for s, seq, message_id in zip(accepted, seqs, ids):
        kind = groups[s.group_id].kind
        cursors = {}
        if kind in INBOX_KINDS:
            for uid in members[s.group_id]:
                next_pos[uid] += 1
                cursors[uid] = next_pos[uid]
                inbox_rows.append((uid, next_pos[uid], message_id, s.group_id))
        newest[s.group_id] = (seq, message_id)
        read_to[(s.group_id, s.sender_id)] = seq
        sender = senders.get(s.sender_id) if s.sender_id is not None else None
        author = None if sender is None else {"id": sender.id, "nickname": sender.nickname,
                                              "avatar_url": sender.avatar_url}
        message = message_dict(id=message_id, group_id=s.group_id, seq=seq, sender=author, type=s.type,
                               body=s.body, ext=s.ext, client_id=s.client_id, created_at=now, recalled_at=None,
                               reply_to=snapshots.get(s.index), mentions=s.mentions)
        results.append(SendResult(message=message, created=True, cursors=cursors,
                                  recipients=sorted(cursors) if cursors else sorted(members[s.group_id]),
                                  group_kind=kind, origin=s.origin))
    # the markers as they are before the senders' move (read again where the counter locks may have changed them)
    deltas, notify = plan_arrivals(results, member_rows if markers is None else markers)
    # Inbox groups: every member's activity time (the conversation list orders by it) and each
    # sender's read marker; rooms: the sender's read marker only.
    read_only = {s.group_id: s.read_only for s in accepted if s.read_only is not None}
    if read_only:
        q.set_read_only(conn, read_only)
    mentioned = [(s.group_id, seq, s.sender_id, s.mentions) for s, seq in zip(accepted, seqs) if s.mentions]
    if mentioned:
        extras.record_mentions(conn, mentioned)
    settle_unread(results, q.finish(conn, batch_sql.Writes(
        at=now, inbox=inbox_rows, newest=newest,
        touched={gid: list(members[gid]) for gid in newest if groups[gid].kind in INBOX_KINDS},
        read_to={(gid, sid): seq for (gid, sid), seq in read_to.items() if sid is not None},
        unread=deltas, notify=notify), commit=ends_unit))
    return results


def _replay(conn: Connection, s: Send) -> SendResult | ApiError:
    """The message this sender stored under this client_id before (409 when it was in another group)."""
    row = conn.execute(message_query().where(messages_t.c.sender_id == s.sender_id,
                                             messages_t.c.client_id == s.client_id)).one()
    if row.group_id != s.group_id:
        return Conflict("This client_id was already used for a message in another group.",
                        code="client_id_reused", details={"fields": {"client_id": ["Already used."]}})
    pos = conn.scalar(select(inbox_t.c.pos).where(inbox_t.c.user_id == s.sender_id, inbox_t.c.message_id == row.id,
                                                  inbox_t.c.kind == INBOX_MESSAGE))
    kind = conn.execute(select(groups_t.c.kind).where(groups_t.c.id == s.group_id)).scalar_one()
    return SendResult(message=message_from_row(row), created=False,
                      cursors={s.sender_id: pos} if pos is not None and s.sender_id is not None else {},
                      recipients=[], group_kind=kind)


def check_sender(executor: Session | Connection, *, group_id: int, sender_id: int) -> None:
    """Lock the group row and raise (404/403) unless the sender may post in it, as `append` checks a send."""
    conn = executor.connection() if isinstance(executor, Session) else executor
    refusals = posting.check(conn, batch_sql.for_connection(conn), [Send(0, sender_id, group_id, "", {})]).refusals
    if refusals:
        raise refusals[0]


def post_off_platform_notice(*, group_id: int) -> SendResult | None:
    """The `system` warning against trading off the platform, unless the group got one within
    NOTICE_EVERY (checked under the group's row lock, so processes racing post it once).

    The message that prompted it is committed already: a failure here is logged, never raised.
    """
    try:
        with db.core_transaction() as conn:
            q = batch_sql.for_connection(conn)
            q.read(conn, "lock_groups", [group_id])
            if screening.notice_is_recent(conn, group_id=group_id):
                return None
            outcome = append(conn, [Send(0, None, group_id, "system", {"text": screening.OFF_PLATFORM_NOTICE},
                                         screening.OFF_PLATFORM_EXT, checked=False)])[0]
    except Exception:
        log.exception("could not post the off-platform notice in group %s", group_id)
        return None
    return outcome if isinstance(outcome, SendResult) else None
