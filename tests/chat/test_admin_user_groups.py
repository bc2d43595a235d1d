"""The console on user groups: create one with an owner and members, add a member, appoint an admin,
post a test message, mute, remove and dissolve, all audit-logged; members hear it like any change."""
from __future__ import annotations

from tests.chat.helpers import API
from tests.chat.test_admin_groups import audit


def test_console_creates_a_group_adds_demo2_and_posts_a_test_message(client, factory, chat, ws_ready):
    admin, demo1, demo2 = factory.admin(), factory.user(nickname="demo1"), factory.user(nickname="demo2")
    r = client.post(f"{API}/admin/groups", json={"kind": "group", "name": "测试群", "owner_id": demo1.id},
                    headers=admin.headers)
    assert r.status_code == 201, r.get_json()
    group = r.get_json()
    assert group["kind"] == "group" and group["member_count"] == 1
    assert [(m["user"]["id"], m["role"]) for m in group["members"]] == [(demo1.id, "owner")]
    demo2_ws = ws_ready(demo2)
    r = client.post(f"{API}/admin/groups/{group['id']}/members", json={"user_id": demo2.id}, headers=admin.headers)
    assert r.status_code == 201 and r.get_json()["role"] == "member"
    r = client.post(f"{API}/admin/groups/{group['id']}/messages", json={"type": "txt", "body": {"text": "测试消息"}},
                    headers=admin.headers)
    assert r.status_code == 201
    frames = demo2_ws.flush()
    assert [f["type"] for f in frames if f["op"] == "event"] == ["member_joined"]
    assert [f["message"]["body"]["text"] for f in frames if f["op"] == "message"][-1] == "测试消息"
    assert [m["body"]["text"] for m in chat.history(demo2, group["id"])["items"]][-1] == "测试消息"
    r = client.post(f"{API}/admin/groups/{group['id']}/members", json={"user_id": demo2.id, "role": "admin"},
                    headers=admin.headers)
    assert r.status_code == 200 and r.get_json()["role"] == "admin"
    r = client.post(f"{API}/admin/groups/{group['id']}/members/{demo1.id}/mute", json={"seconds": 60},
                    headers=admin.headers)
    assert r.status_code == 200 and chat.send(demo1, group["id"], "hi", status=403)["error"]["code"] == "muted"
    assert client.delete(f"{API}/admin/groups/{group['id']}/members/{demo2.id}", headers=admin.headers).status_code == 204
    assert client.delete(f"{API}/admin/groups/{group['id']}", headers=admin.headers).status_code == 204
    assert client.get(f"{API}/groups/{group['id']}", headers=demo1.headers).status_code == 404
    actions = [a for a, target, _ in audit(client.application) if target == group["id"]]
    assert actions == ["group.create", "group.member_add", "group.message_post", "group.member_role",
                       "group.member_mute", "group.member_remove", "group.dissolve"]


def test_console_group_creation_is_validated(client, factory):
    admin, user = factory.admin(), factory.user()
    for payload in ({"kind": "group", "owner_id": user.id}, {"kind": "group", "name": "群"},
                    {"kind": "group", "name": "群", "owner_id": user.id, "user_ids": ["x"]},
                    {"kind": "direct", "user_ids": [user.id]}, {"kind": "direct", "user_ids": [user.id, user.id]}):
        r = client.post(f"{API}/admin/groups", json=payload, headers=admin.headers)
        assert r.status_code == 400 and r.get_json()["error"]["code"] == "validation_error", payload
    r = client.post(f"{API}/admin/groups", json={"kind": "group", "name": "群", "owner_id": 999999},
                    headers=admin.headers)
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "unknown_user"
    room = client.post(f"{API}/admin/rooms", json={"name": "房间"}, headers=admin.headers).get_json()["id"]
    assert client.delete(f"{API}/admin/groups/{room}", headers=admin.headers).status_code == 404
