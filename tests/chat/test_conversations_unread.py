"""Unread counts in the conversation list: two devices, REST and WebSocket reads, recall, hide and reappear."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from chat.models import ChatMember
from core.db import db
from tests.chat.conftest import wrap_publisher
from tests.chat.helpers import API
from tests.support.wsclient import WsClient


def item_of(client, actor, group_id: int) -> dict | None:
    r = client.get(f"{API}/conversations", query_string={"limit": 100}, headers=actor.headers)
    assert r.status_code == 200, r.get_json()
    found = [c for c in r.get_json()["items"] if c["group_id"] == group_id]
    return found[0] if found else None


def unread(client, actor, group_id: int) -> int:
    return item_of(client, actor, group_id)["unread_count"]


def read(client, actor, group_id: int, seq: int) -> None:
    r = client.post(f"{API}/groups/{group_id}/read", json={"seq": seq}, headers=actor.headers)
    assert r.status_code == 204, r.get_json()


def hide(client, actor, group_id: int) -> None:
    assert client.delete(f"{API}/conversations/{group_id}", headers=actor.headers).status_code == 204


@pytest.fixture
def devices(factory, chat):
    """A buyer logged in on two devices (two tokens), a seller, and their item chat."""
    buyer, seller = factory.user(), factory.user()
    second = factory.login(buyer.username)
    return buyer, second, seller, chat.item_group(buyer, seller)


def test_own_messages_never_count_on_any_device(client, chat, devices):
    phone, tablet, seller, group_id = devices
    chat.send(phone, group_id, "手机发的")
    chat.send(tablet, group_id, "平板发的")
    assert unread(client, phone, group_id) == unread(client, tablet, group_id) == 0
    assert unread(client, seller, group_id) == 2


def test_peer_messages_count_on_both_devices_until_either_reads(client, chat, devices):
    phone, tablet, seller, group_id = devices
    for text in ("一", "二", "三"):
        chat.send(seller, group_id, text)
    assert unread(client, phone, group_id) == unread(client, tablet, group_id) == 3
    read(client, phone, group_id, 2)
    assert unread(client, tablet, group_id) == 1
    read(client, tablet, group_id, 1)  # an older marker from the other device does not move it back
    assert unread(client, phone, group_id) == 1
    chat.send(seller, group_id, "四")
    assert unread(client, tablet, group_id) == 2


def test_replying_marks_what_came_before_as_read(client, chat, devices):
    phone, tablet, seller, group_id = devices
    chat.send(seller, group_id, "还要吗?")
    chat.send(seller, group_id, "在吗?")
    chat.send(tablet, group_id, "要的")
    assert unread(client, phone, group_id) == 0 and unread(client, seller, group_id) == 1


def test_the_ws_read_op_and_the_rest_read_move_the_same_marker(client, live_server, chat, devices):
    phone, tablet, seller, group_id = devices
    for text in ("一", "二", "三", "四"):
        chat.send(seller, group_id, text)
    ws = WsClient(live_server.ws_url, phone.token)
    try:
        ws.ready()
        ws.send({"op": "read", "group_id": group_id, "seq": 3})
        event = ws.recv_until(lambda f: f.get("op") == "event" and f.get("type") == "read")
        assert event["data"] == {"group_id": group_id, "user_id": phone.id, "seq": 3}
        assert unread(client, tablet, group_id) == 1  # the REST list on the other device
        read(client, tablet, group_id, 4)
        event = ws.recv_until(lambda f: f.get("op") == "event" and f.get("type") == "read")
        assert event["data"]["seq"] == 4 and unread(client, phone, group_id) == 0
        ws.send({"op": "read", "group_id": group_id, "seq": 2})  # behind the marker: nothing moves
        ws.send({"op": "ping"})
        ws.op("pong")
        assert unread(client, tablet, group_id) == 0
    finally:
        ws.close()


def test_recalled_messages_still_count_until_read(client, chat, devices):
    phone, _, seller, group_id = devices
    chat.send(seller, group_id, "一")
    message = chat.send(seller, group_id, "发错了")
    assert client.post(f"{API}/groups/{group_id}/messages/{message['id']}/recall",
                       headers=seller.headers).status_code == 200
    item = item_of(client, phone, group_id)
    assert item["unread_count"] == 2 and item["last_message"]["preview"] == "对方撤回了一条消息"
    read(client, phone, group_id, 2)
    assert unread(client, phone, group_id) == 0


def test_system_notices_count_as_unread_for_both_parties(client, chat, factory):
    buyer, seller = factory.user(), factory.user()
    listing_id = chat.listing(seller)
    group_id = chat.inquiry(buyer, listing_id)["id"]
    chat.set_status(listing_id, "reserved")
    assert unread(client, buyer, group_id) == unread(client, seller, group_id) == 1


def test_hidden_conversation_comes_back_with_only_the_new_messages_unread(client, chat, devices):
    phone, tablet, seller, group_id = devices
    for text in ("一", "二", "三"):
        chat.send(seller, group_id, text)
    hide(client, phone, group_id)
    assert item_of(client, phone, group_id) is None and item_of(client, tablet, group_id) is None
    assert unread(client, seller, group_id) == 0  # the other party's list is untouched
    chat.send(phone, group_id, "我自己发的")  # own messages bring it back, with nothing unread
    assert unread(client, tablet, group_id) == 0
    hide(client, tablet, group_id)
    chat.send(seller, group_id, "新消息")
    item = item_of(client, phone, group_id)
    assert item["unread_count"] == 1 and item["last_message"]["preview"] == "新消息"
    read(client, phone, group_id, 5)
    assert unread(client, tablet, group_id) == 0


def test_hiding_sends_no_read_receipt_and_keeps_the_read_marker(client, chat, devices, monkeypatch):
    phone, _, seller, group_id = devices
    chat.send(seller, group_id, "一")
    chat.send(seller, group_id, "二")
    seen: list[dict] = []
    wrap_publisher(client.application, monkeypatch, seen.extend)
    hide(client, phone, group_id)
    hide(client, phone, group_id)  # idempotent
    # No read receipt: only the hider's own badge moves (once: the second hide changes nothing).
    assert seen == [{"type": "unread", "unread_total": 0, "unread_version": 3, "recipients": [phone.id]}]
    with client.application.app_context():
        marker = db.session.scalar(select(ChatMember.last_read_seq)
                                   .where(ChatMember.group_id == group_id, ChatMember.user_id == phone.id))
    assert marker == 0
    # Reading later still moves the marker (and tells the seller) as usual.
    read(client, phone, group_id, 2)
    chat.send(seller, group_id, "三")
    assert unread(client, phone, group_id) == 1


def test_an_empty_conversation_hidden_comes_back_with_its_first_message(client, factory, chat):
    a, b = factory.user(), factory.user()
    group_id = chat.direct(a, b)
    hide(client, a, group_id)
    assert item_of(client, a, group_id) is None and item_of(client, b, group_id) is not None
    chat.send(b, group_id, "你好")
    assert unread(client, a, group_id) == 1


def test_hiding_a_room_hides_it_until_someone_speaks(client, factory, chat):
    owner = factory.user()
    room_id = chat.room(owner)
    chat.send(owner, room_id, "公告")
    hide(client, owner, room_id)
    assert item_of(client, owner, room_id) is None
    chat.send(owner, room_id, "第二条公告")
    assert item_of(client, owner, room_id)["last_message"]["preview"] == "第二条公告"


def test_only_members_can_hide_a_conversation(client, factory, chat):
    a, b, stranger = factory.user(), factory.user(), factory.user()
    group_id = chat.direct(a, b)
    for gid in (group_id, 999999):
        r = client.delete(f"{API}/conversations/{gid}", headers=stranger.headers)
        assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found"
    assert client.delete(f"{API}/conversations/{group_id}").status_code == 401
    assert item_of(client, a, group_id) is not None
