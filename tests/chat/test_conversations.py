"""GET /conversations merges each group with its listing as it is now, the peer, the role and the last message."""
from __future__ import annotations

import pytest

from tests.chat.helpers import API
from tests.support.wsclient import WsClient, wait_until


def conversations(client, actor, **params) -> list[dict]:
    r = client.get(f"{API}/conversations", query_string=params, headers=actor.headers)
    assert r.status_code == 200, r.get_json()
    return r.get_json()["items"]


def item_of(client, actor, group_id: int) -> dict:
    (item,) = [c for c in conversations(client, actor, limit=100) if c["group_id"] == group_id]
    return item


@pytest.fixture
def deal(client, factory):
    """A sale listing (two images) made through the API, and the buyer's item chat about it."""
    seller, buyer = factory.user(nickname="卖家小李"), factory.user(nickname="买家小王")
    images = [factory.upload(seller.id), factory.upload(seller.id)]
    listing = factory.listing(seller, title="九成新自行车", price_cents=35000, images=images)
    r = client.post(f"{API}/listings/{listing['id']}/inquiries", headers=buyer.headers)
    assert r.status_code == 201
    return seller, buyer, listing, r.get_json()["id"]


def test_item_chat_shows_listing_peer_role_and_last_message_to_each_side(client, chat, deal):
    seller, buyer, listing, group_id = deal
    sent = chat.send(buyer, group_id, "你好,自行车还在吗?")
    as_buyer, as_seller = item_of(client, buyer, group_id), item_of(client, seller, group_id)
    expected_listing = {"id": listing["id"], "title": "九成新自行车", "price_cents": 35000, "kind": "sale",
                        "status": "active", "cover_url": listing["images"][0]}
    assert as_buyer["listing"] == as_seller["listing"] == expected_listing
    assert as_buyer["kind"] == "item" and as_buyer["role"] == "buyer" and as_seller["role"] == "seller"
    assert as_buyer["peer"] == {"id": seller.id, "nickname": "卖家小李", "avatar_url": None, "online": False,
                                "blocked": False}
    assert as_seller["peer"]["id"] == buyer.id and as_seller["peer"]["nickname"] == "买家小王"
    assert as_buyer["last_message"] == {"id": sent["id"], "seq": 1, "type": "txt", "preview": "你好,自行车还在吗?",
                                        "sender_id": buyer.id, "created_at": sent["created_at"]}
    assert as_buyer["updated_at"] == sent["created_at"] and as_buyer["read_only"] is False
    assert as_buyer["unread_count"] == 0 and as_seller["unread_count"] == 1


def test_direct_chat_has_the_other_user_as_peer_and_no_listing(client, factory, chat):
    a, b = factory.user(nickname="阿甲"), factory.user(nickname="阿乙")
    group_id = chat.direct(a, b)
    item = item_of(client, a, group_id)
    assert item["kind"] == "direct" and item["listing"] is None and item["role"] == "member"
    assert item["peer"]["id"] == b.id and item["peer"]["nickname"] == "阿乙"
    assert item["last_message"] is None and item["unread_count"] == 0  # listed before any message
    assert item_of(client, b, group_id)["peer"]["id"] == a.id


def test_room_has_no_peer_and_shows_the_member_role(client, factory, chat):
    owner, member = factory.user(), factory.user()
    room_id = chat.room(owner)
    assert client.post(f"{API}/rooms/{room_id}/join", headers=member.headers).status_code == 200
    chat.send(member, room_id, "大家好")
    owned, joined = item_of(client, owner, room_id), item_of(client, member, room_id)
    assert owned["kind"] == "room" and owned["peer"] is None and owned["listing"] is None
    assert owned["role"] == "owner" and joined["role"] == "member"
    assert owned["last_message"]["preview"] == "大家好" and owned["unread_count"] == 1


def test_listing_edits_show_in_the_list_at_once(client, factory, chat, deal):
    seller, buyer, listing, group_id = deal
    chat.send(buyer, group_id, "能便宜点吗")
    new_cover = factory.upload(seller.id)
    r = client.patch(f"{API}/listings/{listing['id']}", headers=seller.headers,
                     json={"title": "自行车 降价急出", "price_cents": 28000, "images": [new_cover]})
    assert r.status_code == 200, r.get_json()
    for viewer in (buyer, seller):
        summary = item_of(client, viewer, group_id)["listing"]
        assert summary["title"] == "自行车 降价急出" and summary["price_cents"] == 28000
        assert summary["cover_url"] == new_cover
    r = client.patch(f"{API}/listings/{listing['id']}", headers=seller.headers, json={"images": []})
    assert r.status_code == 200 and item_of(client, buyer, group_id)["listing"]["cover_url"] is None


def test_status_changes_show_with_their_notice_as_last_message(client, chat, deal):
    seller, buyer, listing, group_id = deal
    chat.send(buyer, group_id, "我要了")
    for status, notice in (("reserved", "卖家已将商品标记为已预订"), ("sold", "商品已售出")):
        r = client.post(f"{API}/listings/{listing['id']}/status", json={"status": status}, headers=seller.headers)
        assert r.status_code == 200, r.get_json()
        item = item_of(client, buyer, group_id)
        assert item["listing"]["status"] == status
        assert item["last_message"]["type"] == "system" and item["last_message"]["preview"] == notice
        assert item["last_message"]["sender_id"] is None
    # Sold is final but recent: still in the default list and still open.
    assert item_of(client, seller, group_id)["read_only"] is False


def test_a_taken_down_listing_leaves_its_chat_read_only_in_the_list(client, factory, chat, deal):
    _, buyer, listing, group_id = deal
    chat.set_status(listing["id"], "removed")
    item = item_of(client, buyer, group_id)
    assert item["listing"]["status"] == "removed" and item["read_only"] is True


@pytest.mark.parametrize("type,body,expected", [
    ("img", {"url": "UPLOAD"}, "[图片]"),
    ("audio", {"url": "UPLOAD", "duration_ms": 3000}, "[语音]"),
    ("video", {"url": "UPLOAD", "duration_ms": 9000}, "[视频]"),
    ("location", {"lat": 31.2, "lng": 121.5, "address": "上海市徐汇区"}, "[位置]"),
    ("file", {"url": "UPLOAD", "name": "发票.pdf", "size": 1024}, "[文件]"),
    ("custom", {"event": "listing_card", "data": {"listing_id": 1}}, "[自定义消息]"),
])
def test_media_and_other_types_preview_as_a_label(client, factory, chat, type, body, expected):
    a, b = factory.user(), factory.user()
    group_id = chat.direct(a, b)
    if body.get("url") == "UPLOAD":
        body = {**body, "url": chat.upload(a, {"audio": "mp3", "video": "mp4"}.get(type, "jpg"))}
    chat.send(a, group_id, type=type, body=body)
    last = item_of(client, b, group_id)["last_message"]
    assert last["type"] == type and last["preview"] == expected


def test_long_text_is_cut_to_50_characters_on_one_line(client, factory, chat):
    a, b = factory.user(), factory.user()
    group_id = chat.direct(a, b)
    text = "第一行😀\n" + "长" * 60
    chat.send(a, group_id, text)
    preview = item_of(client, b, group_id)["last_message"]["preview"]
    assert len(preview) == 50 and preview == ("第一行😀 " + "长" * 60)[:50]


@pytest.mark.parametrize("text", ["'; DROP TABLE chat_groups; --", "<script>alert(1)</script>", "  前后空格  "])
def test_text_previews_keep_what_was_sent(client, factory, chat, text):
    a, b = factory.user(), factory.user()
    group_id = chat.direct(a, b)
    chat.send(a, group_id, text)
    assert item_of(client, b, group_id)["last_message"]["preview"] == text.strip()


def test_offers_preview_with_their_price_and_status(client, chat, deal):
    seller, buyer, _, group_id = deal
    r = client.post(f"{API}/groups/{group_id}/offers", json={"price_cents": 12000}, headers=buyer.headers)
    assert r.status_code == 201, r.get_json()
    assert item_of(client, seller, group_id)["last_message"]["preview"] == "[报价] ¥120.00"
    assert client.post(f"{API}/offers/{r.get_json()['id']}/decline", headers=seller.headers).status_code == 200
    assert item_of(client, buyer, group_id)["last_message"]["preview"] == "[报价已拒绝] ¥120.00"


def test_a_recalled_last_message_says_who_recalled_it(client, factory, chat):
    a, b = factory.user(), factory.user()
    group_id = chat.direct(a, b)
    message = chat.send(a, group_id, "发错了")
    r = client.post(f"{API}/groups/{group_id}/messages/{message['id']}/recall", headers=a.headers)
    assert r.status_code == 200
    assert item_of(client, a, group_id)["last_message"]["preview"] == "你撤回了一条消息"
    last = item_of(client, b, group_id)["last_message"]
    assert last["preview"] == "对方撤回了一条消息" and last["id"] == message["id"]


def test_a_blocked_peer_stays_listed_marked_for_the_blocker_only(client, factory, chat, deal):
    seller, buyer, _, group_id = deal
    chat.send(buyer, group_id, "在吗")
    chat.block(seller, buyer)
    as_seller, as_buyer = item_of(client, seller, group_id), item_of(client, buyer, group_id)
    assert as_seller["peer"]["blocked"] is True and as_seller["peer"]["nickname"] == "买家小王"
    # The blocked side is not told in the list; sending says it (403 blocked), as before.
    assert as_buyer["peer"]["blocked"] is False
    assert as_seller["last_message"]["preview"] == "在吗" and as_seller["unread_count"] == 1
    r = chat.send_raw(buyer, group_id, {"client_id": "after-block", "type": "txt", "body": {"text": "?"}})
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "blocked"
    assert client.delete(f"{API}/me/blocks/{buyer.id}", headers=seller.headers).status_code == 204
    assert item_of(client, seller, group_id)["peer"]["blocked"] is False


def test_each_user_sees_only_their_own_groups(client, factory, chat):
    a, b, c = factory.user(), factory.user(), factory.user()
    ab, a_asks_c = chat.direct(a, b), chat.item_group(a, c)
    bc, c_asks_b, b_room = chat.direct(b, c), chat.item_group(c, b), chat.room(b)

    def ids(actor) -> set[int]:
        return {item["group_id"] for item in conversations(client, actor)}

    assert ids(a) == {ab, a_asks_c}
    assert ids(b) == {ab, bc, c_asks_b, b_room}
    assert ids(c) == {a_asks_c, bc, c_asks_b}
    assert client.get(f"{API}/conversations").status_code == 401


def test_peer_is_online_while_they_have_a_socket_here_and_never_across_a_block(client, live_server, chat, deal):
    seller, buyer, _, group_id = deal
    hub = live_server.app.extensions["chat_hub"]
    assert item_of(client, buyer, group_id)["peer"]["online"] is False
    ws = WsClient(live_server.ws_url, seller.token)
    try:
        ws.ready()
        assert item_of(client, buyer, group_id)["peer"]["online"] is True
        assert item_of(client, seller, group_id)["peer"]["online"] is False  # the buyer has no socket
    finally:
        ws.close()
    assert wait_until(lambda: not hub.is_online(seller.id))
    assert item_of(client, buyer, group_id)["peer"]["online"] is False
    ws = WsClient(live_server.ws_url, seller.token)
    try:
        ws.ready()
        chat.block(seller, buyer)
        assert item_of(client, buyer, group_id)["peer"]["online"] is False
    finally:
        ws.close()
