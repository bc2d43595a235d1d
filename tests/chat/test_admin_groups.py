"""Admin groups and rooms: admins only, list and open any group, create direct/item chats and rooms,
add members, appoint room admins, remove members (with `member` events on /ws), all audit-logged."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from core.db import db
from marketplace.models import AuditEntry
from tests.chat.helpers import API

ROUTES = [
    ("get", "/admin/groups"), ("post", "/admin/groups"), ("post", "/admin/rooms"), ("get", "/admin/groups/1"),
    ("post", "/admin/groups/1/members"), ("delete", "/admin/groups/1/members/1"),
    ("post", "/admin/groups/1/messages"), ("get", "/admin/groups/1/messages"),
]


def audit(app) -> list[tuple[str, int | None, dict]]:
    with app.app_context():
        rows = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        db.remove()
    return [(e.action, e.target_id, e.details) for e in rows]


@pytest.mark.parametrize("method, path", ROUTES)
def test_every_admin_chat_route_is_401_anonymous_and_403_for_users(client, factory, chat, method, path):
    user = factory.user()
    chat.room(user)  # group 1 exists, and the user owns it: still not an admin
    assert getattr(client, method)(API + path, json={}).status_code == 401
    r = getattr(client, method)(API + path, json={}, headers=user.headers)
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "forbidden"


def test_admin_lists_every_group_with_filters_and_member_counts(client, factory, chat):
    admin, seller, buyer, other = factory.admin(), factory.user(), factory.user(), factory.user()
    item = chat.inquiry(buyer, chat.listing(seller, title="宜家书架 九成新"))["id"]
    direct = chat.direct(seller, other)
    room = chat.room(other, name="上海二手群")

    def page(**params):
        r = client.get(f"{API}/admin/groups", query_string=params, headers=admin.headers)
        assert r.status_code == 200, r.get_json()
        return r.get_json()

    everything = page()
    assert everything["total"] == 3 and {g["id"] for g in everything["items"]} == {item, direct, room}
    by_id = {g["id"]: g for g in everything["items"]}
    assert by_id[item]["listing"]["title"] == "宜家书架 九成新" and by_id[item]["member_count"] == 2
    assert by_id[room]["member_count"] == 1 and by_id[room]["listing"] is None
    assert [g["id"] for g in page(kind="room")["items"]] == [room]
    assert [g["id"] for g in page(q="书架")["items"]] == [item]
    assert [g["id"] for g in page(q="二手群")["items"]] == [room]
    assert {g["id"] for g in page(user_id=seller.id)["items"]} == {item, direct}
    assert page(q="100%")["total"] == 0
    bad = client.get(f"{API}/admin/groups", query_string={"kind": "club"}, headers=admin.headers)
    assert bad.status_code == 400


def test_admin_opens_any_group_with_its_members(client, factory, chat):
    admin, seller, buyer = factory.admin(), factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    r = client.get(f"{API}/admin/groups/{group_id}", headers=admin.headers)
    assert r.status_code == 200
    assert {m["user"]["id"] for m in r.get_json()["members"]} == {seller.id, buyer.id}
    assert client.get(f"{API}/admin/groups/999", headers=admin.headers).status_code == 404


def test_admin_creates_a_direct_chat_once_and_its_members_hear_of_it(client, factory, ws_ready):
    admin, a, b = factory.admin(), factory.user(), factory.user()
    a_ws = ws_ready(a)
    r = client.post(f"{API}/admin/groups", json={"kind": "direct", "user_ids": [a.id, b.id], "name": "测试会话"},
                    headers=admin.headers)
    assert r.status_code == 201, r.get_json()
    group = r.get_json()
    assert group["kind"] == "direct" and group["name"] == "测试会话" and group["member_count"] == 2
    event = a_ws.op("event")
    assert event["type"] == "group" and event["data"] == {"group_id": group["id"], "kind": "direct",
                                                          "action": "created"}
    again = client.post(f"{API}/admin/groups", json={"kind": "direct", "user_ids": [b.id, a.id]},
                        headers=admin.headers)
    assert again.status_code == 200 and again.get_json()["id"] == group["id"]
    # the users' own direct chat is that same group
    assert client.post(f"{API}/users/{b.id}/direct", headers=a.headers).get_json()["id"] == group["id"]
    assert [a for a, _, _ in audit(client.application)] == ["group.create"]


def test_admin_creates_an_item_chat_for_a_buyer(client, factory, chat):
    admin, seller, buyer = factory.admin(), factory.user(), factory.user()
    listing_id = chat.listing(seller)
    r = client.post(f"{API}/admin/groups", json={"kind": "item", "listing_id": listing_id, "buyer_id": buyer.id},
                    headers=admin.headers)
    assert r.status_code == 201 and r.get_json()["listing"]["id"] == listing_id
    assert chat.inquiry(buyer, listing_id)["id"] == r.get_json()["id"]


@pytest.mark.parametrize("body, status", [
    ({"kind": "direct", "user_ids": ["S"]}, 400),
    ({"kind": "direct", "user_ids": ["S", "S"]}, 400),
    ({"kind": "direct", "user_ids": ["S", 999]}, 400),
    ({"kind": "direct"}, 400),
    ({"kind": "item", "listing_id": "L"}, 400),
    ({"kind": "item", "listing_id": 999, "buyer_id": "S"}, 400),
    ({"kind": "item", "listing_id": "L", "buyer_id": "S"}, 409),  # the seller as buyer
    ({"kind": "room", "name": "x"}, 400),
])
def test_bad_group_creations_are_refused(client, factory, chat, body, status):
    admin, seller = factory.admin(), factory.user()
    ids = {"S": seller.id, "L": chat.listing(seller)}
    body = {k: [ids.get(v, v) for v in val] if isinstance(val, list) else ids.get(val, val) for k, val in body.items()}
    r = client.post(f"{API}/admin/groups", json=body, headers=admin.headers)
    assert r.status_code == status, r.get_json()
    assert audit(client.application) == []


def test_admin_creates_a_room_and_manages_its_members_and_admins(client, factory, ws_ready):
    admin, alice, bob = factory.admin(), factory.user(), factory.user()
    r = client.post(f"{API}/admin/rooms", json={"name": "闲置交流", "description": "欢迎"}, headers=admin.headers)
    assert r.status_code == 201, r.get_json()
    room = r.get_json()
    assert room["kind"] == "room" and [(m["user"]["id"], m["role"]) for m in room["members"]] == [(admin.id, "owner")]
    alice_ws = ws_ready(alice)

    def put_member(user_id, **extra):
        return client.post(f"{API}/admin/groups/{room['id']}/members", json={"user_id": user_id, **extra},
                           headers=admin.headers)

    added = put_member(alice.id)
    assert added.status_code == 201 and added.get_json()["role"] == "member"
    assert alice_ws.op("event")["data"] == {"group_id": room["id"], "user_id": alice.id, "role": "member",
                                            "action": "added"}
    promoted = put_member(alice.id, role="admin")
    assert promoted.status_code == 200 and promoted.get_json()["role"] == "admin"
    assert alice_ws.op("event")["data"]["action"] == "role_changed"
    assert put_member(alice.id, role="admin").status_code == 200  # no change: no event, no audit
    assert put_member(bob.id).status_code == 201
    assert alice_ws.op("event")["data"] == {"group_id": room["id"], "user_id": bob.id, "role": "member",
                                            "action": "added"}
    # appointed room admins moderate: alice may recall bob's message
    sent = client.post(f"{API}/groups/{room['id']}/messages", headers=bob.headers,
                       json={"client_id": "b1", "type": "txt", "body": {"text": "出闲置"}}).get_json()
    recall = client.post(f"{API}/groups/{room['id']}/messages/{sent['id']}/recall", headers=alice.headers)
    assert recall.status_code == 200

    removed = client.delete(f"{API}/admin/groups/{room['id']}/members/{alice.id}", headers=admin.headers)
    assert removed.status_code == 204
    gone = alice_ws.recv_until(lambda f: f.get("type") == "member" and f["data"]["action"] == "removed")
    assert gone["data"] == {"group_id": room["id"], "user_id": alice.id, "role": None, "action": "removed"}
    detail = client.get(f"{API}/admin/groups/{room['id']}", headers=admin.headers).get_json()
    assert {m["user"]["id"] for m in detail["members"]} == {admin.id, bob.id}
    assert [a for a, _, _ in audit(client.application)] == [
        "room.create", "group.member_add", "group.member_role", "group.member_add", "group.member_remove"]


def test_member_changes_are_refused_where_they_make_no_sense(client, factory, chat):
    admin, seller, buyer, other = factory.admin(), factory.user(), factory.user(), factory.user()
    item = chat.item_group(buyer, seller)
    room = chat.room(seller)

    def post(group_id, body):
        return client.post(f"{API}/admin/groups/{group_id}/members", json=body, headers=admin.headers)

    assert post(item, {"user_id": other.id}).get_json()["error"]["code"] == "fixed_membership"
    assert post(room, {"user_id": seller.id, "role": "member"}).get_json()["error"]["code"] == "owner_role"
    assert post(room, {"user_id": other.id, "role": "owner"}).status_code == 400
    assert post(room, {"user_id": 999}).status_code == 400
    assert post(999, {"user_id": other.id}).status_code == 404
    delete = client.delete
    assert delete(f"{API}/admin/groups/{room}/members/{other.id}", headers=admin.headers).status_code == 404
    owner = delete(f"{API}/admin/groups/{room}/members/{seller.id}", headers=admin.headers)
    assert owner.status_code == 409 and owner.get_json()["error"]["code"] == "owner_cannot_leave"
    assert delete(f"{API}/admin/groups/{item}/members/{buyer.id}", headers=admin.headers).status_code == 409
    assert audit(client.application) == []
