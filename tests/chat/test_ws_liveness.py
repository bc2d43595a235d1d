"""/ws liveness over real sockets: the heartbeat keeps answering clients and drops silent ones, slow
consumers are cut off instead of buffered."""
from __future__ import annotations

import socket
import time

import pytest

from tests.chat.helpers import ChatHelper
from tests.support.wsclient import (
    Closed,
    RawClient,
    WsClient,
    serve,
    tuned_app,
    wait_until,
)

BIG_TEXT = "二手好物,价格可议。" * 199  # 1990 characters, about 6 KB of UTF-8
SMALL_RCVBUF = ((socket.SOL_SOCKET, socket.SO_RCVBUF, 4096),)  # the kernel's window stays tiny



def _online(server, user_id: int) -> bool:
    return server.app.extensions["chat_hub"].is_online(user_id)


@pytest.fixture
def beat(clean_app):
    """A server with a 0.3 s heartbeat."""
    with tuned_app(clean_app, WS_HEARTBEAT_S=0.3) as app, serve(app) as server:
        yield server


def test_a_client_that_answers_pings_stays_across_many_heartbeats(beat, factory):
    user = factory.user()
    ws = WsClient(beat.ws_url, user.token)
    try:
        assert ws.ready()["heartbeat_s"] == 0.3
        assert ws.frames_for(1.3) == []  # four heartbeats, answered by websocket-client's pongs
        ws.send({"op": "ping"})
        assert ws.op("pong")
        assert _online(beat, user.id)
    finally:
        ws.close()


def test_a_client_that_stops_answering_is_closed(beat, factory):
    user = factory.user()
    raw = RawClient(beat.url, user.token)  # handshake done, then it never reads nor pongs
    try:
        assert wait_until(lambda: _online(beat, user.id), timeout=2)
        started = time.monotonic()
        assert wait_until(lambda: not _online(beat, user.id), timeout=5)
        # within a few heartbeats (0.3 s each; the bound leaves room for a loaded machine, far below any socket
        # or TCP timeout that could close it otherwise)
        assert time.monotonic() - started < 3
        raw.read_to_eof(timeout=3)  # and the TCP connection is gone
    finally:
        raw.close()


def _big_sends(sender: WsClient, group_id: int, count: int, *readers: WsClient) -> list[dict]:
    """Send `count` big messages one by one; each reader (a healthy client) reads every one as it comes."""
    acks = []
    for i in range(count):
        sender.send_text(group_id, BIG_TEXT, f"big-{i}")
        acks.append(sender.op("ack"))
        for reader in readers:
            assert reader.op("message")["message"]["id"] == acks[-1]["message"]["id"]
    return acks


@pytest.fixture
def small_queue(clean_app):
    """A server whose sockets queue at most 8 frames over a 32 KB send buffer (the heartbeat stays long:
    only the queue acts)."""
    with tuned_app(clean_app, WS_QUEUE_MAX=8, WS_SEND_BUFFER_BYTES=32 * 1024) as app, serve(app) as server:
        yield server


def _slow_consumer_world(server, factory):
    seller, buyer = factory.user(), factory.user()
    helper = ChatHelper(server.app.test_client(), factory)
    group_id = helper.item_group(buyer, seller)
    return seller, buyer, group_id


def test_a_slow_consumer_is_cut_off_and_the_others_are_served(small_queue, factory):
    seller, buyer, group_id = _slow_consumer_world(small_queue, factory)
    phone = factory.login(seller.username)
    slow = WsClient(small_queue.ws_url, seller.token, sockopt=SMALL_RCVBUF)
    healthy = WsClient(small_queue.ws_url, phone.token)
    sender = WsClient(small_queue.ws_url, buyer.token)
    try:
        for ws in (slow, healthy, sender):
            ws.ready()
        assert len(small_queue.app.extensions["chat_hub"].connections(seller.id)) == 2
        _big_sends(sender, group_id, 120, healthy)  # the slow socket reads none of them
        assert wait_until(lambda: len(small_queue.app.extensions["chat_hub"].connections(seller.id)) == 1,
                          timeout=5), "the slow socket is still registered"
        with pytest.raises(Closed):  # what it buffered, then the end
            while True:
                slow.recv(timeout=5)
        healthy.send({"op": "ping"})
        assert healthy.op("pong")
    finally:
        for ws in (slow, healthy, sender):
            ws.close()


@pytest.fixture
def stall_watch(clean_app):
    """A server whose writer may stay blocked in one send for at most 0.5 s (one heartbeat)."""
    with tuned_app(clean_app, WS_HEARTBEAT_S=0.5, WS_SEND_BUFFER_BYTES=32 * 1024) as app, serve(app) as server:
        yield server


def test_a_consumer_whose_buffers_are_full_is_cut_off_even_when_nothing_more_comes(stall_watch, factory):
    seller, buyer, group_id = _slow_consumer_world(stall_watch, factory)
    slow = WsClient(stall_watch.ws_url, seller.token, sockopt=SMALL_RCVBUF)
    sender = WsClient(stall_watch.ws_url, buyer.token)
    try:
        slow.ready()
        sender.ready()
        _big_sends(sender, group_id, 120)  # far fewer frames than the queue holds, but more than TCP buffers
        started = time.monotonic()
        assert wait_until(lambda: not _online(stall_watch, seller.id), timeout=5)
        assert time.monotonic() - started < 3
    finally:
        slow.close()
        sender.close()
