"""The send path's SQL, built once at import: SQLAlchemy Core statements with bound parameters.

Building and cache-keying a Core statement costs more Python time than running it (profile of
bench/relay: about 40 % of a send went to constructing expressions), so every statement of the
hot path is made here once and executed on the unit of work's connection with a dict of parameters.
"""
from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    and_,
    bindparam,
    case,
    exists,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

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

g, m = groups_t.c, members_t.c

#: the message a sender already sent under this client_id, if any (params: sender_id, client_id)
FIND_SENT = select(messages_t.c.id).where(messages_t.c.sender_id == bindparam("sender_id"),
                                          messages_t.c.client_id == bindparam("client_id"))

#: the group row locked, with the sender's role, name and ban (params: group_id, sender_id)
LOCK_FOR_SENDER = (
    select(g.kind, g.read_only, g.last_seq, g.buyer_id, g.seller_id, g.direct_key, g.listing_final_at,
           listings_t.c.status.label("listing_status"), m.role, m.muted_until, users_t.c.nickname, users_t.c.avatar_url,
           users_t.c.banned_at, users_t.c.banned_until)
    .select_from(groups_t.outerjoin(members_t, and_(m.group_id == g.id, m.user_id == bindparam("sender_id")))
                 .outerjoin(listings_t, listings_t.c.id == g.listing_id)
                 .join(users_t, users_t.c.id == bindparam("sender_id")))
    .where(g.id == bindparam("group_id")).with_for_update(of=groups_t))

#: True when either of two users blocked the other (params: a, b)
BLOCKED_BETWEEN = select(exists().where(or_(
    and_(blocks_t.c.blocker_id == bindparam("a"), blocks_t.c.blocked_id == bindparam("b")),
    and_(blocks_t.c.blocker_id == bindparam("b"), blocks_t.c.blocked_id == bindparam("a")))))

#: the new message's id (params: every column of the row but id and recalled_at)
INSERT_MESSAGE = insert(messages_t).returning(messages_t.c.id)

INSERT_INBOX = insert(inbox_t)

# UPDATE parameters may not share a column's name: `gid`, `sid` (sender), `new_seq`, `mid`, `at`.

#: the group's last message (params: gid, new_seq, mid, at)
MOVE_GROUP = update(groups_t).where(g.id == bindparam("gid")).values(
    last_seq=bindparam("new_seq"), last_message_id=bindparam("mid"), last_message_at=bindparam("at"))

#: item and direct groups: every member's activity copy, and the sender's read marker (params: gid,
#: sid (None for the system), new_seq, at)
MOVE_ACTIVITY = update(members_t).where(m.group_id == bindparam("gid")).values(
    activity_at=bindparam("at"),
    last_read_seq=case((and_(m.user_id == bindparam("sid"), m.last_read_seq < bindparam("new_seq")),
                        bindparam("new_seq")), else_=m.last_read_seq))

#: rooms: the sender's read marker only (params: gid, sid, new_seq)
MOVE_READ_MARKER = update(members_t).where(
    m.group_id == bindparam("gid"), m.user_id == bindparam("sid"),
    m.last_read_seq < bindparam("new_seq")).values(last_read_seq=bindparam("new_seq"))


def _take_positions(dialect_insert) -> object:
    # Missing counters are created at 1, existing ones incremented, each under its row lock until
    # commit, so a position is only handed out after the transaction holding the previous one has
    # committed (no gaps visible to readers). The members are read in ascending user id and their
    # counters upserted in that order, so concurrent senders lock shared counters in the same order
    # (no deadlock). The RETURNING rows are every member with its position: the recipients.
    members = select(m.user_id, literal(1, BigInteger)).where(m.group_id == bindparam("group_id")).order_by(m.user_id)
    return (dialect_insert(counters_t).from_select(["user_id", "last_pos"], members)
            .on_conflict_do_update(index_elements=[counters_t.c.user_id],
                                   set_={"last_pos": counters_t.c.last_pos + 1})
            .returning(counters_t.c.user_id, counters_t.c.last_pos))


#: per dialect: each member's next inbox position, under its counter's row lock (params: group_id)
TAKE_POSITIONS = {"postgresql": _take_positions(postgresql.insert), "sqlite": _take_positions(sqlite.insert)}

