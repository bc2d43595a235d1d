"""Cursors, the per-user inbox and sync batches (called directly, as the WebSocket layer will)."""
from __future__ import annotations

import base64

import pytest
from sqlalchemy import select, update

from chat.cursors import decode_cursor, encode_cursor
from chat.messages.send import send_message
from chat.models import InboxEntry
from chat.sync import sync_batch, user_cursor
from core.db import db, utcnow
from core.errors import ApiError, ValidationError
from marketplace.models import User


@pytest.mark.parametrize("pos", [0, 1, 42, 10**15])
def test_cursor_round_trips_and_is_opaque(pos):
    cursor = encode_cursor(pos)
    assert decode_cursor(cursor) == pos
    assert str(pos) not in cursor and "=" not in cursor


@pytest.mark.parametrize("bad", ["", "abc", "!!!!", encode_cursor(5) + "A", "djI6NQ",
                                 base64.urlsafe_b64encode(b"v1:-1").decode(),
                                 base64.urlsafe_b64encode(b"v1:05").decode(), "x" * 100, 17])
def test_invalid_cursors_are_400_invalid_cursor(bad):
    with pytest.raises(ValidationError) as err:
        decode_cursor(bad)
    assert err.value.status == 400 and err.value.code == "invalid_cursor"


def test_null_cursor_means_from_the_beginning():
    assert decode_cursor(None) == 0


def test_sync_returns_exactly_the_missed_messages_in_order(ctx, factory, chat):
    buyer, seller, friend = factory.user(), factory.user(), factory.user()
    item, direct = chat.item_group(buyer, seller), chat.direct(buyer, friend)
    me = chat.user(buyer)
    chat.send(seller, item, "一")
    chat.send(buyer, item, "二")  # the sender's own messages are in their inbox too
    seen = user_cursor(buyer.id)
    assert seen == 2
    chat.send(friend, direct, "三")
    chat.send(seller, item, "四")
    chat.send(buyer, direct, "五")
    items, more = sync_batch(user=me, after_pos=seen, limit=100)
    assert more is False
    assert [i.pos for i in items] == [3, 4, 5]
    assert [i.message["body"]["text"] for i in items] == ["三", "四", "五"]
    assert [i.message["group_id"] for i in items] == [direct, item, direct]
    assert user_cursor(buyer.id) == 5
    assert sync_batch(user=me, after_pos=5, limit=100) == ([], False)
    # Each user has their own positions: the seller saw 3 messages of the item group only.
    seller_items, _ = sync_batch(user=chat.user(seller), after_pos=0)
    assert [i.message["body"]["text"] for i in seller_items] == ["一", "二", "四"]


def test_sync_comes_in_batches_with_more(ctx, factory, chat):
    buyer, seller = factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    for i in range(7):
        chat.send(seller, group_id, f"#{i}")
    me, after, seen = chat.user(buyer), 0, []
    batches = []
    while True:
        items, more = sync_batch(user=me, after_pos=after, limit=3)
        batches.append((len(items), more))
        seen += [i.message["seq"] for i in items]
        if not more:
            break
        after = items[-1].pos
    assert batches == [(3, True), (3, True), (1, False)]
    assert seen == list(range(1, 8))
    with pytest.raises(ValidationError):
        sync_batch(user=me, after_pos=0, limit=0)


def test_sync_shows_recalled_messages_emptied(ctx, factory, chat, client):
    buyer, seller = factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    message = chat.send(seller, group_id, "撤回我")
    client.post(f"/api/v1/groups/{group_id}/messages/{message['id']}/recall", headers=seller.headers)
    (item,), _ = sync_batch(user=chat.user(buyer), after_pos=0)
    assert item.message["recalled"] is True and item.message["body"] == {}


def test_room_messages_get_no_inbox_entries(ctx, factory, chat, client):
    owner, member = factory.user(), factory.user()
    room = chat.room(owner)
    client.post(f"/api/v1/rooms/{room}/join", headers=member.headers)
    result = send_message(sender=chat.user(owner), group_id=room, client_id="r1", type="txt",
                          body={"text": "大家好"})
    assert result.created and result.cursors == {} and result.group_kind == "room"
    assert sorted(result.recipients) == sorted([owner.id, member.id])
    assert db.session.scalar(select(InboxEntry).where(InboxEntry.group_id == room)) is None
    assert user_cursor(member.id) == 0 and sync_batch(user=chat.user(member), after_pos=0) == ([], False)


def test_send_result_carries_each_members_position(ctx, factory, chat):
    buyer, seller, friend = factory.user(), factory.user(), factory.user()
    item, direct = chat.item_group(buyer, seller), chat.direct(buyer, friend)
    chat.send(friend, direct, "先来一条")
    result = send_message(sender=chat.user(buyer), group_id=item, client_id="k", type="txt", body={"text": "x"})
    assert result.created and result.cursors == {buyer.id: 2, seller.id: 1}
    assert sorted(result.recipients) == sorted([buyer.id, seller.id])
    replay = send_message(sender=chat.user(buyer), group_id=item, client_id="k", type="txt", body={"text": "y"})
    assert replay.created is False and replay.message == result.message
    assert replay.cursors == {buyer.id: 2} and replay.recipients == []


def test_banned_sender_is_refused_even_with_a_user_loaded_before_the_ban(ctx, factory, chat):
    buyer, seller = factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    loaded_at_connect = chat.user(buyer)  # what a long-lived WebSocket holds
    with db.transaction() as s:  # a Core update: the loaded object is not refreshed
        s.execute(update(User.__table__).where(User.id == buyer.id).values(banned_at=utcnow()))
    assert loaded_at_connect.banned_at is None
    with pytest.raises(ApiError) as err:
        send_message(sender=loaded_at_connect, group_id=group_id, client_id="b", type="txt",
                     body={"text": "x"})
    assert (err.value.status, err.value.code) == (403, "banned")
    assert user_cursor(seller.id) == 0
