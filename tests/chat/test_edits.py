"""Editing a text message: REST and WebSocket, the edit delivered exactly once and in order across random
reconnects (by cursor and by sync), screening of the new text, and every refusal with its code."""
from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import update

from chat.cursors import decode_cursor
from chat.sync import user_cursor
from chat.tables import messages_t
from core.db import db, utcnow
from tests.chat.helpers import API, ChatHelper, put_keyword_rules
from tests.chat.test_user_groups import create
from tests.support.wsclient import WsClient


def edit(client, actor, group_id, message_id, text, status=200):
    r = client.patch(f"{API}/groups/{group_id}/messages/{message_id}", json={"body": {"text": text}},
                     headers=actor.headers)
    assert r.status_code == status, r.get_json()
    return r.get_json()


def test_the_sender_edits_keeping_the_seq_and_the_list_shows_the_new_text(client, factory, chat):
    seller, buyer = factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    sent = chat.send(buyer, group_id, "能便宜点吗")
    edited = edit(client, buyer, group_id, sent["id"], "能便宜100吗")
    assert (edited["id"], edited["seq"], edited["body"], edited["revision"]) == \
        (sent["id"], sent["seq"], {"text": "能便宜100吗"}, 1)
    assert edited["edited_at"] is not None and sent["edited_at"] is None
    assert chat.history(seller, group_id)["items"][-1] == {**edited, "reactions": []}
    item = client.get(f"{API}/conversations", headers=seller.headers).get_json()["items"][0]
    assert item["last_message"]["preview"] == "能便宜100吗" and item["unread_count"] == 1


def test_every_refusal_has_its_code(client, factory, chat, monkeypatch):
    seller, buyer = factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    sent = chat.send(buyer, group_id, "第一版")
    assert edit(client, seller, group_id, sent["id"], "改你的", 403)["error"]["code"] == "not_sender"
    assert edit(client, buyer, group_id, 999999, "x", 404)["error"]["code"] == "not_found"
    stranger = factory.user()
    assert edit(client, stranger, group_id, sent["id"], "x", 404)["error"]["code"] == "not_found"
    r = client.patch(f"{API}/groups/{group_id}/messages/{sent['id']}", json={"body": {"text": ""}},
                     headers=buyer.headers)
    assert r.status_code == 400
    monkeypatch.setitem(client.application.config, "EDIT_MAX_REVISIONS", 2)
    edit(client, buyer, group_id, sent["id"], "第二版")
    edit(client, buyer, group_id, sent["id"], "第三版")
    assert edit(client, buyer, group_id, sent["id"], "第四版", 409)["error"]["code"] == "edit_limit_reached"

    late = chat.send(buyer, group_id, "早就发了")
    with client.application.app_context(), db.transaction() as s:
        s.execute(update(messages_t).where(messages_t.c.id == late["id"])
                  .values(created_at=utcnow() - timedelta(seconds=901)))
    assert edit(client, buyer, group_id, late["id"], "改不了", 403)["error"]["code"] == "edit_window_passed"

    picture = chat.send(buyer, group_id, type="img", body={"url": chat.upload(buyer)})
    assert edit(client, buyer, group_id, picture["id"], "图片", 400)["error"]["code"] == "not_editable"
    recalled = chat.send(buyer, group_id, "撤回它")
    client.post(f"{API}/groups/{group_id}/messages/{recalled['id']}/recall", headers=buyer.headers)
    assert edit(client, buyer, group_id, recalled["id"], "x", 409)["error"]["code"] == "message_recalled"
    assert [m["body"].get("text") for m in chat.history(seller, group_id)["items"][:2]] == ["第三版", "早就发了"]


def test_keyword_rules_screen_the_new_text(client, factory, chat):
    admin, seller, buyer = factory.admin(), factory.user(), factory.user()
    put_keyword_rules(client, admin, [{"pattern": "代开发票", "kind": "word", "action": "block"},
                                      {"pattern": "傻瓜", "kind": "word", "action": "mask"}])
    group_id = chat.item_group(buyer, seller)
    sent = chat.send(buyer, group_id, "你好")
    r = edit(client, buyer, group_id, sent["id"], "可以代开发票", 403)
    assert r["error"]["code"] == "content_blocked"
    assert edit(client, buyer, group_id, sent["id"], "你个傻瓜")["body"] == {"text": "你个**"}


def _positioned(frame: dict) -> bool:
    return frame["op"] in ("message", "ack") or (frame["op"] == "event" and "cursor" in frame)


@pytest.mark.parametrize("resume", ["cursor", "sync"])
def test_an_edit_is_delivered_exactly_once_across_random_reconnects(live_server, factory, resume):
    """The seller's device drops at random points while the buyer sends and edits; resuming from the last
    cursor it processed, it gets every message and every edit once, at consecutive positions, in order."""
    chat = ChatHelper(live_server.app.test_client(), factory)
    seller, buyer = factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    rng = random.Random(18 if resume == "cursor" else 81)

    def connect(cursor):
        if resume == "cursor":
            ws = WsClient(live_server.ws_url, seller.token, resume=cursor)
            ws.hello()
            return ws
        ws = WsClient(live_server.ws_url, seller.token)
        ws.hello()
        ws.send({"op": "sync", "cursor": cursor})
        return ws

    first = WsClient(live_server.ws_url, seller.token)
    start = cursor = first.ready()["cursor"]
    first.close()
    got: list[dict] = []
    ws = connect(cursor)
    last = None
    for i in range(10):
        if last is None or rng.random() < 0.5:
            last = chat.send(buyer, group_id, f"消息{i}")
        else:
            edit(client=chat.client, actor=buyer, group_id=group_id, message_id=last["id"], text=f"改{i}")
        if rng.random() < 0.5:  # process a random number of frames, then drop the connection
            for _ in range(rng.randint(0, 2)):
                frame = ws.recv_until(lambda f: _positioned(f) or f["op"] == "synced", 10)
                if _positioned(frame):
                    got.append(frame)
                    cursor = frame["cursor"]
            ws.close()
            ws = connect(cursor)
    with live_server.app.app_context():
        end = user_cursor(seller.id)
    while decode_cursor(cursor) < end:
        frame = ws.recv_until(_positioned, 10)
        got.append(frame)
        cursor = frame["cursor"]
    assert [f for f in ws.flush() if _positioned(f)] == []  # nothing more, nothing twice
    ws.close()
    positions = [decode_cursor(f["cursor"]) for f in got]
    assert positions == list(range(decode_cursor(start) + 1, end + 1))
    history = {m["id"]: m for m in chat.history(seller, group_id)["items"]}
    messages = [f["message"]["id"] for f in got if f["op"] == "message"]
    assert messages == sorted(history)
    edits = [f["data"]["message"] for f in got if f["op"] == "event"]
    assert all(f["type"] == "edit" for f in got if f["op"] == "event")
    expected_edits = sum(m["revision"] for m in history.values())
    assert len(edits) == expected_edits
    for message in edits:  # live edits carry the revision they made; replays the message as it is now
        assert message["revision"] <= history[message["id"]]["revision"]
    assert edits and {**edits[-1], "reactions": []} == history[edits[-1]["id"]]


def test_the_edit_op_reaches_every_member_of_a_group_and_a_room_live(client, factory, chat, ws_ready):
    owner, a = factory.user(), factory.user()
    group_id = create(client, owner, member_ids=[a.id])["id"]
    room = chat.room(owner)
    client.post(f"{API}/rooms/{room}/join", headers=a.headers)
    sockets = {actor.id: ws_ready(actor) for actor in (owner, a)}
    for gid in (group_id, room):
        sent = chat.send(owner, gid, "周六聚会")
        sockets[owner.id].send({"op": "edit", "group_id": gid, "message_id": sent["id"],
                                "body": {"text": "周日聚会"}})
        for ws in sockets.values():
            frame = ws.recv_until(lambda f: f.get("type") == "edit")
            assert frame["data"]["message"]["body"] == {"text": "周日聚会"}
            assert ("cursor" in frame) == (gid == group_id)  # rooms: live only
    sockets[a.id].send({"op": "edit", "group_id": group_id, "message_id": sent["id"], "body": {"text": "x"}})
    assert sockets[a.id].op("error")["error"]["code"] == "not_found"  # room message named with the group
