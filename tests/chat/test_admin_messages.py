"""Admin messages: a `system` or test message into any group, delivered live over /ws and through sync,
and reading any group's history, each read audit-logged."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from core.db import db
from marketplace.models import AuditEntry
from tests.chat.helpers import API, put_keyword_rules
from tests.support.wsclient import WsClient


def post(client, admin, group_id, body):
    return client.post(f"{API}/admin/groups/{group_id}/messages", json=body, headers=admin.headers)


def audit(app, action: str) -> list[AuditEntry]:
    with app.app_context():
        rows = db.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)).all()
        db.remove()
    return list(rows)


def test_a_test_message_from_a_non_member_admin_reaches_the_buyers_socket(client, factory, chat, ws_ready,
                                                                         live_server):
    admin, seller, buyer = factory.admin(), factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    buyer_ws = ws_ready(buyer)
    hello_cursor = buyer_ws.seen[0]["cursor"]
    r = post(client, admin, group_id, {"type": "txt", "body": {"text": "客服测试消息"}, "ext": {"k": 1}})
    assert r.status_code == 201, r.get_json()
    sent = r.get_json()
    assert sent["sender"]["id"] == admin.id and sent["seq"] == 1 and sent["ext"] == {"k": 1}
    pushed = buyer_ws.op("message")
    assert pushed["message"] == sent and pushed["cursor"]
    # ... and through sync from another device, like any message
    other_device = WsClient(live_server.ws_url, buyer.token)
    try:
        other_device.hello()
        assert [f["message"]["id"] for f in other_device.sync(hello_cursor)] == [sent["id"]]
    finally:
        other_device.close()
    assert chat.history(seller, group_id)["items"] == [{**sent, "reactions": []}]
    [entry] = audit(client.application, "group.message_post")
    assert (entry.actor_id, entry.target_type, entry.target_id) == (admin.id, "group", group_id)
    assert entry.details == {"message_id": sent["id"], "seq": 1, "type": "txt"}


def test_a_system_message_has_no_sender_and_reaches_a_read_only_group(client, factory, chat, ws_ready):
    admin, seller, buyer = factory.admin(), factory.user(), factory.user()
    listing_id = chat.listing(seller)
    group_id = chat.inquiry(buyer, listing_id)["id"]
    chat.set_status(listing_id, "removed")  # the group is read-only now (and got its own notice)
    seller_ws = ws_ready(seller)
    r = post(client, admin, group_id, {"type": "system", "body": {"text": "平台已介入处理本次纠纷"}})
    assert r.status_code == 201, r.get_json()
    message = r.get_json()
    assert message["sender"] is None and message["type"] == "system" and message["seq"] == 2
    assert seller_ws.op("message")["message"] == message


def test_a_room_test_message_is_live_for_its_members(client, factory, chat, ws_ready):
    admin, owner = factory.admin(), factory.user()
    room = chat.room(owner)
    owner_ws = ws_ready(owner)
    sent = post(client, admin, room, {"type": "txt", "body": {"text": "公告测试"}}).get_json()
    frame = owner_ws.op("message")
    assert frame["message"] == sent and "cursor" not in frame


def test_admin_messages_are_not_subject_to_keyword_rules(client, factory, chat):
    admin, seller, buyer = factory.admin(), factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    put_keyword_rules(client, admin, [{"pattern": "刷单", "kind": "word", "action": "block"}])
    r = post(client, admin, group_id, {"type": "system", "body": {"text": "警惕刷单诈骗"}})
    assert r.status_code == 201


@pytest.mark.parametrize("body, field", [
    ({"type": "system", "body": {}}, "body"),
    ({"type": "system", "body": {"text": "x" * 2001}}, "body"),
    ({"type": "offer", "body": {"price_cents": 1}}, "type"),
    ({"type": "sticker", "body": {}}, "type"),
    ({"type": "txt", "body": {"text": ""}}, "body"),
    ({"type": "txt", "body": {"text": "hi"}, "ext": {"x": "y" * 5000}}, "ext"),
    ({"type": "system", "body": {"text": "hi"}, "ext": {"x": "y" * 5000}}, "ext"),
    ({"type": "txt", "body": {"text": "hi"}, "client_id": "c1"}, "client_id"),
])
def test_bad_admin_messages_are_400_and_store_nothing(client, factory, chat, body, field):
    admin, seller, buyer = factory.admin(), factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    r = post(client, admin, group_id, body)
    assert r.status_code == 400 and field in str(r.get_json()["error"]["details"]), r.get_json()
    assert chat.history(buyer, group_id)["items"] == []
    assert audit(client.application, "group.message_post") == []


def test_posting_into_a_missing_group_is_404(client, factory):
    r = post(client, factory.admin(), 999, {"type": "system", "body": {"text": "hi"}})
    assert r.status_code == 404


def test_admin_reads_any_groups_history_and_each_read_is_audited(client, factory, chat):
    admin, seller, buyer = factory.admin(), factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    for i in range(5):
        chat.send(buyer if i % 2 else seller, group_id, f"消息{i}")

    def read(**params):
        r = client.get(f"{API}/admin/groups/{group_id}/messages", query_string=params, headers=admin.headers)
        assert r.status_code == 200, r.get_json()
        return r.get_json()

    newest = read(limit=2)
    assert [m["seq"] for m in newest["items"]] == [4, 5] and newest["next_cursor"] == "4"
    assert [m["seq"] for m in read(before_seq=4)["items"]] == [1, 2, 3]
    assert [m["seq"] for m in read(after_seq=3, limit=10)["items"]] == [4, 5]
    assert read(after_seq=5)["items"] == []
    entries = audit(client.application, "group.history_read")
    assert [(e.actor_id, e.target_type, e.target_id) for e in entries] == [(admin.id, "group", group_id)] * 4
    assert entries[0].details == {"kind": "item", "before_seq": None, "after_seq": None, "limit": 2,
                                  "seq_range": [4, 5]}
    assert entries[3].details["seq_range"] is None


def test_history_of_a_missing_group_is_404_and_bad_bounds_400_neither_audited(client, factory):
    admin = factory.admin()
    assert client.get(f"{API}/admin/groups/999/messages", headers=admin.headers).status_code == 404
    bad = client.get(f"{API}/admin/groups/1/messages", query_string={"limit": 0}, headers=admin.headers)
    assert bad.status_code == 400
    assert audit(client.application, "group.history_read") == []
