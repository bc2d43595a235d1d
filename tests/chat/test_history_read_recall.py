"""History paging, read markers, recall, and 404 for outsiders on every group endpoint."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from chat.models import ChatMember, ChatMessage
from core.db import db, utcnow
from tests.chat.helpers import API


@pytest.fixture
def talk(factory, chat):
    """An item group with 7 messages, alternating buyer and seller: texts m1..m7."""
    buyer, seller = factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    for i in range(1, 8):
        chat.send(buyer if i % 2 else seller, group_id, f"m{i}")
    return buyer, seller, group_id


def _texts(page: dict) -> list[str]:
    return [m["body"]["text"] for m in page["items"]]


def test_history_pages_backwards_from_the_newest(chat, talk):
    buyer, _, group_id = talk
    page = chat.history(buyer, group_id, limit=3)
    assert _texts(page) == ["m5", "m6", "m7"] and page["next_cursor"] == "5"
    page = chat.history(buyer, group_id, limit=3, before_seq=page["next_cursor"])
    assert _texts(page) == ["m2", "m3", "m4"] and page["next_cursor"] == "2"
    page = chat.history(buyer, group_id, limit=3, before_seq=page["next_cursor"])
    assert _texts(page) == ["m1"] and page["next_cursor"] is None


def test_history_pages_forwards_after_a_seq(chat, talk):
    buyer, _, group_id = talk
    page = chat.history(buyer, group_id, limit=3, after_seq=0)
    assert _texts(page) == ["m1", "m2", "m3"] and page["next_cursor"] == "3"
    page = chat.history(buyer, group_id, limit=3, after_seq=page["next_cursor"])
    assert _texts(page) == ["m4", "m5", "m6"] and page["next_cursor"] == "6"
    page = chat.history(buyer, group_id, limit=3, after_seq=page["next_cursor"])
    assert _texts(page) == ["m7"] and page["next_cursor"] is None
    page = chat.history(buyer, group_id, after_seq=2, before_seq=6)
    assert _texts(page) == ["m3", "m4", "m5"] and page["next_cursor"] is None
    assert [m["seq"] for m in chat.history(buyer, group_id)["items"]] == list(range(1, 8))


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "limit=abc", "before_seq=0", "after_seq=-1",
                                   "after_seq=1.5"])
def test_history_rejects_bad_arguments(client, talk, query):
    buyer, _, group_id = talk
    r = client.get(f"{API}/groups/{group_id}/messages?{query}", headers=buyer.headers)
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "validation_error"


def _read(client, actor, group_id, seq):
    return client.post(f"{API}/groups/{group_id}/read", json={"seq": seq}, headers=actor.headers)


def _unread(client, actor, group_id) -> int:
    return client.get(f"{API}/groups/{group_id}", headers=actor.headers).get_json()["unread_count"]


def test_read_marker_only_moves_forward(client, talk):
    buyer, seller, group_id = talk  # the seller's last own message is m6
    assert _unread(client, seller, group_id) == 1
    assert _read(client, seller, group_id, 7).status_code == 204
    assert _unread(client, seller, group_id) == 0
    assert _read(client, seller, group_id, 3).status_code == 204
    detail = client.get(f"{API}/groups/{group_id}", headers=seller.headers).get_json()
    assert detail["last_read_seq"] == 7 and detail["unread_count"] == 0


def test_read_marker_beyond_the_last_message_or_malformed_is_400(client, talk):
    buyer, _, group_id = talk
    r = _read(client, buyer, group_id, 8)
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "seq_out_of_range"
    for bad in (-1, "7", 1.5, None):
        assert _read(client, buyer, group_id, bad).status_code == 400
    r = client.post(f"{API}/groups/{group_id}/read", json={"seq": 1, "extra": 1}, headers=buyer.headers)
    assert r.status_code == 400


def test_sending_moves_the_senders_read_marker(client, factory, chat):
    buyer, seller = factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    chat.send(seller, group_id, "一")
    chat.send(seller, group_id, "二")
    assert _unread(client, buyer, group_id) == 2
    chat.send(buyer, group_id, "三")
    assert _unread(client, buyer, group_id) == 0 and _unread(client, seller, group_id) == 1


def _recall(client, actor, group_id, message_id):
    return client.post(f"{API}/groups/{group_id}/messages/{message_id}/recall", headers=actor.headers)


def _age(app, message_id: int, seconds: int) -> None:
    with app.app_context(), db.transaction() as s:
        s.execute(update(ChatMessage).where(ChatMessage.id == message_id)
                  .values(created_at=utcnow() - timedelta(seconds=seconds)))


def test_sender_recalls_within_two_minutes_and_everyone_sees_it_emptied(client, factory, chat):
    buyer, seller = factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    message = chat.send(buyer, group_id, "发错了", ext={"card": 1})
    _age(client.application, message["id"], 110)
    r = _recall(client, buyer, group_id, message["id"])
    assert r.status_code == 200
    recalled = r.get_json()
    assert recalled["recalled"] is True and recalled["body"] == {} and recalled["ext"] is None
    assert recalled["id"] == message["id"] and recalled["seq"] == message["seq"]
    assert chat.history(seller, group_id)["items"][0] == {**recalled, "reactions": []}
    again = _recall(client, buyer, group_id, message["id"])
    assert again.status_code == 200 and again.get_json() == recalled


def test_sender_cannot_recall_after_two_minutes_nor_others_messages(client, factory, chat):
    buyer, seller = factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    old = chat.send(buyer, group_id, "很久以前")
    fresh = chat.send(buyer, group_id, "刚刚")
    _age(client.application, old["id"], 121)
    r = _recall(client, buyer, group_id, old["id"])
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "recall_window_passed"
    r = _recall(client, seller, group_id, fresh["id"])
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "not_sender"
    assert _texts(chat.history(seller, group_id)) == ["很久以前", "刚刚"]
    assert _recall(client, buyer, group_id, 987654).status_code == 404


def test_admins_recall_any_message_at_any_time(client, factory, chat):
    buyer, seller, admin = factory.user(), factory.user(), factory.admin()
    group_id = chat.item_group(buyer, seller)
    message = chat.send(buyer, group_id, "违规内容")
    _age(client.application, message["id"], 3600)
    r = _recall(client, admin, group_id, message["id"])
    assert r.status_code == 200 and r.get_json()["recalled"] is True


def test_an_admins_recall_is_audit_logged_once(client, factory, chat):
    buyer, seller, admin = factory.user(), factory.user(), factory.admin()
    group_id = chat.item_group(buyer, seller)
    message = chat.send(buyer, group_id, "违规内容")
    assert _recall(client, admin, group_id, message["id"]).status_code == 200
    assert _recall(client, admin, group_id, message["id"]).status_code == 200  # already recalled: nothing done
    mine = chat.send(seller, group_id, "发错了")
    assert _recall(client, seller, group_id, mine["id"]).status_code == 200  # a user's own recall: no admin action
    entries = client.get(f"{API}/admin/audit", headers=admin.headers).get_json()["items"]
    assert [(e["action"], e["target_type"], e["target_id"], e["actor"]["id"]) for e in entries] == [
        ("message.recall", "message", message["id"], admin.id)]
    assert entries[0]["details"] == {"group_id": group_id, "seq": message["seq"], "sender_id": buyer.id}


def test_room_owner_recalls_members_messages(client, factory, chat):
    owner, member = factory.user(), factory.user()
    room = chat.room(owner)
    client.post(f"{API}/rooms/{room}/join", headers=member.headers)
    message = chat.send(member, room, "广告")
    _age(client.application, message["id"], 600)
    assert _recall(client, owner, room, message["id"]).status_code == 200
    mine = chat.send(owner, room, "群公告")
    assert _recall(client, member, room, mine["id"]).status_code == 403


def test_outsiders_get_404_on_every_group_endpoint(client, factory, chat):
    buyer, seller, outsider = factory.user(), factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    message = chat.send(buyer, group_id, "私聊")
    calls = [
        client.get(f"{API}/groups/{group_id}", headers=outsider.headers),
        client.get(f"{API}/groups/{group_id}/messages", headers=outsider.headers),
        chat.send_raw(outsider, group_id, {"client_id": "o", "type": "txt", "body": {"text": "x"}}),
        _read(client, outsider, group_id, 1),
        _recall(client, outsider, group_id, message["id"]),
    ]
    assert [r.status_code for r in calls] == [404] * 5
    assert all(r.get_json()["error"]["code"] == "not_found" for r in calls)
    with client.application.app_context():
        assert db.session.scalar(select(ChatMember).where(ChatMember.user_id == outsider.id)) is None
        assert db.session.scalar(select(ChatMessage.recalled_at).where(ChatMessage.id == message["id"])) is None


def test_recall_of_a_message_from_another_group_is_404(client, factory, chat):
    buyer, seller = factory.user(), factory.user()
    one, two = chat.item_group(buyer, seller), chat.direct(buyer, seller)
    message = chat.send(buyer, one, "x")
    assert _recall(client, buyer, two, message["id"]).status_code == 404
