"""The conversation list's one SQL statement: candidate rows from indexed ranges, then their details.

Candidates (UNION ALL), each with the key it is ordered by (its activity at the snapshot):
- `member`: item/direct/group memberships in `ix_chat_members_user_activity` order (activity_at, group_id
  descending), `limit + 1` of them; on later pages only those below the cursor and without a
  message since the snapshot;
- `changed` (later pages only): item/direct/group chats with a message since the snapshot (inbox entries
  above its position), keyed by their activity at the snapshot: the time of the message just before
  the first new one (or joined_at when there was none), kept when below the cursor;
- `room`: the user's rooms (page 1), or the rooms the cursor still holds, found from the rooms
  (few, admin-made) through `ix_chat_groups_kind_activity` and a membership probe;
- `pinned`: the user's pinned chats (page 1, through `ix_chat_members_user_pinned`; at most
  MAX_PINNED), or those the cursor still holds; `member` and `changed` leave them out. The caller
  ranks them first.
Then one join per candidate: group, membership, listing, peer (and their read marker), last
message, blocks — primary key lookups only; the badge (`unread_total`) rides along from the
counter row. The caller merges the candidates by key in Python and keeps `limit`.

Statements are built once per shape (which branches, which filters) with bound parameters:
building a statement this size costs more Python time than running it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    Select,
    and_,
    bindparam,
    case,
    func,
    literal,
    not_,
    null,
    or_,
    select,
    tuple_,
    union_all,
)

from chat.conversations.archive import archived_clause
from chat.conversations.cursor import Filters, Snapshot
from chat.models import INBOX_MESSAGE
from chat.tables import (
    blocks_t,
    counters_t,
    groups_t,
    inbox_t,
    listings_t,
    members_t,
    messages_t,
    users_t,
)
from core.db import UTCDateTime

MEMBER, CHANGED, ROOM, PINNED = "member", "changed", "room", "pinned"
INBOX_KINDS = ("direct", "group", "item")

USER = bindparam("user_id", type_=BigInteger())
LIMIT = bindparam("limit_plus_one", type_=BigInteger())
CUTOFF = bindparam("cutoff", type_=UTCDateTime())
LISTING = bindparam("listing_id", type_=BigInteger())
INBOX_POS = bindparam("inbox_pos", type_=BigInteger())
AFTER_KEY = bindparam("after_key", type_=UTCDateTime())
AFTER_GROUP = bindparam("after_group", type_=BigInteger())
ROOM_IDS = bindparam("room_ids", expanding=True, type_=BigInteger())
PIN_IDS = bindparam("pin_ids", expanding=True, type_=BigInteger())  # every chat pinned at the snapshot
PINS_LEFT = bindparam("pins_left", expanding=True, type_=BigInteger())  # those not shown yet


@dataclass(frozen=True)
class ListQuery:
    """What one page asks for."""

    user_id: int
    filters: Filters
    limit: int
    cutoff: datetime  # archive cutoff, taken at the snapshot time
    after: Snapshot | None = None


@dataclass(frozen=True)
class Shape:
    """What decides the statement's text; everything else is a bound parameter."""

    kinds: tuple[str, ...]  # item/direct kinds listed
    rooms: bool  # the room branch
    by_listing: bool
    archived: bool
    after: bool  # a later page
    pins: bool  # the pinned branch (page 1, or pinned chats the cursor still holds)
    pinned_at_snapshot: bool  # a later page whose snapshot had pinned chats (left out of the other branches)


def shape_of(q: ListQuery) -> Shape:
    f = q.filters
    if f.listing_id is not None or f.archived:  # only item groups have a listing and age out
        kinds, rooms = (("item",) if f.kind in (None, "item") else ()), False
    elif f.kind is None:
        kinds, rooms = INBOX_KINDS, True  # type: ignore[assignment]
    else:
        kinds, rooms = ((f.kind,) if f.kind != "room" else ()), f.kind == "room"
    rooms = rooms and (q.after is None or bool(q.after.rooms))
    pins = bool(kinds) and (q.after is None or any(key is not None for key in q.after.pinned.values()))
    return Shape(kinds=kinds, rooms=rooms, by_listing=f.listing_id is not None, archived=f.archived,
                 after=q.after is not None, pins=pins,
                 pinned_at_snapshot=q.after is not None and bool(q.after.pinned))


def list_params(q: ListQuery) -> dict[str, Any]:
    params: dict[str, Any] = {"user_id": q.user_id, "limit_plus_one": q.limit + 1, "cutoff": q.cutoff,
                              "listing_id": q.filters.listing_id}
    if q.after is not None:
        params.update(inbox_pos=q.after.inbox_pos, after_key=q.after.key, after_group=q.after.group_id,
                      room_ids=sorted(q.after.rooms), pin_ids=sorted(q.after.pinned),
                      pins_left=sorted(gid for gid, key in q.after.pinned.items() if key is not None))
    return params


def _const(value: str):
    """A constant written into the SQL, not bound: PostgreSQL's generic plan for a prepared statement
    (psycopg prepares repeated statements) then still knows that `kind = 'room'` is selective."""
    return literal(value, literal_execute=True)


def _visible(m, g):
    """Not hidden by the member (DELETE /conversations), or a message came after they hid it."""
    return or_(m.c.hidden_until_seq.is_(None), g.c.last_seq > m.c.hidden_until_seq)


def _common(stmt: Select, shape: Shape, m, g, l) -> Select:
    """The filters every item/direct branch applies: kinds, visibility, archive, listing."""
    archived = archived_clause(g, l, CUTOFF)
    stmt = stmt.where(g.c.kind.in_([_const(kind) for kind in shape.kinds]), _visible(m, g),
                      archived if shape.archived else not_(archived))
    return stmt.where(g.c.listing_id == LISTING) if shape.by_listing else stmt


def _not_pinned(stmt: Select, shape: Shape, m) -> Select:
    """Pinned chats are listed by their own branch: page 1 leaves out those pinned now, later pages
    those pinned at the snapshot (so pinning or unpinning while paging never shows a chat twice)."""
    if not shape.after:
        return stmt.where(m.c.pinned.is_(False))
    return stmt.where(m.c.group_id.not_in(PIN_IDS)) if shape.pinned_at_snapshot else stmt


def _pinned_branch(shape: Shape) -> Select:
    """The user's pinned chats (few: MAX_PINNED): on page 1 through `ix_chat_members_user_pinned`,
    on later pages those the cursor holds."""
    m, g, l = members_t, groups_t, listings_t
    stmt = (select(m.c.group_id, m.c.activity_at.label("key"), literal(PINNED).label("src"))
            .select_from(m.join(g, g.c.id == m.c.group_id).outerjoin(l, l.c.id == g.c.listing_id))
            .where(m.c.user_id == USER))
    stmt = _common(stmt, shape, m, g, l)
    return stmt.where(m.c.group_id.in_(PINS_LEFT)) if shape.after else stmt.where(m.c.pinned.is_(True))


def _member_branch(shape: Shape) -> Select:
    m, g, l = members_t, groups_t, listings_t
    # With a listing filter the few groups of that listing drive the join (unique index on
    # listing_id); `user_id + 0` keeps planners from walking the user's whole activity index instead.
    me = (m.c.user_id + 0) if shape.by_listing else m.c.user_id
    stmt = (select(m.c.group_id, m.c.activity_at.label("key"), literal(MEMBER).label("src"))
            .select_from(m.join(g, g.c.id == m.c.group_id).outerjoin(l, l.c.id == g.c.listing_id))
            .where(me == USER))
    stmt = _not_pinned(_common(stmt, shape, m, g, l), shape, m)
    if shape.after:
        since = select(inbox_t.c.group_id).where(inbox_t.c.user_id == USER, inbox_t.c.pos > INBOX_POS,
                                                 inbox_t.c.kind == _const(INBOX_MESSAGE))
        stmt = stmt.where(tuple_(m.c.activity_at, m.c.group_id) < tuple_(AFTER_KEY, AFTER_GROUP),
                          m.c.group_id.not_in(since))
    return stmt.order_by(m.c.activity_at.desc(), m.c.group_id.desc()).limit(LIMIT)


def _changed_branch(shape: Shape) -> Select:
    m, g, l, prev = members_t, groups_t, listings_t, messages_t.alias("prev")
    new = (select(inbox_t.c.group_id, func.min(messages_t.c.seq).label("first_seq"))
           .select_from(inbox_t.join(messages_t, messages_t.c.id == inbox_t.c.message_id))
           .where(inbox_t.c.user_id == USER, inbox_t.c.pos > INBOX_POS, inbox_t.c.kind == _const(INBOX_MESSAGE))
           .group_by(inbox_t.c.group_id).subquery("new_entries"))
    then = case((prev.c.created_at > m.c.joined_at, prev.c.created_at), else_=m.c.joined_at)
    stmt = (select(m.c.group_id, then.label("key"), literal(CHANGED).label("src"))
            .select_from(new.join(m, and_(m.c.group_id == new.c.group_id, m.c.user_id == USER))
                         .join(g, g.c.id == m.c.group_id).outerjoin(l, l.c.id == g.c.listing_id)
                         .outerjoin(prev, and_(prev.c.group_id == m.c.group_id, prev.c.seq == new.c.first_seq - 1))))
    stmt = _not_pinned(_common(stmt, shape, m, g, l), shape, m)
    return stmt.where(tuple_(then, m.c.group_id) < tuple_(AFTER_KEY, AFTER_GROUP))


def _room_branch(shape: Shape) -> Select:
    """The user's rooms, found from the (few) rooms: `ix_chat_groups_kind_activity`, then a membership probe."""
    m, g = members_t, groups_t
    member = select(m.c.group_id).where(m.c.group_id == g.c.id, m.c.user_id == USER, _visible(m, g)).exists()
    stmt = select(g.c.id.label("group_id"), g.c.last_message_at.label("key"), literal(ROOM).label("src")).where(
        g.c.kind == _const("room"), member)
    return stmt.where(g.c.id.in_(ROOM_IDS)) if shape.after else stmt


def _candidates(shape: Shape):
    branches: list[Select] = []
    if shape.kinds:
        branches.append(_member_branch(shape))
        if shape.after:
            branches.append(_changed_branch(shape))
    if shape.pins:
        branches.append(_pinned_branch(shape))
    if shape.rooms:
        branches.append(_room_branch(shape))
    if not branches:
        return None
    # Each branch is wrapped so its ORDER BY/LIMIT stays its own (SQLite wants it so in a UNION).
    wrapped = [select(*b.subquery().c) for b in branches]
    return (wrapped[0] if len(wrapped) == 1 else union_all(*wrapped)).subquery("cand")


@lru_cache(maxsize=64)
def list_statement(shape: Shape) -> Select | None:
    """The page's statement for this shape (None when the filters leave nothing to list)."""
    cand = _candidates(shape)
    if cand is None:
        return None
    g, m = groups_t, members_t
    other = members_t.alias("other")
    direct_peer = (select(func.min(other.c.user_id)).where(other.c.group_id == g.c.id, other.c.user_id != USER)
                   .scalar_subquery())
    peer_id = case((g.c.kind == "item", case((g.c.buyer_id == USER, g.c.seller_id), else_=g.c.buyer_id)),
                   (g.c.kind == "direct", direct_peer), else_=null())
    # Materialized: the candidates' details are computed once per row, and PostgreSQL plans two small
    # joins instead of one wide one (planning time dominated the request before).
    page = (select(cand.c.group_id, cand.c.key, cand.c.src, g.c.kind, g.c.name, g.c.listing_id, g.c.buyer_id,
                   g.c.seller_id,
                   g.c.read_only, g.c.last_seq, g.c.last_message_id, g.c.listing_final_at,
                   case((g.c.kind == "room", g.c.last_message_at), else_=m.c.activity_at).label("activity"),
                   m.c.role, m.c.last_read_seq, m.c.hidden_until_seq, m.c.muted, m.c.pinned, m.c.mention_seq,
                   peer_id.label("peer_id"))
            .select_from(cand.join(g, g.c.id == cand.c.group_id)
                         .join(m, and_(m.c.group_id == cand.c.group_id, m.c.user_id == USER)))
            .cte("page").prefix_with("MATERIALIZED"))
    l, peer, last = listings_t, users_t.alias("peer"), messages_t.alias("last")
    mine, theirs = blocks_t.alias("mine"), blocks_t.alias("theirs")
    peer_member = members_t.alias("peer_member")
    # the caller's counter row (inbox position, badge): one primary-key lookup, on every row of the page
    counter = counters_t.alias("counter")
    everyone = members_t.alias("everyone")
    # groups and rooms show their size (a primary key range per row of the page); item/direct chats have two
    member_count = case((page.c.kind.in_([_const("group"), _const("room")]),
                         select(func.count()).where(everyone.c.group_id == page.c.group_id).scalar_subquery()),
                        else_=literal(2, literal_execute=True))
    return (select(page,
                   l.c.title.label("listing_title"), l.c.price_cents.label("listing_price_cents"),
                   l.c.kind.label("listing_kind"), l.c.status.label("listing_status"),
                   l.c.images.label("listing_images"),
                   peer.c.nickname.label("peer_nickname"), peer.c.avatar_url.label("peer_avatar_url"),
                   last.c.seq.label("last_seq_of_message"), last.c.type.label("last_type"),
                   last.c.body.label("last_body"), last.c.sender_id.label("last_sender_id"),
                   last.c.created_at.label("last_created_at"), last.c.recalled_at.label("last_recalled_at"),
                   mine.c.blocker_id.is_not(None).label("blocked_by_me"),
                   theirs.c.blocker_id.is_not(None).label("blocked_me"),
                   peer_member.c.last_read_seq.label("peer_read_seq"),
                   func.coalesce(counter.c.last_pos, 0).label("inbox_pos"),
                   func.coalesce(counter.c.unread_total, 0).label("unread_total"),
                   func.coalesce(counter.c.unread_version, 0).label("unread_version"),
                   member_count.label("member_count"))
            .select_from(page.outerjoin(l, l.c.id == page.c.listing_id)
                         .outerjoin(peer, peer.c.id == page.c.peer_id)
                         .outerjoin(last, last.c.id == page.c.last_message_id)
                         .outerjoin(peer_member, and_(peer_member.c.group_id == page.c.group_id,
                                                      peer_member.c.user_id == page.c.peer_id))
                         .outerjoin(mine, and_(mine.c.blocker_id == USER, mine.c.blocked_id == page.c.peer_id))
                         .outerjoin(theirs, and_(theirs.c.blocker_id == page.c.peer_id, theirs.c.blocked_id == USER))
                         .outerjoin(counter, counter.c.user_id == USER)))
