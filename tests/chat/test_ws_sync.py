"""/ws sync over real sockets: from the beginning, from a cursor, in batches (`more: true`), from the
hello cursor of a new device, positions held until the client syncs, and live messages racing a replay."""
from __future__ import annotations

import threading
import time

import pytest

from chat.cursors import decode_cursor
from tests.chat.helpers import ChatHelper
from tests.support.wsclient import WsClient, serve, tuned_app




@pytest.fixture
def pair(chat, factory):
    """A buyer and a seller with an item group and a direct group."""
    seller, buyer = factory.user(), factory.user()
    return seller, buyer, chat.item_group(buyer, seller), chat.direct(buyer, seller)


def _post_many(chat: ChatHelper, actor, groups: list[int], count: int, prefix: str) -> list[dict]:
    return [chat.send(actor, groups[i % len(groups)], f"{prefix}{i} 😀", client_id=f"{prefix}-{i}")
            for i in range(count)]


def _assert_in_order(frames: list[dict], expected: list[dict]) -> None:
    """Exactly the expected messages, once each, in inbox order; every group's seq ascending."""
    assert [f["message"]["id"] for f in frames] == [m["id"] for m in expected]
    positions = [decode_cursor(f["cursor"]) for f in frames]
    assert positions == sorted(set(positions))
    for group_id in {m["group_id"] for m in expected}:
        seqs = [f["message"]["seq"] for f in frames if f["message"]["group_id"] == group_id]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))


def test_sync_from_null_replays_everything_then_synced(live_server, chat, pair):
    seller, buyer, item, direct = pair
    sent = _post_many(chat, buyer, [item, direct], 6, "all")
    ws = WsClient(live_server.ws_url, seller.token)
    try:
        ws.hello()
        ws.send({"op": "sync", "cursor": None})
        frames = [ws.recv() for _ in range(7)]
    finally:
        ws.close()
    assert [f["op"] for f in frames] == ["message"] * 6 + ["synced"]
    _assert_in_order(frames[:6], sent)
    assert frames[-1] == {"op": "synced", "cursor": frames[5]["cursor"], "more": False}


def test_sync_from_a_cursor_in_the_middle_replays_only_what_follows(live_server, chat, pair):
    seller, buyer, item, direct = pair
    sent = _post_many(chat, buyer, [item, direct], 6, "mid")
    first = WsClient(live_server.ws_url, seller.token)
    try:
        first.hello()
        middle = first.sync(None)[2]["cursor"]
    finally:
        first.close()
    again = WsClient(live_server.ws_url, seller.token)
    try:
        again.hello()
        _assert_in_order(again.sync(middle), sent[3:])
    finally:
        again.close()


def test_a_new_device_starting_at_the_hello_cursor_gets_nothing_old_and_everything_new(live_server, chat, pair):
    seller, buyer, item, direct = pair
    _post_many(chat, buyer, [item, direct], 4, "old")
    ws = WsClient(live_server.ws_url, seller.token)
    try:
        hello = ws.hello()
        assert decode_cursor(hello["cursor"]) == 4
        assert ws.sync(hello["cursor"]) == []
        new = chat.send(buyer, direct, "新设备上线后的消息")
        pushed = ws.op("message")
        assert pushed["message"] == new and decode_cursor(pushed["cursor"]) == 5
    finally:
        ws.close()


def test_messages_after_hello_are_held_until_the_client_syncs(live_server, chat, pair):
    seller, buyer, item, direct = pair
    missed = _post_many(chat, buyer, [item], 2, "missed")
    ws = WsClient(live_server.ws_url, seller.token)
    try:
        ws.hello()
        arrived = _post_many(chat, buyer, [item, direct], 3, "meanwhile")
        assert ws.frames_for(0.3) == []  # held: the client has not said where it is
        _assert_in_order(ws.sync(None), missed + arrived)
        later = chat.send(buyer, item, "之后的")
        assert ws.op("message")["message"] == later
    finally:
        ws.close()


@pytest.fixture
def tuned(clean_app):
    """A server replaying 3 messages a batch, holding positions at most 0.3 s before the first frame
    (and between batches).

    It is a second app on the same database: only sends made through it are pushed live to its sockets."""
    with tuned_app(clean_app, WS_SYNC_BATCH=3, WS_SYNC_GRACE_S=0.3, WS_HELLO_GRACE_S=0.3) as app, serve(app) as server:
        yield server


def test_a_long_replay_comes_in_batches_the_client_asks_for(tuned, chat, pair):
    seller, buyer, item, direct = pair
    sent = _post_many(chat, buyer, [item, direct], 8, "batch")
    ws = WsClient(tuned.ws_url, seller.token)
    try:
        ws.hello()
        cursor, got, batches = None, [], []
        while True:
            ws.send({"op": "sync", "cursor": cursor})
            batch = []
            while (frame := ws.recv())["op"] != "synced":
                batch.append(frame)
            batches.append((len(batch), frame["more"]))
            got += batch
            cursor = frame["cursor"]
            if not frame["more"]:
                break
            assert ws.frames_for(0.4) == []  # nothing more until the client asks again
    finally:
        ws.close()
    assert batches == [(3, True), (3, True), (2, False)]
    _assert_in_order(got, sent)
    assert decode_cursor(cursor) == 8


def test_without_a_sync_the_socket_goes_live_from_hello_after_the_grace(tuned, chat, pair):
    seller, buyer, item, direct = pair
    _post_many(chat, buyer, [item], 2, "before")
    ws = WsClient(tuned.ws_url, seller.token)
    try:
        ws.hello()
        new = ChatHelper(tuned.app.test_client(), chat.factory).send(buyer, item, "宽限期之后自动推送")
        frames = ws.frames_for(1.0)
        assert [f["message"]["id"] for f in frames] == [new["id"]]
    finally:
        ws.close()


def test_live_messages_racing_a_replay_are_neither_lost_nor_doubled(tuned, chat, pair):
    seller, buyer, item, direct = pair
    old = _post_many(chat, buyer, [item, direct], 30, "old")
    live: list[dict] = []
    started = threading.Event()

    def post_live() -> None:
        helper = ChatHelper(tuned.app.test_client(), chat.factory)
        started.set()
        for i in range(30):
            live.append(helper.send(buyer, (direct, item)[i % 2], f"实时{i}", client_id=f"live-{i}"))
            time.sleep(0.002)

    ws = WsClient(tuned.ws_url, seller.token)
    sender = threading.Thread(target=post_live)
    try:
        ws.hello()
        sender.start()
        started.wait(5)
        ws.send({"op": "sync", "cursor": None})
        frames: list[dict] = []
        deadline = time.monotonic() + 20
        while len(frames) < 60 and time.monotonic() < deadline:
            frame = ws.recv()
            if frame["op"] == "message":
                frames.append(frame)
            elif frame["op"] == "synced" and frame["more"]:
                time.sleep(0.01)  # a slow client: live messages pile up meanwhile
                ws.send({"op": "sync", "cursor": frame["cursor"]})
        sender.join(10)
        frames += [f for f in ws.frames_for(0.3) if f["op"] == "message"]
    finally:
        ws.close()
    assert len(live) == 30
    expected = sorted(old + live, key=lambda m: m["id"])  # one sender: ids follow inbox order
    _assert_in_order(frames, expected)
    assert [decode_cursor(f["cursor"]) for f in frames] == list(range(1, 61))
