"""Sending messages over REST: shape, idempotency, permissions, verbatim text and ext."""
from __future__ import annotations

from datetime import datetime

import pytest

from tests.chat.helpers import API


def test_send_returns_the_message_with_seq_and_sender(client, factory, chat):
    buyer, seller = factory.user(nickname="小李"), factory.user()
    group_id = chat.item_group(buyer, seller)
    r = chat.send_raw(buyer, group_id, {"client_id": "m-1", "type": "txt", "body": {"text": "还在吗?"}})
    assert r.status_code == 201
    message = r.get_json()
    assert set(message) == {"id", "group_id", "seq", "sender", "type", "body", "ext", "client_id",
                            "created_at", "recalled", "reply_to", "mentions", "edited_at", "revision"}
    assert message["group_id"] == group_id and message["seq"] == 1 and message["type"] == "txt"
    assert message["sender"] == {"id": buyer.id, "nickname": "小李", "avatar_url": None}
    assert message["body"] == {"text": "还在吗?"} and message["ext"] is None
    assert message["client_id"] == "m-1" and message["recalled"] is False
    assert datetime.fromisoformat(message["created_at"]).utcoffset().total_seconds() == 0
    assert chat.send(seller, group_id, "在的")["seq"] == 2


def test_same_client_id_returns_the_first_message_not_a_copy(client, factory, chat):
    buyer, seller = factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    first = chat.send(buyer, group_id, "第一次", client_id="dup")
    again = chat.send(buyer, group_id, "第二次", client_id="dup", status=200)
    assert again == first
    # Another sender may use the same client_id: keys are per sender.
    assert chat.send(seller, group_id, "我的", client_id="dup")["seq"] == 2
    assert [m["body"]["text"] for m in chat.history(buyer, group_id)["items"]] == ["第一次", "我的"]


def test_client_id_reused_in_another_group_conflicts(client, factory, chat):
    buyer, seller = factory.user(), factory.user()
    one, two = chat.item_group(buyer, seller), chat.direct(buyer, seller)
    chat.send(buyer, one, client_id="same")
    r = chat.send_raw(buyer, two, {"client_id": "same", "type": "txt", "body": {"text": "x"}})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "client_id_reused"


@pytest.mark.parametrize("text", [
    "你好,这个还能便宜点吗?🙏🏻😂", "<script>alert('x')</script>", "'; DROP TABLE chat_messages; --",
    "  前后有空格  \n换行", "字" * 2000,
])
def test_text_is_stored_verbatim(client, factory, chat, text):
    buyer, seller = factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    assert chat.send(buyer, group_id, text)["body"]["text"] == text
    assert chat.history(seller, group_id)["items"][0]["body"]["text"] == text


def test_ext_is_kept_verbatim_and_capped_at_4kb(client, factory, chat):
    buyer, seller = factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    ext = {"card": {"listing_id": 7, "title": "宜家书架 <b>", "tags": ["九成新", 1, None, True, 2.5]}, "z": {}}
    assert chat.send(buyer, group_id, ext=ext)["ext"] == ext
    assert chat.history(buyer, group_id)["items"][0]["ext"] == ext
    # 4096 bytes of compact UTF-8 JSON is the limit: {"p":"…"} is 8 bytes of framing.
    assert chat.send(buyer, group_id, ext={"p": "a" * 4088})["seq"] == 2
    r = chat.send_raw(buyer, group_id, {"client_id": "big", "type": "txt", "body": {"text": "x"},
                                        "ext": {"p": "a" * 4089}})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "ext_too_large"
    r = chat.send_raw(buyer, group_id, {"client_id": "cjk", "type": "txt", "body": {"text": "x"},
                                        "ext": {"p": "字" * 1400}})  # 4200 bytes in UTF-8
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "ext_too_large"
    r = chat.send_raw(buyer, group_id, {"client_id": "arr", "type": "txt", "body": {"text": "x"}, "ext": [1]})
    assert r.status_code == 400


def test_ext_integers_past_64_bits_come_back_as_the_same_integers(client, factory, chat):
    buyer, seller = factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    ext = {"order_no": 10**30 + 1, "neg": -(2**70) - 3, "id": 2**63 - 1}
    assert chat.send(buyer, group_id, ext=ext)["ext"] == ext
    stored = chat.history(seller, group_id)["items"][0]["ext"]
    assert stored == ext and all(type(v) is int for v in stored.values())


def test_media_messages_accept_own_uploads(client, factory, chat):
    buyer, seller = factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    url, thumb = chat.upload(buyer), chat.upload(buyer)
    voice, clip = chat.upload(buyer, "mp3"), chat.upload(buyer, "mp4")
    bodies = [
        ("img", {"url": url, "width": 1080, "height": 1920}),
        ("img", {"url": url}),
        ("audio", {"url": voice, "duration_ms": 3500}),
        ("video", {"url": clip, "duration_ms": 15000, "thumb_url": thumb}),
        ("location", {"lat": 31.2304, "lng": 121.4737, "address": "上海市黄浦区人民广场"}),
        ("location", {"lat": -90, "lng": 180}),
        ("file", {"url": url, "name": "发票.pdf", "size": 0}),
        ("custom", {"event": "listing_card", "data": {"listing_id": 1, "nested": {"ok": [1, 2]}}}),
    ]
    for type_, body in bodies:
        assert chat.send(buyer, group_id, type=type_, body=body)["body"] == body


BAD_BODIES = [
    ("txt", {"text": ""}), ("txt", {"text": "字" * 2001}), ("txt", {"text": 5}), ("txt", {}),
    ("txt", {"text": "hi", "bold": True}), ("txt", ["hi"]),
    ("img", {"url": "https://evil.example.com/a.jpg"}), ("img", {"url": "/api/v1/uploads/nope.jpg"}),
    ("img", {"url": "OWN", "width": 0}), ("img", {"url": "OWN", "width": "100"}), ("img", {"width": 10}),
    ("audio", {"url": "OWN"}), ("audio", {"url": "OWN", "duration_ms": 1.5}),
    ("video", {"url": "OWN", "duration_ms": 10, "thumb_url": "http://x.com/t.jpg"}),
    ("location", {"lat": 90.5, "lng": 0}), ("location", {"lat": 0, "lng": -180.1}),
    ("location", {"lat": "31.2", "lng": 121}), ("location", {"lat": True, "lng": 1}),
    ("location", {"lat": 1, "lng": 1, "address": "址" * 201}),
    ("file", {"url": "OWN", "name": "a" * 256, "size": 1}), ("file", {"url": "OWN", "name": "a", "size": -1}),
    ("file", {"url": "OWN", "name": "", "size": 1}),
    ("custom", {"event": "e" * 65, "data": {}}), ("custom", {"event": "x", "data": [1]}),
    ("custom", {"event": "x"}), ("custom", {"event": "x", "data": {"p": "a" * 5000}}),
    ("system", {"text": "我是系统"}), ("offer", {"offer_id": 1, "price_cents": 100, "status": "pending"}),
    ("sticker", {"id": 1}), (None, {"text": "x"}),
]


@pytest.mark.parametrize("type_,body", BAD_BODIES)
def test_bad_bodies_are_rejected_per_type(client, factory, chat, type_, body):
    buyer, seller = factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    if isinstance(body, dict):
        body = {k: chat.upload(buyer) if v == "OWN" else v for k, v in body.items()}
    r = chat.send_raw(buyer, group_id, {"client_id": "bad", "type": type_, "body": body})
    assert r.status_code == 400, r.get_json()
    assert r.get_json()["error"]["code"] == "validation_error"
    assert set(r.get_json()["error"]["details"]["fields"]) & {"type", "body"}
    assert chat.history(buyer, group_id)["items"] == []


@pytest.mark.parametrize("payload", [
    {"type": "txt", "body": {"text": "x"}},
    {"client_id": "", "type": "txt", "body": {"text": "x"}},
    {"client_id": "c" * 65, "type": "txt", "body": {"text": "x"}},
    {"client_id": "c", "type": "txt", "body": {"text": "x"}, "sender_id": 1},
    {"client_id": "c", "type": "txt", "body": {"text": "x"}, "seq": 99},
])
def test_bad_envelopes_are_rejected(client, factory, chat, payload):
    buyer, seller = factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    r = chat.send_raw(buyer, group_id, payload)
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "validation_error"


def test_blocked_users_cannot_send_in_their_shared_item_group(client, factory, chat):
    buyer, seller = factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    chat.send(buyer, group_id, "在吗")
    chat.block(seller, buyer)
    for actor in (buyer, seller):
        r = chat.send_raw(actor, group_id, {"client_id": "after-block", "type": "txt", "body": {"text": "x"}})
        assert r.status_code == 403 and r.get_json()["error"]["code"] == "blocked"
    assert client.delete(f"{API}/me/blocks/{buyer.id}", headers=seller.headers).status_code == 204
    assert chat.send(buyer, group_id, "解除了")["seq"] == 2


def test_blocked_users_cannot_send_in_their_direct_group(client, factory, chat):
    a, b, c = factory.user(), factory.user(), factory.user()
    # ids of different lengths: the direct group's key "low:high" is split right on both databases
    while len(str(c.id)) == len(str(a.id)):
        c = factory.user()
    group_id, other = chat.direct(a, b), chat.direct(a, c)
    chat.block(a, b)
    for sender in (a, b):
        r = chat.send_raw(sender, group_id, {"client_id": f"x{sender.id}", "type": "txt", "body": {"text": "x"}})
        assert r.status_code == 403 and r.get_json()["error"]["code"] == "blocked"
    assert chat.send_raw(c, other, {"client_id": "y", "type": "txt", "body": {"text": "y"}}).status_code == 201
    chat.block(c, a)
    r = chat.send_raw(a, other, {"client_id": "z", "type": "txt", "body": {"text": "z"}})
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "blocked"


def test_send_needs_auth_and_an_existing_group(client, factory, chat):
    buyer = factory.user()
    assert client.post(f"{API}/groups/1/messages", json={}).status_code == 401
    r = chat.send_raw(buyer, 424242, {"client_id": "x", "type": "txt", "body": {"text": "x"}})
    assert r.status_code == 404


def test_invalid_json_is_400(client, factory, chat):
    buyer, seller = factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    r = client.post(f"{API}/groups/{group_id}/messages", data="{not json", headers={
        **buyer.headers, "Content-Type": "application/json"})
    assert r.status_code == 400
