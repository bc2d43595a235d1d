"""The batched append's statements: one interface (`BatchSql`), one implementation per backend, each step
one statement for the whole batch. Every statement is built at import from the table objects of
`chat/tables.py` (a renamed column fails at import, whatever the backend), and this module is the one
place where SQL differs by dialect.

PostgreSQL gets arrays: `= ANY(:ids)` reads and `unnest(...)` writes, so each statement's text is the
same whatever the batch's size (psycopg prepares it once) and a thousand rows cost one bound parameter
per column, not one per value. SQLite runs the same steps with expanding IN lists, pairs read from
`json_each`, and executemany, which its driver loops over in C.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable, Sequence

from sqlalchemy import (
    BigInteger,
    Integer,
    String,
    Text,
    and_,
    any_,
    bindparam,
    case,
    cast,
    column,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from chat.tables import blocks_t, counters_t, groups_t, inbox_t, listings_t, members_t, messages_t, users_t
from core import jsontext

g, m, msg, b = groups_t.c, members_t.c, messages_t.c, blocks_t.c

#: a new message's row: (group_id, seq, sender_id, type, body, ext, client_id, reply_to_id, reply_to, mentions)
MessageRow = tuple[int, int, int | None, str, dict, Any, str | None, int | None, dict | None, Any]


def _reads(ids_in) -> dict[str, Any]:
    """The batch's reads by id lists, given how a backend tests `column` against a list parameter `name`."""
    return {
        # the groups' rows, locked in ascending id (the order every unit of work takes group locks in)
        "lock_groups": (
            select(g.id, g.kind, g.read_only, g.last_seq, g.buyer_id, g.seller_id, g.direct_key,
                   g.listing_final_at, listings_t.c.status.label("listing_status"))
            .select_from(groups_t.outerjoin(listings_t, listings_t.c.id == g.listing_id))
            .where(ids_in(g.id, "ids")).order_by(g.id).with_for_update(of=groups_t)),
        "senders": select(users_t.c.id, users_t.c.nickname, users_t.c.avatar_url, users_t.c.banned_at,
                          users_t.c.banned_until).where(ids_in(users_t.c.id, "ids")),
        "members_of": select(m.group_id, m.user_id, m.role, m.muted_until).where(ids_in(m.group_id, "ids"))
                      .order_by(m.group_id, m.user_id),
    }


# UPDATE parameters may not share a column's name: `gid`, `sid` (sender), `new_seq`, `mid`, `at`, `ro`.
_SET_READ_ONLY = update(groups_t).where(g.id == bindparam("gid")).values(read_only=bindparam("ro"))


class BatchSql:
    """The steps of `chat.messages.batch.append`, as SQLite runs them (and the interface every backend has)."""

    reads = _reads(lambda col, name: col.in_(bindparam(name, expanding=True)))
    insert_messages = insert(messages_t).returning(msg.id, sort_by_parameter_order=True)
    insert_inbox = insert(inbox_t)
    _counters = sqlite.insert(counters_t)
    advance = (_counters.on_conflict_do_update(index_elements=[counters_t.c.user_id],
                                               set_={"last_pos": counters_t.c.last_pos + _counters.excluded.last_pos})
               .returning(counters_t.c.user_id, counters_t.c.last_pos))
    move_group = update(groups_t).where(g.id == bindparam("gid")).values(
        last_seq=bindparam("new_seq"), last_message_id=bindparam("mid"), last_message_at=bindparam("at"))
    #: an item or direct group: every member's activity time, and the sender's read marker (sid None: the system)
    move_activity = update(members_t).where(m.group_id == bindparam("gid")).values(
        activity_at=bindparam("at"),
        last_read_seq=case((and_(m.user_id == bindparam("sid"), m.last_read_seq < bindparam("new_seq")),
                            bindparam("new_seq")), else_=m.last_read_seq))
    #: a room: the sender's read marker only
    move_read_marker = update(members_t).where(
        m.group_id == bindparam("gid"), m.user_id == bindparam("sid"),
        m.last_read_seq < bindparam("new_seq")).values(last_read_seq=bindparam("new_seq"))
    # Pairs come from one JSON array parameter: SQLite probes the unique index once per pair (its plan
    # for `(a, b) IN (VALUES …)` scans the whole table).
    _pairs = func.json_each(bindparam("pairs")).table_valued("value").alias("v")
    _first, _second = func.json_extract(_pairs.c.value, "$[0]"), func.json_extract(_pairs.c.value, "$[1]")
    sent_pairs = select(msg.sender_id, msg.client_id).select_from(_pairs).join(
        messages_t, and_(msg.sender_id == _first, msg.client_id == _second))
    block_pairs = select(b.blocker_id, b.blocked_id).select_from(_pairs).join(
        blocks_t, and_(b.blocker_id == _first, b.blocked_id == _second))

    # Unread totals: each user's delta looked up in one JSON object parameter ({"<user id>": delta}), so
    # the statement is the same whatever the users (a CASE with a parameter per user compiled anew each time).
    add_unread_sql = (update(counters_t).where(counters_t.c.user_id.in_(bindparam("ids", expanding=True)))
                      .values(unread_total=counters_t.c.unread_total + cast(func.json_extract(
                          bindparam("deltas"), '$."' + cast(counters_t.c.user_id, String) + '"'), BigInteger))
                      .returning(counters_t.c.user_id, counters_t.c.unread_total))

    def read(self, conn: Connection, name: str, ids: Iterable[int]) -> list[Any]:
        """Rows of one of `reads` for these ids."""
        return list(conn.execute(self.reads[name], {"ids": sorted(set(ids))}).all())

    def sent_before(self, conn: Connection, pairs: Iterable[tuple[int, str]]) -> set[tuple[int, str]]:
        """Which of these (sender_id, client_id) pairs name a stored message."""
        return set(conn.execute(self.sent_pairs, {"pairs": jsontext.dumps(sorted(set(pairs)))}).all())

    def blocks(self, conn: Connection, pairs: Iterable[tuple[int, int]]) -> set[tuple[int, int]]:
        """Which of these (blocker_id, blocked_id) pairs are blocks."""
        return set(conn.execute(self.block_pairs, {"pairs": jsontext.dumps(sorted(set(pairs)))}).all())

    def add_unread(self, conn: Connection, deltas: dict[int, int]) -> dict[int, int]:
        """Add each user's delta to their unread total (their counter rows locked); user → new total."""
        by_user = jsontext.dumps({str(u): d for u, d in deltas.items()})
        return dict(conn.execute(self.add_unread_sql, {"ids": sorted(deltas), "deltas": by_user}).all())

    def add_messages(self, conn: Connection, rows: Sequence[MessageRow], at: datetime) -> list[int]:
        """Insert the messages; their ids in the rows' order."""
        return list(conn.execute(self.insert_messages, [
            {"group_id": gid, "seq": seq, "sender_id": sid, "type": type, "body": body, "ext": ext,
             "client_id": cid, "created_at": at, "reply_to_id": rid, "reply_to": quote, "mentions": mentions}
            for gid, seq, sid, type, body, ext, cid, rid, quote, mentions in rows]).scalars())

    def advance_counters(self, conn: Connection, counts: dict[int, int]) -> dict[int, int]:
        """Move each user's inbox counter by their count, in ascending user id; user → new last position."""
        return dict(conn.execute(self.advance, [{"user_id": uid, "last_pos": counts[uid]}
                                                for uid in sorted(counts)]).all())

    def add_inbox(self, conn: Connection, rows: Iterable[tuple[int, int, int, int]]) -> None:
        """Inbox rows (user_id, pos, message_id, group_id)."""
        conn.execute(self.insert_inbox, [{"user_id": u, "pos": p, "message_id": mid, "group_id": gid}
                                         for u, p, mid, gid in rows])

    def move_groups(self, conn: Connection, last: dict[int, tuple[int, int]], at: datetime) -> None:
        """Each group's newest message: group → (seq, message id)."""
        conn.execute(self.move_group, [{"gid": gid, "new_seq": seq, "mid": mid, "at": at}
                                       for gid, (seq, mid) in sorted(last.items())])

    def add_changes(self, conn: Connection, rows: Iterable[tuple[int, int, int, int, str]]) -> None:
        """Inbox rows of changes to messages (user_id, pos, message_id, group_id, kind): edits, reactions."""
        conn.execute(self.insert_inbox, [{"user_id": u, "pos": p, "message_id": mid, "group_id": gid, "kind": kind}
                                         for u, p, mid, gid, kind in rows])

    def set_read_only(self, conn: Connection, read_only: dict[int, bool]) -> None:
        """Open or close groups for posting: group → read_only."""
        conn.execute(_SET_READ_ONLY, [{"gid": gid, "ro": ro} for gid, ro in sorted(read_only.items())])

    def move_members(self, conn: Connection, inbox_members: dict[int, list[int]],
                     read_to: dict[tuple[int, int], int], at: datetime) -> None:
        """Every member's activity time in the item and direct groups `inbox_members` (group → member ids),
        and each sender's read marker up to their newest message: (group, sender) → seq."""
        senders: dict[int, list[tuple[int | None, int]]] = {gid: [] for gid in inbox_members}
        rooms = []
        for (gid, sid), seq in sorted(read_to.items()):
            if gid in senders:
                senders[gid].append((sid, seq))
            else:
                rooms.append({"gid": gid, "sid": sid, "new_seq": seq})
        # One row per sender of each item or direct group (the system's: activity only).
        activity = [{"gid": gid, "sid": sid, "new_seq": seq, "at": at}
                    for gid in sorted(senders) for sid, seq in (senders[gid] or [(None, 0)])]
        if activity:
            conn.execute(self.move_activity, activity)
        if rooms:
            conn.execute(self.move_read_marker, rooms)


def _unnest(**columns: Any) -> Any:
    """`unnest(:a, :b, …) AS v(a, b, …)`: one array parameter per column, each named as its column."""
    # psycopg's dialect casts each parameter to its type (`%(ids)s::BIGINT[]`), as unnest needs.
    arrays = [bindparam(name, type_=postgresql.ARRAY(type_)) for name, type_ in columns.items()]
    return (func.unnest(*arrays).table_valued(*(column(name, type_) for name, type_ in columns.items()))
            .render_derived(name="v"))


def _pg_any(col, name: str) -> ColumnElement[bool]:
    return col == any_(bindparam(name, type_=postgresql.ARRAY(BigInteger())))


class PostgresBatchSql(BatchSql):
    """The same steps on PostgreSQL, with array parameters (statement text independent of the batch)."""

    reads = _reads(_pg_any)
    # Pairs are joined from unnest: one index probe per pair (two `= ANY` lists would probe their product).
    _sent = _unnest(sender_ids=BigInteger, client_ids=String)
    sent_pairs = select(msg.sender_id, msg.client_id).select_from(_sent).join(
        messages_t, and_(msg.sender_id == _sent.c.sender_ids, msg.client_id == _sent.c.client_ids))
    _blocked = _unnest(blockers=BigInteger, blocked=BigInteger)
    block_pairs = select(b.blocker_id, b.blocked_id).select_from(_blocked).join(
        blocks_t, and_(b.blocker_id == _blocked.c.blockers, b.blocked_id == _blocked.c.blocked))
    # Bodies travel as JSON text, as SQLAlchemy's JSON type would bind them (core.jsontext; None is JSON null).
    _new = _unnest(group_ids=BigInteger, seqs=Integer, sender_ids=BigInteger, types=String, bodies=Text, exts=Text,
                   client_ids=String, reply_to_ids=BigInteger, reply_tos=Text, mentions=Text)
    insert_messages = insert(messages_t).from_select(
        ["group_id", "seq", "sender_id", "type", "body", "ext", "client_id", "created_at", "reply_to_id", "reply_to",
         "mentions"],
        select(_new.c.group_ids, _new.c.seqs, _new.c.sender_ids, _new.c.types, cast(_new.c.bodies, msg.body.type),
               cast(_new.c.exts, msg.ext.type), _new.c.client_ids, bindparam("at", type_=msg.created_at.type),
               _new.c.reply_to_ids, cast(_new.c.reply_tos, msg.reply_to.type), cast(_new.c.mentions, msg.mentions.type))
    ).returning(msg.id, msg.group_id, msg.seq)
    _counts = _unnest(user_ids=BigInteger, counts=BigInteger)
    _upsert = postgresql.insert(counters_t).from_select(["user_id", "last_pos"],
                                                        select(_counts.c.user_ids, _counts.c.counts))
    advance = (_upsert.on_conflict_do_update(index_elements=[counters_t.c.user_id],
                                             set_={"last_pos": counters_t.c.last_pos + _upsert.excluded.last_pos})
               .returning(counters_t.c.user_id, counters_t.c.last_pos))
    _inbox = _unnest(user_ids=BigInteger, positions=BigInteger, message_ids=BigInteger, group_ids=BigInteger)
    add_inbox_sql = insert(inbox_t).from_select(
        ["user_id", "pos", "message_id", "group_id"],
        select(_inbox.c.user_ids, _inbox.c.positions, _inbox.c.message_ids, _inbox.c.group_ids))
    _last = _unnest(ids=BigInteger, seqs=Integer, message_ids=BigInteger)
    move_groups_sql = update(groups_t).where(g.id == _last.c.ids).values(
        last_seq=_last.c.seqs, last_message_id=_last.c.message_ids, last_message_at=bindparam("at"))
    # One row per member to touch: `touch` moves the activity time (item and direct groups), `seq` the read marker.
    _marks = _unnest(group_ids=BigInteger, user_ids=BigInteger, seqs=Integer, touch=postgresql.BOOLEAN)
    move_members_sql = update(members_t).where(m.group_id == _marks.c.group_ids, m.user_id == _marks.c.user_ids).values(
        activity_at=case((_marks.c.touch, bindparam("at", type_=m.activity_at.type)), else_=m.activity_at),
        last_read_seq=func.greatest(m.last_read_seq, _marks.c.seqs))

    _deltas = _unnest(user_ids=BigInteger, deltas=BigInteger)
    add_unread_sql = (update(counters_t).where(counters_t.c.user_id == _deltas.c.user_ids)
                      .values(unread_total=counters_t.c.unread_total + _deltas.c.deltas)
                      .returning(counters_t.c.user_id, counters_t.c.unread_total))

    def add_unread(self, conn: Connection, deltas: dict[int, int]) -> dict[int, int]:
        users = sorted(deltas)
        return dict(conn.execute(self.add_unread_sql, {"user_ids": users, "deltas": [deltas[u] for u in users]})
                    .all())

    def sent_before(self, conn: Connection, pairs: Iterable[tuple[int, str]]) -> set[tuple[int, str]]:
        senders, client_ids = _columns(sorted(set(pairs)), 2)
        return set(conn.execute(self.sent_pairs, {"sender_ids": senders, "client_ids": client_ids}).all())

    def blocks(self, conn: Connection, pairs: Iterable[tuple[int, int]]) -> set[tuple[int, int]]:
        blockers, blocked = _columns(sorted(set(pairs)), 2)
        return set(conn.execute(self.block_pairs, {"blockers": blockers, "blocked": blocked}).all())

    def add_messages(self, conn: Connection, rows: Sequence[MessageRow], at: datetime) -> list[int]:
        cols = _columns(rows, 10)
        ids = {(gid, seq): mid for mid, gid, seq in conn.execute(self.insert_messages, {
            "group_ids": cols[0], "seqs": cols[1], "sender_ids": cols[2], "types": cols[3],
            "bodies": [jsontext.dumps(v) for v in cols[4]], "exts": [jsontext.dumps(v) for v in cols[5]],
            "client_ids": cols[6], "at": at, "reply_to_ids": cols[7],
            # SQL NULL, not JSON null, where there is none (as the SQLite path stores them)
            "reply_tos": [None if v is None else jsontext.dumps(v) for v in cols[8]],
            "mentions": [None if v is None else jsontext.dumps(v) for v in cols[9]]})}
        return [ids[(gid, seq)] for gid, seq, *_ in rows]

    def advance_counters(self, conn: Connection, counts: dict[int, int]) -> dict[int, int]:
        users = sorted(counts)  # rows are locked in this order: ascending user id, in every unit of work
        return dict(conn.execute(self.advance, {"user_ids": users, "counts": [counts[u] for u in users]}).all())

    def add_inbox(self, conn: Connection, rows: Iterable[tuple[int, int, int, int]]) -> None:
        cols = _columns(list(rows), 4)
        conn.execute(self.add_inbox_sql, {"user_ids": cols[0], "positions": cols[1], "message_ids": cols[2],
                                          "group_ids": cols[3]})

    def move_groups(self, conn: Connection, last: dict[int, tuple[int, int]], at: datetime) -> None:
        ids = sorted(last)
        conn.execute(self.move_groups_sql, {"ids": ids, "seqs": [last[i][0] for i in ids],
                                            "message_ids": [last[i][1] for i in ids], "at": at})

    def move_members(self, conn: Connection, inbox_members: dict[int, list[int]],
                     read_to: dict[tuple[int, int], int], at: datetime) -> None:
        rows = [(gid, uid, read_to.get((gid, uid), 0), True) for gid in sorted(inbox_members)
                for uid in inbox_members[gid]]
        rows += [(gid, sid, seq, False) for (gid, sid), seq in sorted(read_to.items()) if gid not in inbox_members]
        if rows:
            cols = _columns(rows, 4)
            conn.execute(self.move_members_sql, {"group_ids": cols[0], "user_ids": cols[1], "seqs": cols[2],
                                                 "touch": cols[3], "at": at})


def _columns(rows: Sequence[tuple], width: int) -> list[list]:
    """Rows as `width` column lists (the arrays unnest takes)."""
    return [list(col) for col in zip(*rows)] if rows else [[] for _ in range(width)]


_BY_DIALECT = {"postgresql": PostgresBatchSql(), "sqlite": BatchSql()}


def for_connection(conn: Connection) -> BatchSql:
    """The batch statements for this connection's backend."""
    return _BY_DIALECT[conn.dialect.name]
