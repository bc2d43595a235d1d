"""The batched append's statements: one interface (`BatchSql`), one implementation per backend, each step
one statement for the whole batch. Every statement is built at import from the table objects of
`chat/tables.py` (a renamed column fails at import, whatever the backend), and this module is the one
place where SQL differs by dialect.

A batch's rows travel as one JSON array parameter per statement on both backends, made in C (orjson):
SQLite reads them with `json_each`, PostgreSQL with `jsonb_array_elements` (`_pg_json_rows`); id lists are
the same JSON on SQLite and an array literal (`= ANY(:ids)`) on PostgreSQL. Each statement's text is the
same whatever the batch's size (psycopg prepares it once, sqlite3 reuses it), and a thousand rows cost
one bound parameter, not one per value: executemany would have SQLAlchemy process every value of every
row in Python, and psycopg dumps a list parameter element by element in Python too. Statements run
compiled once per dialect (`core.prepared`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Iterable, NamedTuple, Sequence

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
    exists,
    func,
    insert,
    literal,
    literal_column,
    null,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from chat.notify import queue
from chat.tables import (
    blocks_t,
    counters_t,
    groups_t,
    inbox_t,
    listings_t,
    members_t,
    messages_t,
    notifications_t,
    users_t,
)
from core import jsontext, prepared

g, m, msg, b = groups_t.c, members_t.c, messages_t.c, blocks_t.c

#: a new message's row: (group_id, seq, sender_id, type, body, ext, client_id, reply_to_id, reply_to, mentions)
MessageRow = tuple[int, int, int | None, str, dict, Any, str | None, int | None, dict | None, Any]


def _message_rows(rows: Sequence[MessageRow], *, sql_null: bool = False) -> str:
    """The messages as `insert_messages` takes them: one JSON text of rows, each JSON column's value as its own
    JSON text inside (stored as that text). A reply snapshot or mentions list that is not there is JSON null,
    as SQLAlchemy's JSON type binds None, or with `sql_null` SQL NULL (what PostgreSQL's rows have held)."""
    dumps = jsontext.dumps

    def absent_or_dumped(value: Any) -> str | None:
        return None if sql_null and value is None else dumps(value)

    return dumps([(gid, seq, sid, type, dumps(body), dumps(ext), cid, rid, absent_or_dumped(quote),
                   absent_or_dumped(mentions)) for gid, seq, sid, type, body, ext, cid, rid, quote, mentions in rows])


def _json_rows(name: str, *types: Any) -> tuple[Any, list[Any]]:
    """`json_each(:name)` over one JSON array parameter of rows, and each row's values by position (one per
    type in `types`, unused here: json_extract gives a value its JSON type; PostgreSQL's: `_pg_json_rows`). A
    string comes back exactly as it went in (json_extract would cut one at a NUL character, which no input
    carries: core/input.py refuses them)."""
    rows = func.json_each(bindparam(name)).table_valued("value").alias(name)
    # paths as literals, not bound parameters: fewer values to process on every execution
    return rows, [func.json_extract(rows.c.value, literal_column(f"'$[{i}]'")) for i in range(len(types))]


def _pg_json_rows(name: str, *types: Any) -> tuple[Any, list[Any]]:
    """PostgreSQL's `_json_rows`: `jsonb_array_elements(:name)` over the same JSON array parameter of rows, each
    row's values by position, cast to `types` (`->>` gives a value's text, and SQL NULL for JSON null)."""
    rows = (func.jsonb_array_elements(cast(bindparam(name, type_=Text), postgresql.JSONB))
            .table_valued("value").alias(name))
    return rows, [cast(rows.c.value.op("->>")(literal_column(str(i))), type_) for i, type_ in enumerate(types)]


RowsOf = Callable[..., tuple[Any, list[Any]]]


class _WriteStatements:
    """The batch's statements over JSON rows, built once per backend from its rows reader (`_json_rows`,
    `_pg_json_rows`), its INSERT (for the counters' upsert) and its two-value maximum."""

    def __init__(self, rows_of: RowsOf, dialect_insert: Callable[[Any], Any], greatest: Callable[..., Any]) -> None:
        Id = BigInteger
        # Rows come back in any order: matched by (group, seq). JSON columns come as their JSON text.
        new = rows_of("messages", Id, Integer, Id, String, msg.body.type, msg.ext.type, String, Id, msg.reply_to.type,
                      msg.mentions.type)[1]
        self.insert_messages = insert(messages_t).from_select(
            ["group_id", "seq", "sender_id", "type", "body", "ext", "client_id", "created_at", "reply_to_id",
             "reply_to", "mentions"],
            select(*new[:7], bindparam("at", type_=msg.created_at.type), *new[7:])
        ).returning(msg.id, msg.group_id, msg.seq)
        inbox = rows_of("inbox", Id, Id, Id, Id)[1]
        self.insert_inbox_rows = insert(inbox_t).from_select(["user_id", "pos", "message_id", "group_id"],
                                                             select(*inbox))
        counts = rows_of("counts", Id, Id)[1]
        # `WHERE true`: SQLite's grammar needs a WHERE before an upsert's ON CONFLICT after INSERT … SELECT
        # a new counter's unread_total is the column's server default (no per-call Python default: core.prepared)
        counters = dialect_insert(counters_t).from_select(["user_id", "last_pos"],
                                                          select(*counts).where(true()), include_defaults=False)
        self.advance = (counters.on_conflict_do_update(index_elements=[counters_t.c.user_id], set_={
            "last_pos": counters_t.c.last_pos + counters.excluded.last_pos})
            .returning(counters_t.c.user_id, counters_t.c.last_pos))
        newest = rows_of("newest", Id, Integer, Id)[1]
        self.move_group = update(groups_t).where(g.id == newest[0]).values(
            last_seq=newest[1], last_message_id=newest[2],
            last_message_at=bindparam("at", type_=g.last_message_at.type))
        #: the members of `_marks`: activity times (item and direct groups) and the senders' read markers
        mark = rows_of("marks", Id, Id, Integer, Integer)[1]
        self.move_members = update(members_t).where(m.group_id == mark[0], m.user_id == mark[1]).values(
            activity_at=case((mark[3] != 0, bindparam("at", type_=m.activity_at.type)), else_=m.activity_at),
            last_read_seq=greatest(m.last_read_seq, mark[2]))
        # Pairs are joined from the rows: one index probe per pair (SQLite's plan for `(a, b) IN (VALUES …)`
        # scans the whole table; two `= ANY` lists would probe their product).
        pairs, (first, second) = rows_of("pairs", Id, String)
        self.sent_pairs = select(msg.sender_id, msg.client_id).select_from(pairs).join(
            messages_t, and_(msg.sender_id == first, msg.client_id == second))
        # Unread totals: (user, delta) rows
        delta = rows_of("deltas", Id, Id)[1]
        self.add_unread = (update(counters_t).where(counters_t.c.user_id == delta[0])
                           .values(unread_total=counters_t.c.unread_total + delta[1],
                                   unread_version=counters_t.c.unread_version + 1)
                           .returning(counters_t.c.user_id, counters_t.c.unread_total, counters_t.c.unread_version))


_SQLITE_WRITES = _WriteStatements(_json_rows, sqlite.insert, func.max)
_PG_WRITES = _WriteStatements(_pg_json_rows, postgresql.insert, func.greatest)


def _parties_blocked(key_part: Callable[[int], Any]) -> Any:
    """Whether the two parties of an item or direct group blocked each other (false for rooms and user groups),
    given how a backend reads part 1 or 2 of a direct group's key `low:high` as a user id."""
    first = case((g.kind == "item", g.buyer_id), (g.kind == "direct", key_part(1)))
    second = case((g.kind == "item", g.seller_id), (g.kind == "direct", key_part(2)))
    return exists().where(or_(and_(b.blocker_id == first, b.blocked_id == second),
                              and_(b.blocker_id == second, b.blocked_id == first)))


def _reads(ids_in, key_part: Callable[[int], Any]) -> dict[str, Any]:
    """The batch's reads by id lists, given how a backend tests `column` against a list parameter `name`
    (and reads a part of a direct group's key)."""
    return {
        # the groups' rows, locked in ascending id (the order every unit of work takes group locks in), and
        # whether their parties blocked each other (blocks take no group lock: read with the rows is as good)
        "lock_groups": (
            select(g.id, g.kind, g.read_only, g.last_seq, g.buyer_id, g.seller_id, g.direct_key,
                   g.listing_final_at, listings_t.c.status.label("listing_status"),
                   _parties_blocked(key_part).label("parties_blocked"))
            .select_from(groups_t.outerjoin(listings_t, listings_t.c.id == g.listing_id))
            .where(ids_in(g.id, "ids")).order_by(g.id).with_for_update(of=groups_t)),
        "senders": select(users_t.c.id, users_t.c.nickname, users_t.c.avatar_url, users_t.c.banned_at,
                          users_t.c.banned_until).where(ids_in(users_t.c.id, "ids")),
        # the groups' members, each sender's user row beside their member rows (`id` None on the others' rows)
        "members_and_senders": select(m.group_id, m.user_id, m.role, m.muted_until, m.last_read_seq,
                                      m.hidden_until_seq, m.muted, users_t.c.id, users_t.c.nickname,
                                      users_t.c.avatar_url, users_t.c.banned_at, users_t.c.banned_until)
                               .select_from(members_t.outerjoin(users_t, and_(users_t.c.id == m.user_id,
                                                                              ids_in(users_t.c.id, "senders"))))
                               .where(ids_in(m.group_id, "ids")).order_by(m.group_id, m.user_id),
        # the members' read markers, read after their inbox counters are locked (chat/inbox/unread.py)
        "markers_of": select(m.group_id, m.user_id, m.last_read_seq, m.hidden_until_seq, m.muted)
                      .where(ids_in(m.group_id, "ids")),
    }


class Badge(NamedTuple):
    """A user's unread total as stored (it may dip below 0 for a moment: `unread.shown`) and its version, one
    more with every change."""

    total: int
    version: int


def _badges(rows: Iterable[Any]) -> dict[int, Badge]:
    """user → Badge from (user_id, unread_total, unread_version) rows."""
    return {uid: Badge(total, version) for uid, total, version in rows}


@dataclass
class Writes:
    """What a batch writes once its messages are in and its members' inbox positions taken (`BatchSql.finish`)."""

    at: datetime
    inbox: list[tuple[int, int, int, int]]  # (user_id, pos, message_id, group_id)
    newest: dict[int, tuple[int, int]]  # group → (seq, id) of its newest message
    touched: dict[int, list[int]]  # item or direct group → its members (their activity time moves)
    read_to: dict[tuple[int, int], int]  # (group, sender) → the sender's newest seq there (their read marker)
    unread: dict[int, int]  # user → unread delta (chat/inbox/unread.py)
    notify: list[dict[str, Any]] = field(default_factory=list)  # notification queue rows (chat/notify/queue.py)


# UPDATE parameters may not share a column's name: `gid`, `sid` (sender), `new_seq`, `mid`, `at`, `ro`.
_SET_READ_ONLY = update(groups_t).where(g.id == bindparam("gid")).values(read_only=bindparam("ro"))


class BatchSql:
    """The steps of `chat.messages.batch.append`, as SQLite runs them (and the interface every backend has)."""

    # An id list is one JSON array parameter too: the statement's text stays the same whatever the list
    # (sqlite3 reuses its prepared statement; an expanding IN is rewritten by SQLAlchemy on every call).
    reads = _reads(lambda col, name: col.in_(select(_json_rows(name)[0].c.value)),
                   lambda part: cast(func.substr(g.direct_key, 1, func.instr(g.direct_key, ":") - 1) if part == 1
                                     else func.substr(g.direct_key, func.instr(g.direct_key, ":") + 1), BigInteger))
    writes = _SQLITE_WRITES
    insert_inbox = insert(inbox_t)  # executemany: a few change rows (`add_changes`)

    def id_list(self, ids: Iterable[int]) -> Any:
        """An id list as the `reads` take it: ascending, each once."""
        return jsontext.dumps(sorted(set(ids)))

    def read(self, conn: Connection, name: str, ids: Iterable[int]) -> list[Any]:
        """Rows of one of `reads` for these ids."""
        return prepared.execute(conn, self.reads[name], {"ids": self.id_list(ids)})

    def lock_with_members(self, conn: Connection, group_ids: Iterable[int],
                          sender_ids: Iterable[int]) -> tuple[list[Any], list[Any]]:
        """The groups' rows, locked (`reads["lock_groups"]`), then their member rows read under those locks,
        each sender's with their user row (`reads["members_and_senders"]`); one round trip on PostgreSQL."""
        ids = self.id_list(group_ids)
        groups, members = prepared.execute_in_turn(conn, [
            (self.reads["lock_groups"], {"ids": ids}),
            (self.reads["members_and_senders"], {"ids": ids, "senders": self.id_list(sender_ids)})])
        return groups, members

    def sent_before(self, conn: Connection, pairs: Iterable[tuple[int, str]]) -> set[tuple[int, str]]:
        """Which of these (sender_id, client_id) pairs name a stored message."""
        return set(prepared.execute(conn, self.writes.sent_pairs, {"pairs": jsontext.dumps(sorted(set(pairs)))}))

    def add_unread(self, conn: Connection, deltas: dict[int, int]) -> dict[int, Badge]:
        """Add each user's delta to their unread total (their counter rows locked); user → new badge."""
        rows = jsontext.dumps(sorted(deltas.items()))
        return _badges(prepared.execute(conn, self.writes.add_unread, {"deltas": rows}))

    def add_messages(self, conn: Connection, rows: Sequence[MessageRow], at: datetime,
                     counts: dict[int, int]) -> tuple[list[int], dict[int, int], list[Any] | None]:
        """Insert the messages and move each member's inbox counter by their count (`advance_counters`):
        the messages' ids in the rows' order, user → new last position, and the groups' read markers as they
        are once the counters are locked, where those read with the group locks may be stale (None: they are
        not). On SQLite they are not: a transaction that writes sees no other writer's change after its first
        read (one writer at a time; a stale one fails to write)."""
        added = prepared.execute(conn, self.writes.insert_messages, {"at": at, "messages": _message_rows(rows)})
        ids = {(gid, seq): mid for mid, gid, seq in added}
        positions = self.advance_counters(conn, counts) if counts else {}
        return [ids[(gid, seq)] for gid, seq, *_ in rows], positions, None

    def advance_counters(self, conn: Connection, counts: dict[int, int]) -> dict[int, int]:
        """Move each user's inbox counter by their count, in ascending user id; user → new last position."""
        return dict(prepared.execute(conn, self.writes.advance, {"counts": jsontext.dumps(sorted(counts.items()))}))

    def add_inbox(self, conn: Connection, rows: Sequence[tuple[int, int, int, int]]) -> None:
        """Inbox rows (user_id, pos, message_id, group_id)."""
        prepared.execute(conn, self.writes.insert_inbox_rows, {"inbox": jsontext.dumps(rows)})

    def finish(self, conn: Connection, w: Writes, *, commit: bool = False) -> dict[int, Badge]:
        """The batch's inbox rows, its groups' newest messages, the members' unread totals (their counter rows
        locked), notifications and activity times and the senders' read markers; user → new badge.
        `commit=True`: these are the unit of work's last writes (PostgreSQL commits in the same round trip)."""
        if w.inbox:
            self.add_inbox(conn, w.inbox)
        self.move_groups(conn, w.newest, w.at)
        totals = self.add_unread(conn, w.unread) if w.unread else {}
        queue.enqueue(conn, w.notify)
        self.move_members(conn, w.touched, w.read_to, w.at)
        return totals

    def move_groups(self, conn: Connection, last: dict[int, tuple[int, int]], at: datetime) -> None:
        """Each group's newest message: group → (seq, message id)."""
        prepared.execute(conn, self.writes.move_group, {"at": at, "newest": jsontext.dumps(
            [(gid, seq, mid) for gid, (seq, mid) in sorted(last.items())])})

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
        marks = _marks(inbox_members, read_to)
        if marks:
            prepared.execute(conn, self.writes.move_members, {"at": at, "marks": jsontext.dumps(marks)})


def _pg_any(col, name: str) -> ColumnElement[bool]:
    """`col = ANY(:name)`, the list an array literal (`PostgresBatchSql.id_list`): the index is probed per id."""
    return col == any_(cast(bindparam(name, type_=Text), postgresql.ARRAY(BigInteger)))


def _marks(inbox_members: dict[int, list[int]], read_to: dict[tuple[int, int], int]) -> list[tuple]:
    """The members to touch, one row each (group, user, seq, touch): `touch` 1 moves the activity time (item and
    direct groups, every member), `seq` the read marker (each sender; 0 leaves it)."""
    rows = [(gid, uid, read_to.get((gid, uid), 0), 1) for gid in sorted(inbox_members)
            for uid in inbox_members[gid]]
    rows += [(gid, sid, seq, 0) for (gid, sid), seq in sorted(read_to.items()) if gid not in inbox_members]
    return rows


def _finish_statement(w: _WriteStatements) -> Any:
    """PostgresBatchSql.finish's statement: add_inbox, move_groups, move_members and the notification upsert
    as data-modifying CTEs beside add_unread, whose totals it returns. The writes touch different rows of
    different tables, so the order PostgreSQL runs them in does not matter."""
    _, notify_cols = _pg_json_rows("notify", BigInteger, BigInteger, BigInteger, Integer)
    nc = notifications_t.c
    notified = queue.upsert(postgresql.insert(notifications_t).from_select(
        ["user_id", "group_id", "message_id", "pending_count", "due_at", "attempts", "sent_count", "updated_at"],
        select(*notify_cols, bindparam("notify_due", type_=nc.due_at.type), literal(0), literal(0),
               bindparam("notify_updated", type_=nc.updated_at.type)))).cte("notified")
    unread = w.add_unread.cte("unread")
    return select(unread.c.user_id, unread.c.unread_total, unread.c.unread_version).add_cte(
        w.insert_inbox_rows.cte("new_inbox"), w.move_group.cte("moved_groups"), w.move_members.cte("moved_members"),
        notified)


class PostgresBatchSql(BatchSql):
    """The same steps on PostgreSQL, their rows in the same JSON parameters (`jsonb_array_elements`), id lists
    as array literals; the messages with the counters, and `finish`, one statement each (one round trip).

    JSON, not one array parameter per column: psycopg dumps a list in Python, element by element (11 µs for
    18 ids, a third of a batch's own CPU in thirty-odd arrays), where a JSON text is one string made in C."""

    reads = _reads(_pg_any, lambda part: cast(func.split_part(g.direct_key, ":", part), BigInteger))
    writes = _PG_WRITES
    # The messages and the counters in one statement (one round trip): a counter's row has no seq.
    _added, _advanced = writes.insert_messages.cte("new_messages"), writes.advance.cte("advanced")
    add_sql = select(_added.c.id, _added.c.group_id, _added.c.seq).union_all(
        select(_advanced.c.user_id, _advanced.c.last_pos, cast(null(), Integer)))
    #: `finish` in one statement (one round trip): each write a CTE over its own rows, the unread totals returned
    finish_sql = _finish_statement(writes)

    def id_list(self, ids: Iterable[int]) -> Any:
        return "{" + ",".join(map(str, sorted(set(ids)))) + "}"

    def add_messages(self, conn: Connection, rows: Sequence[MessageRow], at: datetime,
                     counts: dict[int, int]) -> tuple[list[int], dict[int, int], list[Any] | None]:
        new = _message_rows(rows, sql_null=True)
        ids: dict[tuple[int, int], int] = {}
        positions: dict[int, int] = {}
        # Read committed: a marker moved by a unit of work that held a member's counter lock until just now is
        # seen only by a statement that starts after the lock is ours: the markers are read again, in turn.
        # Counter rows are locked in ascending user id, in every unit of work.
        added, markers = prepared.execute_in_turn(conn, [
            (self.add_sql, {"messages": new, "at": at, "counts": jsontext.dumps(sorted(counts.items()))}),
            (self.reads["markers_of"], {"ids": self.id_list(gid for gid, *_ in rows)})])
        for first, second, seq in added:
            if seq is None:
                positions[first] = second  # a counter: user id, new last position
            else:
                ids[(second, seq)] = first  # a message: id, group id, seq
        return [ids[(gid, seq)] for gid, seq, *_ in rows], positions, markers

    def finish(self, conn: Connection, w: Writes, *, commit: bool = False) -> dict[int, Badge]:
        dumps = jsontext.dumps
        [totals] = prepared.execute_in_turn(conn, [(self.finish_sql, {
            "at": w.at, "inbox": dumps(w.inbox),
            "newest": dumps([(gid, seq, mid) for gid, (seq, mid) in sorted(w.newest.items())]),
            "marks": dumps(_marks(w.touched, w.read_to)), "deltas": dumps(sorted(w.unread.items())),
            "notify": dumps([(r["user_id"], r["group_id"], r["message_id"], r["pending_count"]) for r in w.notify]),
            # every row of one batch is due and updated at the same times
            "notify_due": w.notify[0]["due_at"] if w.notify else None,
            "notify_updated": w.notify[0]["updated_at"] if w.notify else None})], commit=commit)
        return _badges(totals)


_BY_DIALECT = {"postgresql": PostgresBatchSql(), "sqlite": BatchSql()}


def for_connection(conn: Connection) -> BatchSql:
    """The batch statements for this connection's backend."""
    return _BY_DIALECT[conn.dialect.name]
