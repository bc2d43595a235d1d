"""/ws events over real sockets: read markers (WS and REST, forward only), typing (relayed, never stored),
recall, and ping → pong."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from chat.models import ChatMember, ChatMessage
from core.db import db
from tests.support.wsclient import WsClient

API = "/api/v1"


@pytest.fixture
def talk(chat, factory, ws_ready):
    """A buyer and a seller, each with a ready socket, and three messages from the buyer."""
    seller, buyer = factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    buyer_ws, seller_ws = ws_ready(buyer), ws_ready(seller)
    messages = [chat.send(buyer, group_id, f"第{i}条") for i in range(1, 4)]
    for ws in (buyer_ws, seller_ws):
        assert [ws.op("message")["message"]["seq"] for _ in messages] == [1, 2, 3]
    return seller, buyer, group_id, seller_ws, buyer_ws, messages


def _marker(app, group_id: int, user_id: int) -> int:
    with app.app_context():
        seq = db.session.scalar(select(ChatMember.last_read_seq).where(ChatMember.group_id == group_id,
                                                                         ChatMember.user_id == user_id))
        db.remove()
    return seq


def test_ping_is_answered_with_pong(live_server, factory, ws_ready):
    ws = ws_ready(factory.user())
    for _ in range(3):
        ws.send({"op": "ping"})
        assert ws.recv() == {"op": "pong"}


def test_a_read_over_ws_is_an_event_to_the_other_member(live_server, talk):
    seller, buyer, group_id, seller_ws, buyer_ws, _ = talk
    seller_ws.send({"op": "read", "group_id": group_id, "seq": 2})
    event = buyer_ws.op("event")
    assert event == {"op": "event", "type": "read", "data": {"group_id": group_id, "user_id": seller.id, "seq": 2}}
    assert _marker(live_server.app, group_id, seller.id) == 2


def test_a_read_over_rest_gives_the_same_event(client, talk):
    seller, buyer, group_id, seller_ws, buyer_ws, _ = talk
    r = client.post(f"{API}/groups/{group_id}/read", json={"seq": 3}, headers=seller.headers)
    assert r.status_code == 204
    assert buyer_ws.op("event") == {"op": "event", "type": "read",
                                    "data": {"group_id": group_id, "user_id": seller.id, "seq": 3}}


def test_a_read_marker_only_moves_forward(live_server, talk):
    seller, buyer, group_id, seller_ws, buyer_ws, _ = talk
    seller_ws.send({"op": "read", "group_id": group_id, "seq": 3})
    assert buyer_ws.op("event")["data"]["seq"] == 3
    for seq in (1, 3, 0):  # back, or the same: no change, no event, no error
        seller_ws.send({"op": "read", "group_id": group_id, "seq": seq})
    assert [f for f in seller_ws.flush() if f["op"] == "error"] == []
    assert [f for f in buyer_ws.flush() if f.get("type") == "read"] == []
    assert _marker(live_server.app, group_id, seller.id) == 3


def test_typing_is_relayed_to_the_other_member_and_never_stored(live_server, talk):
    seller, buyer, group_id, seller_ws, buyer_ws, _ = talk
    with live_server.app.app_context():
        before = db.session.scalar(select(func.count()).select_from(ChatMessage))
        db.remove()
    buyer_ws.send({"op": "typing", "group_id": group_id})
    assert seller_ws.op("event") == {"op": "event", "type": "typing",
                                     "data": {"group_id": group_id, "user_id": buyer.id}}
    assert buyer_ws.flush() == []  # not echoed to the typist
    with live_server.app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ChatMessage)) == before
    assert seller_ws.flush() == []
    fresh = WsClient(live_server.ws_url, seller.token)  # nothing new in the inbox either
    try:
        fresh.hello()
        assert [f["message"]["seq"] for f in fresh.sync(None)] == [1, 2, 3]
    finally:
        fresh.close()


def test_a_recall_over_rest_is_an_event_to_every_member(live_server, client, talk):
    seller, buyer, group_id, seller_ws, buyer_ws, messages = talk
    target = messages[1]
    r = client.post(f"{API}/groups/{group_id}/messages/{target['id']}/recall", headers=buyer.headers)
    assert r.status_code == 200
    for ws in (seller_ws, buyer_ws):
        event = ws.op("event")
        assert event["type"] == "recall"
        data = event["data"]
        assert data["group_id"] == group_id and data["by"] == buyer.id
        assert data["message"]["id"] == target["id"] and data["message"]["recalled"] is True
        assert data["message"]["body"] == {}
    fresh = WsClient(live_server.ws_url, seller.token)  # a later sync shows it recalled too
    try:
        fresh.hello()
        replayed = {f["message"]["id"]: f["message"] for f in fresh.sync(None)}
    finally:
        fresh.close()
    assert replayed[target["id"]]["recalled"] is True and replayed[target["id"]]["body"] == {}


def test_typing_is_not_relayed_in_rooms(live_server, chat, factory):
    owner, member = factory.user(), factory.user()
    room = chat.room(owner)
    assert chat.client.post(f"/api/v1/rooms/{room}/join", headers=member.headers).status_code == 200
    a, b = WsClient(live_server.ws_url, owner.token), WsClient(live_server.ws_url, member.token)
    try:
        a.hello(), b.hello()
        a.send({"op": "typing", "group_id": room})
        a.send({"op": "ping"})
        assert a.op("pong")["op"] == "pong"
        b.send({"op": "ping"})
        frames = [b.recv()]
        while frames[-1]["op"] != "pong":
            frames.append(b.recv())
        assert not [f for f in frames if f.get("type") == "typing"]
    finally:
        a.close(), b.close()
