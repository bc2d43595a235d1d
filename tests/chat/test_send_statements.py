"""A batch of sends costs a fixed number of SQL statements whatever its size (no statement per message or
member), and on PostgreSQL each step after the locks is one statement (`chat/messages/batch_sql.py`), the batch
three round trips with its BEGIN and COMMIT (`core/prepared.py`)."""
from __future__ import annotations

import pytest

from chat.messages.batch import SendRequest, send_many
from core.db import db
from tests.chat.test_conversations_statements import counted
from tests.support.databases import pg_round_trips


def sends(pairs: list[tuple], n: int) -> list[SendRequest]:
    """n sends taking turns over (sender, group) pairs, each a new client_id."""
    return [SendRequest(sender_id=sender.id, group_id=group_id, client_id=f"{tag}-{i}", type="txt",
                        body={"text": f"第 {i} 条"}) for i, (sender, group_id, tag) in
            ((i, pairs[i % len(pairs)]) for i in range(n))]


def test_a_batch_costs_the_same_statements_whatever_its_size(client, factory, chat):
    seller, b1, b2 = factory.user(), factory.user(), factory.user()
    g1, g2 = chat.item_group(b1, seller), chat.item_group(b2, seller)
    pairs = [(b1, g1, "a"), (seller, g1, "b"), (b2, g2, "c"), (seller, g2, "d")]
    chat.send(b1, g1, "先来一条")  # what is read once per process (keyword rules) is read by now
    counts = {}
    for n in (1, 4, 40):
        pairs = [(s, g, f"{tag}{n}") for s, g, tag in pairs]
        with client.application.app_context(), counted(client.application) as statements:
            outcomes = send_many(sends(pairs, n))
            db.remove()
        assert all(o.created for o in outcomes)
        counts[n] = [s.split()[0] for s in statements]
    with client.application.app_context():
        backend = db.engine.dialect.name
    # the group lock, members with senders (and their read markers on SQLite), messages and counters, the read
    # markers again on PostgreSQL (after the counter locks), the last writes (inbox
    # rows, groups, unread totals, notifications, members): one statement each on PostgreSQL, one per table
    # on SQLite; fewer where there is nothing to write. BEGIN and COMMIT go to the driver, uncounted.
    expected = 5 if backend == "postgresql" else 9
    assert len(counts[4]) == expected, counts[4]
    assert len(counts[1]) <= expected and len(counts[40]) <= expected, counts


def test_on_postgresql_a_batch_is_three_round_trips(client, factory, chat):
    """BEGIN with the group locks and member reads, the messages and counters with the markers read again,
    the last writes with COMMIT (core.prepared): psycopg alone would add a round trip for each of BEGIN and
    COMMIT."""
    with client.application.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("SQLite has no round trips: the database is in the process")
    seller, b1, b2 = factory.user(), factory.user(), factory.user()
    g1, g2 = chat.item_group(b1, seller), chat.item_group(b2, seller)
    chat.send(b1, g1, "先来一条")
    with client.application.app_context():
        send_many(sends([(b1, g1, "w"), (seller, g2, "w")], 2))  # the pool's connection used a moment ago: no ping
        with pg_round_trips(db.engine) as trips:
            outcomes = send_many(sends([(b1, g1, "a"), (seller, g1, "b"), (b2, g2, "c"), (seller, g2, "d")], 8))
        db.remove()
    assert all(o.created for o in outcomes)
    assert len(trips) == 3, "\n".join(trips.messages)
    with client.application.app_context():
        assert [m["seq"] for m in chat.history(seller, g1)["items"]] == [1, 2, 3, 4, 5, 6]
