"""Keyword rules on chat messages: `block` refuses (REST and /ws, nothing stored), `mask` rewrites,
phone numbers and WeChat ids go through with one off-platform notice per group per window."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from chat.messages import screening
from chat.messages.screening import (
    NOTICE_EVERY,
    OFF_PLATFORM_EXT,
    OFF_PLATFORM_NOTICE,
    has_contact,
)
from chat.models import ChatGroup, ChatMessage
from core.db import db
from tests.chat.helpers import put_keyword_rules

RULES = [
    {"pattern": "刷单", "kind": "word", "action": "block"},
    {"pattern": r"代\s*开\s*发票", "kind": "regex", "action": "block", "applies_to": ["message"]},
    {"pattern": "傻瓜", "kind": "word", "action": "mask"},
    {"pattern": "高仿", "kind": "word", "action": "review"},
]


@pytest.fixture
def rules(client, factory):
    return put_keyword_rules(client, factory.admin(), RULES)


def _stored(app, group_id: int) -> tuple[int, int]:
    """(message rows, last_seq) of a group."""
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(ChatMessage).where(ChatMessage.group_id == group_id))
        last_seq = db.session.get(ChatGroup, group_id).last_seq
        db.remove()
    return count, last_seq


def test_a_blocked_message_is_refused_over_rest_and_nothing_is_stored(client, factory, chat, rules):
    seller, buyer = factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    chat.send(buyer, group_id, "在吗")
    for text in ("能帮我刷单吗", "可以代 开 发票", "ＳＨＵＡ刷单"):
        r = chat.send_raw(buyer, group_id, {"client_id": f"blocked-{text}", "type": "txt", "body": {"text": text}})
        assert r.status_code == 403, r.get_json()
        assert r.get_json()["error"]["code"] == "content_blocked"
        assert r.get_json()["error"]["details"] == {"field": "body.text", "request_id": r.headers["X-Request-ID"]}
    assert _stored(client.application, group_id) == (1, 1)
    assert chat.send(buyer, group_id, "正常聊天")["seq"] == 2  # seq unchanged by the refused ones


def test_a_blocked_message_on_the_socket_gets_an_error_frame_and_nothing_reaches_the_peer(
        client, factory, chat, rules, ws_ready):
    seller, buyer = factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    buyer_ws, seller_ws = ws_ready(buyer), ws_ready(seller)
    buyer_ws.send_text(group_id, "一起刷单赚钱", "ws-blocked")
    error = buyer_ws.op("error")
    assert error["client_id"] == "ws-blocked" and error["error"]["code"] == "content_blocked"
    buyer_ws.send_text(group_id, "你好", "ws-ok")
    assert buyer_ws.op("ack")["message"]["seq"] == 1
    frames = seller_ws.flush()
    assert [f["message"]["body"]["text"] for f in frames if f["op"] == "message"] == ["你好"]
    assert _stored(client.application, group_id) == (1, 1)


def test_a_masked_word_is_delivered_with_stars_per_character(factory, chat, rules, ws_ready):
    seller, buyer = factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    seller_ws = ws_ready(seller)
    sent = chat.send(buyer, group_id, "你这个傻瓜,高仿也卖")
    assert sent["body"] == {"text": "你这个**,高仿也卖"}  # review rules do not touch messages
    pushed = seller_ws.op("message")["message"]
    assert pushed["body"] == sent["body"]
    assert chat.history(seller, group_id)["items"][-1]["body"] == sent["body"]


def test_rules_apply_to_file_names_and_location_addresses(factory, chat, rules):
    seller, buyer = factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    url = chat.upload(buyer, "pdf")
    r = chat.send_raw(buyer, group_id, {"client_id": "f1", "type": "file",
                                        "body": {"url": url, "name": "刷单教程.pdf", "size": 10}})
    assert r.status_code == 403 and r.get_json()["error"]["details"] == {"field": "body.name", "request_id": r.headers["X-Request-ID"]}
    loc = chat.send(buyer, group_id, type="location", body={"lat": 31.2, "lng": 121.4, "address": "傻瓜路1号"})
    assert loc["body"]["address"] == "**路1号"


@pytest.mark.parametrize("text", [
    "电话13812345678", "打我 138 1234 5678", "+86 139-1234-5678", "手机:１３９１２３４５６７８",
    "加微信 abc_123456", "vx:Paipai2024", "ＶＸ：ｐａｉｐａｉ８８", "v信 seller_sh01", "wechat zhangsan88",
])
def test_contact_details_are_detected(text):
    assert has_contact(text)


@pytest.mark.parametrize("text", [
    "价格1380元", "订单号 123456789012", "12812345678", "微信支付可以吗", "wxyz123", "尺寸 138x12x34",
])
def test_ordinary_numbers_and_words_are_not_contact_details(text):
    assert not has_contact(text)


def test_a_phone_number_goes_through_and_the_group_gets_one_notice_per_window(client, factory, chat, ws_ready):
    seller, buyer = factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    seller_ws = ws_ready(seller)
    sent = chat.send(buyer, group_id, "加我微信 paipai_2024 细聊")
    assert sent["body"] == {"text": "加我微信 paipai_2024 细聊"} and sent["seq"] == 1
    chat.send(buyer, group_id, "或者打 138-1234-5678")  # within the window: no second notice
    frames = [f["message"] for f in seller_ws.flush() if f["op"] == "message"]
    assert [(m["seq"], m["type"], m["sender"] and m["sender"]["id"]) for m in frames] == [
        (1, "txt", buyer.id), (2, "system", None), (3, "txt", buyer.id)]
    assert frames[1]["body"] == {"text": OFF_PLATFORM_NOTICE} and frames[1]["ext"] == OFF_PLATFORM_EXT
    # Once the window has passed, the next contact detail gets a fresh notice.
    with client.application.app_context(), db.transaction() as s:
        notice = s.get(ChatMessage, frames[1]["id"])
        notice.created_at = notice.created_at - NOTICE_EVERY
    chat.send(seller, group_id, "wx: seller_sh01")
    assert [m["type"] for m in chat.history(buyer, group_id)["items"]] == ["txt", "system", "txt", "txt", "system"]


def test_a_contact_detail_in_a_blocked_message_posts_no_notice(client, factory, chat, rules):
    seller, buyer = factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    r = chat.send_raw(buyer, group_id, {"client_id": "x", "type": "txt", "body": {"text": "刷单加vx abc12345"}})
    assert r.status_code == 403
    assert _stored(client.application, group_id) == (0, 0)


def test_a_failing_notice_does_not_fail_the_send_it_follows(factory, chat, monkeypatch):
    seller, buyer = factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)

    def broken(*_args, **_kw):
        raise RuntimeError("notice lookup failed")

    monkeypatch.setattr(screening, "notice_is_recent", broken)
    assert chat.send(buyer, group_id, "电话 13812345678")["seq"] == 1
    assert [m["type"] for m in chat.history(buyer, group_id)["items"]] == ["txt"]


def test_a_retry_of_a_message_stored_before_a_block_rule_gets_its_stored_copy(client, factory, chat):
    seller, buyer = factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    first = chat.send(buyer, group_id, "能帮我刷单吗", client_id="before-rule")
    put_keyword_rules(client, factory.admin(), RULES)
    again = chat.send(buyer, group_id, "能帮我刷单吗", client_id="before-rule", status=200)
    assert again["id"] == first["id"] and again["seq"] == first["seq"]
    r = chat.send_raw(buyer, group_id, {"client_id": "after-rule", "type": "txt", "body": {"text": "能帮我刷单吗"}})
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "content_blocked"
