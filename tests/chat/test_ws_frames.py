"""/ws bad frames over real sockets: each gets a clear `error` frame (a stable code, the client_id
echoed), the socket stays open, nothing is stored, the other party hears nothing, and the same
socket still sends afterwards."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from chat.cursors import encode_cursor
from chat.models import ChatMember, ChatMessage, InboxEntry
from core.db import db
from tests.conftest import _wipe
from tests.factories import Factory
from tests.support.wsclient import WsClient, serve

API = "/api/v1"


def _send(g: int, **overrides) -> dict:
    return {"op": "send", "client_id": "bad-1", "group_id": g, "type": "txt", "body": {"text": "你好"},
            **overrides}


# name → (frame(group_id, stranger_group_id) as a dict/list/None to encode or raw str/bytes,
#         expected error code, the client_id the error must echo)
BAD_FRAMES = {
    "not_json": (lambda g, x: "这不是 JSON {", "invalid_json", None),
    "empty_text": (lambda g, x: "", "invalid_json", None),
    "nan": (lambda g, x: '{"op":"send","client_id":"n1","group_id":%d,"type":"custom",'
            '"body":{"event":"e","data":{"v":NaN}}}' % g, "invalid_json", "n1"),
    "too_deep": (lambda g, x: '{"op":"ping","x":' + "[" * 5000 + "]" * 5000 + "}", "invalid_json", None),
    "lone_surrogate": (lambda g, x: '{"op":"send","client_id":"s2","group_id":%d,"type":"txt",'
                       '"body":{"text":"\\ud800"}}' % g, "invalid_json", "s2"),
    "lone_surrogate_client_id": (lambda g, x: '{"op":"send","client_id":"\\udfff","group_id":%d,"type":"txt",'
                                 '"body":{"text":"hi"}}' % g, "invalid_json", None),
    "binary": (lambda g, x: b'{"op":"ping"}', "invalid_frame", None),
    "array": (lambda g, x: [{"op": "ping"}], "invalid_frame", None),
    "string": (lambda g, x: '"ping"', "invalid_frame", None),
    "null": (lambda g, x: None, "invalid_frame", None),
    "unknown_op": (lambda g, x: {"op": "fly"}, "unknown_op", None),
    "op_missing": (lambda g, x: {"group_id": g}, "unknown_op", None),
    "op_not_a_string": (lambda g, x: {"op": ["send"]}, "unknown_op", None),
    "send_missing_fields": (lambda g, x: {"op": "send", "client_id": "m1"}, "validation_error", "m1"),
    "group_id_as_string": (lambda g, x: _send(str(g), client_id="s1"), "validation_error", "s1"),
    "group_id_as_bool": (lambda g, x: _send(True, client_id="b1"), "validation_error", "b1"),
    "group_id_huge": (lambda g, x: _send(2**64, client_id="h1"), "validation_error", "h1"),
    "group_id_zero": (lambda g, x: _send(0, client_id="z1"), "validation_error", "z1"),
    "body_as_list": (lambda g, x: _send(g, client_id="l1", body=["你好"]), "validation_error", "l1"),
    "body_invalid": (lambda g, x: _send(g, client_id="t1", body={"text": ""}), "validation_error", "t1"),
    "server_type": (lambda g, x: _send(g, client_id="y1", type="system", body={"text": "伪造"}),
                    "validation_error", "y1"),
    "unknown_field": (lambda g, x: _send(g, client_id="u1", sender_id=1), "validation_error", "u1"),
    "ext_too_large": (lambda g, x: _send(g, client_id="e1", ext={"card": "卡" * 1400}), "ext_too_large", "e1"),
    "ext_as_list": (lambda g, x: _send(g, client_id="e2", ext=[1]), "validation_error", "e2"),
    "client_id_empty": (lambda g, x: _send(g, client_id=""), "validation_error", ""),
    "client_id_too_long": (lambda g, x: _send(g, client_id="c" * 65), "validation_error", "c" * 65),
    "client_id_not_a_string": (lambda g, x: _send(g, client_id=7), "validation_error", None),
    "client_id_with_nul": (lambda g, x: _send(g, client_id="a\u0000b"), "invalid_json", "a\u0000b"),
    "send_to_strangers_group": (lambda g, x: _send(x, client_id="x1"), "not_found", "x1"),
    "send_to_missing_group": (lambda g, x: _send(999_999, client_id="x2"), "not_found", "x2"),
    "read_strangers_group": (lambda g, x: {"op": "read", "group_id": x, "seq": 1}, "not_found", None),
    "read_beyond_last": (lambda g, x: {"op": "read", "group_id": g, "seq": 50}, "seq_out_of_range", None),
    "read_negative": (lambda g, x: {"op": "read", "group_id": g, "seq": -1}, "validation_error", None),
    "read_seq_as_string": (lambda g, x: {"op": "read", "group_id": g, "seq": "1"}, "validation_error", None),
    "typing_strangers_group": (lambda g, x: {"op": "typing", "group_id": x}, "not_found", None),
    "typing_missing_field": (lambda g, x: {"op": "typing"}, "validation_error", None),
    "sync_cursor_as_number": (lambda g, x: {"op": "sync", "cursor": 5}, "validation_error", None),
    "sync_cursor_missing": (lambda g, x: {"op": "sync"}, "validation_error", None),
    "sync_garbage_cursor": (lambda g, x: {"op": "sync", "cursor": "'; DROP TABLE chat_messages; --"},
                            "invalid_cursor", None),
    "sync_cursor_from_the_future": (lambda g, x: {"op": "sync", "cursor": encode_cursor(10**6)},
                                    "invalid_cursor", None),
    "ping_with_extra_field": (lambda g, x: {"op": "ping", "x": 1}, "validation_error", None),
}


def send_bad_frame(ws: WsClient, name: str, group_id: int, stranger: int) -> None:
    frame = BAD_FRAMES[name][0](group_id, stranger)
    if isinstance(frame, bytes):
        ws.ws.send_binary(frame)
    else:
        ws.send(frame if isinstance(frame, str) else json.dumps(frame, ensure_ascii=False))


@pytest.fixture(scope="module")
def shared(app):
    """One server and one world for the module: bad frames change nothing, so the tests can share them.

    A buyer and a seller with one message in their item group, and a group the buyer is not in."""
    client = app.test_client()
    factory = Factory(client)
    seller, buyer, outsider = factory.user(), factory.user(), factory.user()
    group_id = client.post(f"{API}/listings/{factory.listing(seller)['id']}/inquiries",
                           headers=buyer.headers).get_json()["id"]
    stranger_group = client.post(f"{API}/listings/{factory.listing(seller)['id']}/inquiries",
                                 headers=outsider.headers).get_json()["id"]
    r = client.post(f"{API}/groups/{group_id}/messages", headers=seller.headers,
                    json={"client_id": "hi", "type": "txt", "body": {"text": "在的"}})
    assert r.status_code == 201
    try:
        with serve(app) as server:
            yield server, (seller, buyer, group_id, stranger_group)
    finally:
        _wipe(app)


def _state(app) -> tuple:
    with app.app_context():
        s = db.session
        state = (s.scalar(select(func.count()).select_from(ChatMessage)),
                 s.scalar(select(func.count()).select_from(InboxEntry)),
                 tuple(s.execute(select(ChatMember.group_id, ChatMember.user_id, ChatMember.last_read_seq)
                                 .order_by(ChatMember.group_id, ChatMember.user_id)).all()))
        db.remove()
    return state


@pytest.mark.parametrize("name", sorted(BAD_FRAMES))
def test_a_bad_frame_gets_an_error_and_changes_nothing(shared, name):
    live_server, (seller, buyer, group_id, stranger) = shared
    _, code, client_id = BAD_FRAMES[name]
    before = _state(live_server.app)
    ws, peer = WsClient(live_server.ws_url, buyer.token), WsClient(live_server.ws_url, seller.token)
    try:
        ws.ready()
        peer.ready()
        send_bad_frame(ws, name, group_id, stranger)
        error = ws.op("error")
        assert error["error"]["code"] == code, error
        assert error["error"]["message"]
        assert error.get("client_id") == client_id
        if code == "not_found":
            assert str(stranger) not in error["error"]["message"]
        ws.send({"op": "ping"})
        assert ws.op("pong")  # still open, still answering
        assert _state(live_server.app) == before
        assert peer.flush() == []  # anything the bad frame sent the peer would already be queued
    finally:
        ws.close()
        peer.close()


def test_after_every_bad_frame_the_same_socket_still_sends(shared):
    """Runs last: it is the one test here that stores a message."""
    live_server, (seller, buyer, group_id, stranger) = shared
    ws, peer = WsClient(live_server.ws_url, buyer.token), WsClient(live_server.ws_url, seller.token)
    try:
        ws.ready()
        peer.ready()
        for name in sorted(BAD_FRAMES):
            send_bad_frame(ws, name, group_id, stranger)
        errors = [ws.op("error") for _ in BAD_FRAMES]
        assert [e["error"]["code"] for e in errors] == [BAD_FRAMES[n][1] for n in sorted(BAD_FRAMES)]
        ws.send_text(group_id, "终于发出去了 <b>ok</b>", "good-1")
        ack = ws.op("ack")
        assert ack["client_id"] == "good-1" and ack["message"]["seq"] == 2
        pushed = peer.op("message")
        assert pushed["message"]["body"] == {"text": "终于发出去了 <b>ok</b>"}
    finally:
        ws.close()
        peer.close()
