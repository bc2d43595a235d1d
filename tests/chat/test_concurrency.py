"""Concurrent senders: gap-free seq per group, gap-free inbox positions per user, one message per client_id."""
from __future__ import annotations

from collections import Counter, defaultdict

from sqlalchemy import select

from chat.models import ChatGroup, ChatMessage, InboxEntry
from core.db import db
from tests.chat.helpers import API
from tests.support.concurrency import race

THREADS = 8
SENDS_PER_THREAD = 25





def test_concurrent_sends_keep_seq_and_inbox_positions_gap_free(client, factory, chat):
    buyer, seller = factory.user(), factory.user()
    # Two groups with the same two members: every send contends for both inbox counters.
    groups = [chat.item_group(buyer, seller), chat.direct(seller, buyer)]
    app = client.application

    def sender(i: int) -> None:
        own_client = app.test_client()
        actor, group_id = (buyer, seller)[i % 2], groups[(i // 2) % 2]
        for n in range(SENDS_PER_THREAD):
            r = own_client.post(f"{API}/groups/{group_id}/messages", headers=actor.headers,
                                json={"client_id": f"t{i}-{n}", "type": "txt", "body": {"text": f"{i}/{n}"}})
            assert r.status_code == 201, r.get_json()

    race(THREADS, sender)

    total = THREADS * SENDS_PER_THREAD
    with app.app_context():
        messages = db.session.execute(select(ChatMessage.id, ChatMessage.group_id, ChatMessage.seq)).all()
        assert len(messages) == total
        seq_of = {m.id: (m.group_id, m.seq) for m in messages}
        for group_id in groups:
            seqs = sorted(m.seq for m in messages if m.group_id == group_id)
            assert seqs == list(range(1, total // 2 + 1))
            assert db.session.get(ChatGroup, group_id).last_seq == total // 2
        for member in (buyer, seller):
            inbox = db.session.execute(select(InboxEntry.pos, InboxEntry.message_id)
                                       .where(InboxEntry.user_id == member.id).order_by(InboxEntry.pos)).all()
            assert [row.pos for row in inbox] == list(range(1, total + 1))
            assert Counter(row.message_id for row in inbox) == Counter(seq_of.keys())  # each message exactly once
            # Replaying the inbox in position order yields each group's messages in seq order.
            per_group = defaultdict(list)
            for row in inbox:
                group_id, seq = seq_of[row.message_id]
                per_group[group_id].append(seq)
            assert all(seqs == sorted(seqs) for seqs in per_group.values())


def test_concurrent_sends_with_one_client_id_make_one_message(client, factory, chat):
    buyer, seller = factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    app, results = client.application, []

    def same_send(i: int) -> None:
        r = app.test_client().post(f"{API}/groups/{group_id}/messages", headers=buyer.headers,
                                   json={"client_id": "only-once", "type": "txt", "body": {"text": f"try {i}"}})
        results.append((r.status_code, r.get_json()))

    race(THREADS, same_send)
    assert sorted(status for status, _ in results) == [200] * (THREADS - 1) + [201]
    assert len({body["id"] for _, body in results}) == 1
    with app.app_context():
        assert db.session.scalars(select(ChatMessage.seq).where(ChatMessage.group_id == group_id)).all() == [1]
        assert len(db.session.scalars(select(InboxEntry.pos).where(InboxEntry.user_id == seller.id)).all()) == 1


def test_concurrent_inquiries_by_one_buyer_make_one_group(client, factory, chat):
    buyer, seller = factory.user(), factory.user()
    listing_id = chat.listing(seller)
    app, results = client.application, []

    def inquire(_i: int) -> None:
        r = app.test_client().post(f"{API}/listings/{listing_id}/inquiries", headers=buyer.headers)
        results.append((r.status_code, r.get_json()["id"]))

    race(6, inquire)
    assert sorted(status for status, _ in results) == [200] * 5 + [201]
    assert len({group_id for _, group_id in results}) == 1
    with app.app_context():
        assert len(db.session.scalars(select(ChatGroup.id)).all()) == 1


def test_concurrent_direct_requests_from_both_sides_make_one_group(client, factory):
    a, b = factory.user(), factory.user()
    app, results = client.application, []

    def open_direct(i: int) -> None:
        me, peer = (a, b) if i % 2 else (b, a)
        r = app.test_client().post(f"{API}/users/{peer.id}/direct", headers=me.headers)
        results.append((r.status_code, r.get_json()["id"]))

    race(6, open_direct)
    assert sorted(status for status, _ in results) == [200] * 5 + [201]
    assert len({group_id for _, group_id in results}) == 1
