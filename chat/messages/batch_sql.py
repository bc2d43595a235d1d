"""The batched send's statements, one implementation per backend, each step one statement for the whole batch.

PostgreSQL gets arrays: `= ANY(:ids)` reads and `unnest(...)` writes, so each statement's text is the
same whatever the batch's size (psycopg converts and prepares it once) and a thousand rows cost one
bound parameter per column, not one per value. SQLite runs the same steps with expanding IN lists,
pairs joined from VALUES, and executemany, which its driver loops over in C.
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Iterable, Sequence

from sqlalchemy import BigInteger, any_, bindparam, insert, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from chat.messages import statements as single
from chat.tables import counters_t, groups_t, inbox_t, listings_t, members_t, messages_t, users_t

g, m = groups_t.c, members_t.c

#: a new message's row: (group_id, seq, sender_id, type, body, ext, client_id)
MessageRow = tuple[int, int, int, str, dict, Any, str]


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
        "members_of": select(m.group_id, m.user_id, m.role, m.muted_until).where(ids_in(m.group_id, "ids")).order_by(m.group_id,  # noqa: E501
                                                                                                          m.user_id),
    }


def _pg_any(column, name: str) -> ColumnElement[bool]:
    return column == any_(bindparam(name, type_=postgresql.ARRAY(BigInteger())))


def _expanding_in(column, name: str) -> ColumnElement[bool]:
    return column.in_(bindparam(name, expanding=True))


class BatchSql:
    """The steps of `chat.messages.batch._append_many` on SQLite (and the shape every backend follows)."""

    reads = _reads(_expanding_in)
    insert_messages = insert(messages_t).returning(messages_t.c.id, sort_by_parameter_order=True)
    insert_inbox = insert(inbox_t)

    def __init__(self) -> None:
        counters = sqlite.insert(counters_t)
        self.advance = (counters.on_conflict_do_update(
            index_elements=[counters_t.c.user_id],
            set_={"last_pos": counters_t.c.last_pos + counters.excluded.last_pos})
            .returning(counters_t.c.user_id, counters_t.c.last_pos))

    def read(self, conn: Connection, name: str, ids: Iterable[int]) -> list[Any]:
        """Rows of one of `reads` for these ids."""
        return conn.execute(self.reads[name], {"ids": sorted(set(ids))}).all()  # type: ignore[return-value]

    def sent_before(self, conn: Connection, pairs: Iterable[tuple[int, str]]) -> set[tuple[int, str]]:
        """Which of these (sender_id, client_id) pairs name a stored message."""
        return self._pairs_in(conn, "SELECT m.sender_id, m.client_id FROM (VALUES {values}) AS v JOIN chat_messages "
                                    "AS m ON m.sender_id = v.column1 AND m.client_id = v.column2", pairs)

    def blocks(self, conn: Connection, pairs: Iterable[tuple[int, int]]) -> set[tuple[int, int]]:
        """Which of these (blocker_id, blocked_id) pairs are blocks."""
        return self._pairs_in(conn, "SELECT b.blocker_id, b.blocked_id FROM (VALUES {values}) AS v JOIN blocks AS b "
                                    "ON b.blocker_id = v.column1 AND b.blocked_id = v.column2", pairs)

    @staticmethod
    def _pairs_in(conn: Connection, sql: str, pairs: Iterable[tuple[Any, Any]]) -> set[tuple[Any, Any]]:
        # Joined from VALUES, SQLite probes the unique index once per pair; `(a, b) IN (VALUES …)`
        # scans the whole table instead (its plan: SCAN, then a list lookup per row).
        pairs = sorted(set(pairs))
        if not pairs:
            return set()
        values = ",".join(["(?, ?)"] * len(pairs))
        return set(conn.exec_driver_sql(sql.format(values=values), tuple(x for pair in pairs for x in pair)).all())

    def add_messages(self, conn: Connection, rows: Sequence[MessageRow], at: datetime) -> list[int]:
        """Insert the messages; their ids in the rows' order."""
        return list(conn.execute(self.insert_messages, [
            {"group_id": gid, "seq": seq, "sender_id": sid, "type": type, "body": body, "ext": ext,
             "client_id": cid, "created_at": at} for gid, seq, sid, type, body, ext, cid in rows]).scalars())

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
        conn.execute(single.MOVE_GROUP, [{"gid": gid, "new_seq": seq, "mid": mid, "at": at}
                                         for gid, (seq, mid) in sorted(last.items())])

    def move_members(self, conn: Connection, members: dict[int, list[int]], read_to: dict[tuple[int, int], int],
                     at: datetime) -> None:
        """Every member's activity time, and each sender's read marker up to their newest message."""
        # (Every group of the batch has a sender in read_to.)
        conn.execute(single.MOVE_ACTIVITY, [{"gid": gid, "sid": sid, "new_seq": seq, "at": at}
                                            for (gid, sid), seq in sorted(read_to.items())])


class PostgresBatchSql(BatchSql):
    """The same steps on PostgreSQL, with array parameters (statement text independent of the batch)."""

    reads = _reads(_pg_any)
    # Pairs are joined from unnest: one index probe per pair (two `= ANY` lists would probe their product).
    sent_pairs = text(
        "SELECT m.sender_id, m.client_id FROM unnest(CAST(:sender_ids AS BIGINT[]), CAST(:client_ids AS VARCHAR[])) "
        "AS v(sender_id, client_id) JOIN chat_messages AS m ON m.sender_id = v.sender_id AND m.client_id = v.client_id")
    block_pairs = text(
        "SELECT b.blocker_id, b.blocked_id FROM unnest(CAST(:blockers AS BIGINT[]), CAST(:blocked AS BIGINT[])) "
        "AS v(blocker_id, blocked_id) JOIN blocks AS b ON b.blocker_id = v.blocker_id AND b.blocked_id = v.blocked_id")
    insert_messages = text(  # type: ignore[assignment]
        "INSERT INTO chat_messages (group_id, seq, sender_id, type, body, ext, client_id, created_at) "
        "SELECT v.group_id, v.seq, v.sender_id, v.type, CAST(v.body AS JSON), CAST(v.ext AS JSON), v.client_id, "
        ":at FROM unnest(CAST(:group_ids AS BIGINT[]), CAST(:seqs AS INTEGER[]), CAST(:sender_ids AS BIGINT[]), "
        "CAST(:types AS VARCHAR[]), CAST(:bodies AS TEXT[]), CAST(:exts AS TEXT[]), CAST(:client_ids AS VARCHAR[])) "
        "AS v(group_id, seq, sender_id, type, body, ext, client_id) RETURNING id, group_id, seq")
    advance_sql = text(
        "INSERT INTO chat_inbox_counters (user_id, last_pos) "
        "SELECT * FROM unnest(CAST(:user_ids AS BIGINT[]), CAST(:counts AS BIGINT[])) "
        "ON CONFLICT (user_id) DO UPDATE SET last_pos = chat_inbox_counters.last_pos + excluded.last_pos "
        "RETURNING user_id, last_pos")
    inbox_sql = text(
        "INSERT INTO chat_inbox (user_id, pos, message_id, group_id) SELECT * FROM unnest("
        "CAST(:user_ids AS BIGINT[]), CAST(:positions AS BIGINT[]), CAST(:message_ids AS BIGINT[]), "
        "CAST(:group_ids AS BIGINT[]))")
    groups_sql = text(
        "UPDATE chat_groups AS g SET last_seq = v.seq, last_message_id = v.message_id, last_message_at = :at "
        "FROM unnest(CAST(:ids AS BIGINT[]), CAST(:seqs AS INTEGER[]), CAST(:message_ids AS BIGINT[])) "
        "AS v(id, seq, message_id) WHERE g.id = v.id")
    members_sql = text(
        "UPDATE chat_members AS m SET activity_at = :at, last_read_seq = GREATEST(m.last_read_seq, v.seq) "
        "FROM unnest(CAST(:group_ids AS BIGINT[]), CAST(:user_ids AS BIGINT[]), CAST(:seqs AS INTEGER[])) "
        "AS v(group_id, user_id, seq) WHERE m.group_id = v.group_id AND m.user_id = v.user_id")

    def sent_before(self, conn: Connection, pairs: Iterable[tuple[int, str]]) -> set[tuple[int, str]]:
        senders, client_ids = _columns(sorted(set(pairs)), 2)
        return set(conn.execute(self.sent_pairs, {"sender_ids": senders, "client_ids": client_ids}).all())

    def blocks(self, conn: Connection, pairs: Iterable[tuple[int, int]]) -> set[tuple[int, int]]:
        blockers, blocked = _columns(sorted(set(pairs)), 2)
        return set(conn.execute(self.block_pairs, {"blockers": blockers, "blocked": blocked}).all())

    def add_messages(self, conn: Connection, rows: Sequence[MessageRow], at: datetime) -> list[int]:
        # JSON text as SQLAlchemy's JSON type would bind it (json.dumps; None is JSON null)
        cols = list(zip(*rows))
        ids = {(gid, seq): mid for mid, gid, seq in conn.execute(self.insert_messages, {
            "group_ids": list(cols[0]), "seqs": list(cols[1]), "sender_ids": list(cols[2]), "types": list(cols[3]),
            "bodies": [json.dumps(b) for b in cols[4]], "exts": [json.dumps(e) for e in cols[5]],
            "client_ids": list(cols[6]), "at": at})}
        return [ids[(gid, seq)] for gid, seq, *_ in rows]

    def advance_counters(self, conn: Connection, counts: dict[int, int]) -> dict[int, int]:
        users = sorted(counts)  # rows are locked in this order: ascending user id, as single sends lock them
        return dict(conn.execute(self.advance_sql, {"user_ids": users, "counts": [counts[u] for u in users]}).all())

    def add_inbox(self, conn: Connection, rows: Iterable[tuple[int, int, int, int]]) -> None:
        cols = list(zip(*rows))
        conn.execute(self.inbox_sql, {"user_ids": list(cols[0]), "positions": list(cols[1]),
                                      "message_ids": list(cols[2]), "group_ids": list(cols[3])})

    def move_groups(self, conn: Connection, last: dict[int, tuple[int, int]], at: datetime) -> None:
        ids = sorted(last)
        conn.execute(self.groups_sql, {"ids": ids, "seqs": [last[i][0] for i in ids],
                                       "message_ids": [last[i][1] for i in ids], "at": at})

    def move_members(self, conn: Connection, members: dict[int, list[int]], read_to: dict[tuple[int, int], int],
                     at: datetime) -> None:
        # One row per member of every group: the activity time for all, the read marker for senders.
        rows = [(gid, uid, read_to.get((gid, uid), 0)) for gid in sorted(members) for uid in members[gid]]
        cols = list(zip(*rows))
        conn.execute(self.members_sql, {"group_ids": list(cols[0]), "user_ids": list(cols[1]),
                                        "seqs": list(cols[2]), "at": at})


def _columns(rows: Sequence[tuple], width: int) -> list[list]:
    """Rows as `width` column lists (the arrays unnest takes)."""
    return [list(col) for col in zip(*rows)] if rows else [[] for _ in range(width)]


_BY_DIALECT = {"postgresql": PostgresBatchSql(), "sqlite": BatchSql()}


def for_connection(conn: Connection) -> BatchSql:
    """The batch statements for this connection's backend."""
    return _BY_DIALECT[conn.dialect.name]
