"""/ws without a handshake: a client that just talks is live at once; one that resumes says so on connect.

Real sockets against a server whose hello grace is a minute: a frame held by it would time the test out,
so every assertion here is on the order of frames, never on a duration.
"""
from __future__ import annotations

import pytest

from chat.cursors import decode_cursor, encode_cursor
from tests.chat.helpers import ChatHelper
from tests.support.wsclient import RecvTimeout, WsClient, serve, tuned_app

POSITIONED = ("message", "ack", "synced")


@pytest.fixture
def patient(clean_app):
    """A server that would hold positions for a minute after hello, and replays 3 messages a batch."""
    with tuned_app(clean_app, WS_HELLO_GRACE_S=60.0, WS_SYNC_GRACE_S=60.0, WS_SYNC_BATCH=3) as app, \
            serve(app) as server:
        yield server


@pytest.fixture
def trio(patient, factory):
    """A seller, a buyer and their item group, with a helper posting through the patient server's app."""
    chat = ChatHelper(patient.app.test_client(), factory)
    seller, buyer = factory.user(), factory.user()
    return chat, seller, buyer, chat.item_group(buyer, seller)


def _positioned(ws: WsClient, timeout: float = 10.0) -> dict:
    return ws.recv_until(lambda f: f["op"] in POSITIONED, timeout)


def test_a_send_without_sync_is_acked_at_once_and_live_messages_follow(patient, trio):
    chat, seller, buyer, group_id = trio
    chat.send(buyer, group_id, "连接之前的消息")  # older than hello: a client without a cursor starts after it
    ws = WsClient(patient.ws_url, seller.token)
    try:
        hello = ws.hello()
        ws.send_text(group_id, "还在吗?", "first")
        ack = _positioned(ws)
        reply = chat.send(buyer, group_id, "在的")
        pushed = _positioned(ws)
    finally:
        ws.close()
    assert ack["op"] == "ack" and ack["client_id"] == "first"
    assert decode_cursor(ack["cursor"]) == decode_cursor(hello["cursor"]) + 1
    assert pushed["op"] == "message" and pushed["message"] == reply
    assert [f["op"] for f in ws.seen if f["op"] in POSITIONED] == ["ack", "message"]


def test_a_ping_first_makes_the_socket_live(patient, trio):
    chat, seller, buyer, group_id = trio
    ws = WsClient(patient.ws_url, seller.token)
    try:
        ws.hello()
        ws.send({"op": "ping"})
        ws.op("pong")
        sent = chat.send(buyer, group_id, "只听不说的客户端也收到")
        assert _positioned(ws)["message"] == sent
    finally:
        ws.close()


def test_a_socket_that_only_listens_is_held_until_the_grace(patient, trio):
    chat, seller, buyer, group_id = trio
    ws = WsClient(patient.ws_url, seller.token)
    try:
        ws.hello()
        chat.send(buyer, group_id, "等客户端开口")
        with pytest.raises(RecvTimeout):
            _positioned(ws, 0.5)  # a first `sync` may still come: it must be replayed before this
    finally:
        ws.close()


def test_resume_on_connect_replays_what_was_missed_before_anything_live(patient, trio):
    chat, seller, buyer, group_id = trio
    first = chat.send(buyer, group_id, "第一条")
    cursor = encode_cursor(1)
    missed = [chat.send(buyer, group_id, f"错过的 {i}") for i in range(5)]
    ws = WsClient(patient.ws_url, seller.token, resume=cursor)
    try:
        ws.hello()
        ws.send_text(group_id, "我回来了", "back")  # its ack follows the whole replay
        frames = [_positioned(ws) for _ in range(4)]
        assert frames[-1] == {"op": "synced", "cursor": frames[2]["cursor"], "more": True}
        assert ws.flush() == []  # the next batch only when the client asks
        ws.send({"op": "sync", "cursor": frames[-1]["cursor"]})
        frames += [_positioned(ws) for _ in range(4)]
        live = chat.send(buyer, group_id, "之后的")
        frames.append(_positioned(ws))
    finally:
        ws.close()
    ops = [f["op"] for f in frames]
    # the send commits while the first batch is read: the second batch holds it, as the ack
    assert ops == ["message"] * 3 + ["synced"] + ["message"] * 2 + ["ack", "synced", "message"]
    assert [f["message"]["id"] for f in frames if f["op"] == "message"] == [m["id"] for m in missed] + [live["id"]]
    assert frames[7]["more"] is False and frames[6]["client_id"] == "back"
    assert [decode_cursor(f["cursor"]) for f in frames if f["op"] != "synced"] == list(range(2, 9))
    assert first["seq"] == 1


def test_resume_on_connect_with_an_empty_cursor_starts_from_the_beginning(patient, trio):
    chat, seller, buyer, group_id = trio
    sent = [chat.send(buyer, group_id, f"全部 {i}") for i in range(2)]
    ws = WsClient(patient.ws_url, seller.token, resume=None)
    try:
        ws.hello()
        frames = [_positioned(ws) for _ in range(3)]
    finally:
        ws.close()
    assert [f["message"]["id"] for f in frames[:2]] == [m["id"] for m in sent]
    assert frames[2] == {"op": "synced", "cursor": encode_cursor(2), "more": False}


@pytest.mark.parametrize("cursor", ["garbage", encode_cursor(99)])
def test_a_bad_cursor_on_connect_is_an_error_frame_and_the_socket_stays(patient, trio, cursor):
    chat, seller, buyer, group_id = trio
    chat.send(buyer, group_id, "一条")
    ws = WsClient(patient.ws_url, seller.token, resume=cursor)
    try:
        ws.hello()
        error = ws.op("error")
        replayed = ws.sync(None)  # the client drops its cursor and starts over
    finally:
        ws.close()
    assert error["error"]["code"] == "invalid_cursor" and "client_id" not in error
    assert [f["message"]["seq"] for f in replayed] == [1]


def test_a_late_sync_sends_only_what_this_socket_has_not_sent(patient, trio):
    chat, seller, buyer, group_id = trio
    older = [chat.send(buyer, group_id, f"早先 {i}") for i in range(2)]
    ws = WsClient(patient.ws_url, seller.token)
    try:
        ws.hello()
        ws.send({"op": "ping"})  # live from here
        ws.op("pong")
        newer = [chat.send(buyer, group_id, f"实时 {i}") for i in range(2)]
        live = [_positioned(ws) for _ in range(2)]
        replay = ws.sync(None)
        synced = ws.seen[-1]
        repeat = ws.sync(synced["cursor"])
    finally:
        ws.close()
    assert [f["message"]["id"] for f in live] == [m["id"] for m in newer]
    assert [f["message"]["id"] for f in replay] == [m["id"] for m in older]  # each position once
    assert [decode_cursor(f["cursor"]) for f in replay] == [1, 2]
    assert synced == {"op": "synced", "cursor": encode_cursor(4), "more": False}
    assert repeat == []
