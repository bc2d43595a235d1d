"""Over Redis, a sender's copy of their own message is published only for their sockets in other processes: the
socket it came from has it as its ack, and the process's other sockets get what they need from its own hub,
without Redis. Two apps on one database and one Redis stand for two processes; a pattern subscription sees
every publish without counting among a channel's subscribers."""
from __future__ import annotations

import json

import pytest
import redis

from chat.broker.redis import ENVELOPE
from chat.cursors import decode_cursor
from tests.support.wsclient import WsClient, serve, tuned_app, wait_until


@pytest.fixture
def processes(clean_app, redis_url):
    with tuned_app(clean_app, REDIS_URL=redis_url) as app_a, tuned_app(clean_app, REDIS_URL=redis_url) as app_b, \
            serve(app_a) as a, serve(app_b) as b:
        yield a, b


@pytest.fixture
def published(redis_url):
    """Client ids of the messages published on each user channel, in Redis's order."""
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    seen: list[tuple[str, str]] = []
    pubsub.psubscribe(**{"user:*": lambda m: seen.append((m["channel"], m["data"]))})
    worker = pubsub.run_in_thread(sleep_time=0.01, daemon=True)

    def client_ids(user_id: int) -> list[str]:
        out = []
        for channel, payload in seen:
            if payload.startswith(ENVELOPE):  # published for other processes only: its origin, then the text
                payload = payload.partition("\n")[2]
            if channel == f"user:{user_id}":
                parts = json.loads(payload[1:]) if payload.startswith("m") else [payload]
                out += [json.loads(p.partition("\n")[2])["client_id"] for p in parts if p.startswith("p")]
        return out

    yield client_ids
    worker.stop()
    worker.join(2)
    pubsub.close()
    client.close()


def numsub(redis_url: str, channel: str) -> int:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        return dict(client.pubsub_numsub(channel))[channel]
    finally:
        client.close()


def test_the_senders_copy_goes_only_to_their_devices_in_other_processes(processes, chat, factory, published,
                                                                        redis_url):
    a, b = processes
    seller, buyer = factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    sockets = []

    def connect(server, user) -> WsClient:
        sockets.append(WsClient(server.ws_url, factory.login(user.username).token, timeout=10))
        sockets[-1].ready()
        return sockets[-1]

    try:
        sending, seller_ws = connect(a, buyer), connect(b, seller)
        # the buyer's only socket is on A: its ack answers it, nothing is published for the buyer
        sending.send_text(group_id, "还在吗", "own-1")
        assert decode_cursor(sending.op("ack")["cursor"]) == 1
        assert seller_ws.op("message")["message"]["client_id"] == "own-1"
        assert wait_until(lambda: published(seller.id) == ["own-1"])

        # a second device on B: it gets the copy, published once for it
        phone = connect(b, buyer)
        sending.send_text(group_id, "在的话回我", "own-2")
        ack = sending.op("ack")
        assert phone.op("message")["message"] == ack["message"] == seller_ws.op("message")["message"]
        assert sending.flush() == [], "the sending socket got the message as well as its ack"

        # a second device on A, none on B: the hub here delivers it, nothing is published
        phone.close()
        assert wait_until(lambda: numsub(redis_url, f"user:{buyer.id}") == 1)
        tablet = connect(a, buyer)
        sending.send_text(group_id, "便宜点吧", "own-3")
        ack = sending.op("ack")
        assert tablet.op("message")["message"] == ack["message"] == seller_ws.op("message")["message"]

        # alone again: not published
        tablet.close()
        assert wait_until(lambda: len(a.app.extensions["chat_hub"].connections(buyer.id)) == 1)
        sending.send_text(group_id, "好吧", "own-4")
        assert decode_cursor(sending.op("ack")["cursor"]) == 4
        assert seller_ws.op("message")["message"]["client_id"] == "own-4"
        assert wait_until(lambda: published(seller.id) == ["own-1", "own-2", "own-3", "own-4"])
        assert published(buyer.id) == ["own-2"]
        assert sending.flush() == []
    finally:
        for ws in sockets:
            ws.close()


def test_what_else_a_commit_sends_the_sender_goes_with_their_copy(processes, chat, factory, published):
    """A reply moves the sender's own unread total: that event is for every socket of theirs, the one the
    message came from included, so their channel's payload (the copy with it) goes to them all: here by the
    process's hub, over Redis only where another process listens."""
    a, b = processes
    seller, buyer = factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    sending = WsClient(a.ws_url, factory.login(buyer.username).token, timeout=10)
    seller_ws = WsClient(b.ws_url, factory.login(seller.username).token, timeout=10)
    try:
        sending.ready()
        seller_ws.ready()
        seller_ws.send_text(group_id, "在的,诚心要吗", "seller-1")
        seller_ws.op("ack")
        assert sending.recv_until(lambda f: f.get("type") == "unread")["data"] == {"unread_total": 1, "unread_version": 1}

        sending.send_text(group_id, "要的", "reply-1")  # reading up to the reply: the buyer's unread total is 0
        assert sending.op("ack")["message"]["client_id"] == "reply-1"
        assert sending.recv_until(lambda f: f.get("type") == "unread")["data"] == {"unread_total": 0, "unread_version": 2}
        assert "reply-1" not in published(buyer.id)  # no other process listens: the hub here delivered it

        phone = WsClient(b.ws_url, factory.login(buyer.username).token, timeout=10)  # a device in the other process
        try:
            phone.ready()
            sending.send_text(group_id, "明天下午方便吗", "reply-2")
            assert sending.op("ack")["message"]["client_id"] == "reply-2"
            assert phone.op("message")["message"]["client_id"] == "reply-2"
            assert wait_until(lambda: published(buyer.id) == ["seller-1", "reply-2"])
        finally:
            phone.close()
    finally:
        sending.close()
        seller_ws.close()
