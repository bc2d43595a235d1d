"""Rooms as the old console had them: an owner set and handed over by admins and by the owner, room
admins who mute and kick (a kicked user cannot rejoin for a while), admin granted and revoked by the
owner, a member cap, and join/leave/kick/mute events to the room's live members."""
from __future__ import annotations

from tests.chat.helpers import API


def join(client, actor, room_id, status=200):
    r = client.post(f"{API}/rooms/{room_id}/join", headers=actor.headers)
    assert r.status_code == status, r.get_json()
    return r.get_json()


def role_map(client, admin, room_id):
    r = client.get(f"{API}/admin/groups/{room_id}", headers=admin.headers)
    return {m["user"]["id"]: m["role"] for m in r.get_json()["members"]}


def test_admin_sets_the_owner_and_the_owner_hands_it_over(client, factory, chat):
    admin, demo1, demo2 = factory.admin(), factory.user(), factory.user()
    room = client.post(f"{API}/admin/rooms", json={"name": "聊天室"}, headers=admin.headers).get_json()["id"]
    r = client.put(f"{API}/admin/groups/{room}/owner", json={"user_id": demo1.id}, headers=admin.headers)
    assert r.status_code == 200 and r.get_json()["role"] == "owner" and r.get_json()["user"]["id"] == demo1.id
    assert role_map(client, admin, room) == {demo1.id: "owner", admin.id: "admin"}
    join(client, demo2, room)
    r = client.put(f"{API}/groups/{room}/members/{demo2.id}/role", json={"role": "admin"}, headers=demo1.headers)
    assert r.status_code == 200 and r.get_json()["role"] == "admin"
    r = client.put(f"{API}/groups/{room}/members/{admin.id}/role", json={"role": "member"}, headers=demo2.headers)
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "not_owner"
    r = client.post(f"{API}/groups/{room}/owner", json={"user_id": demo2.id}, headers=demo1.headers)
    assert r.status_code == 200
    assert role_map(client, admin, room) == {demo2.id: "owner", demo1.id: "admin", admin.id: "admin"}
    assert client.post(f"{API}/rooms/{room}/leave", headers=demo1.headers).status_code == 204
    r = client.put(f"{API}/admin/groups/{room}/owner", json={"user_id": 999999}, headers=admin.headers)
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "unknown_user"
    assert client.put(f"{API}/admin/groups/{room}/owner", json={"user_id": demo1.id},
                      headers=demo2.headers).status_code == 403


def test_room_admins_kick_and_the_kicked_cannot_rejoin_for_a_while(client, factory, chat, app):
    owner, mod, a, b = factory.user(), factory.user(), factory.user(), factory.user()
    room = chat.room(owner)
    for user in (mod, a, b):
        join(client, user, room)
    client.put(f"{API}/groups/{room}/members/{mod.id}/role", json={"role": "admin"}, headers=owner.headers)
    r = client.delete(f"{API}/groups/{room}/members/{b.id}", headers=a.headers)
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "not_group_admin"
    r = client.delete(f"{API}/groups/{room}/members/{owner.id}", headers=mod.headers)
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "outranked"
    assert client.delete(f"{API}/groups/{room}/members/{a.id}", headers=mod.headers).status_code == 204
    r = client.post(f"{API}/rooms/{room}/join", headers=a.headers)
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "kicked" and "until" in r.get_json()["error"]["details"]
    assert client.get(f"{API}/groups/{room}/messages", headers=a.headers).status_code == 404
    old = app.config["ROOM_KICK_SECONDS"]
    app.config["ROOM_KICK_SECONDS"] = 0
    try:
        assert client.delete(f"{API}/groups/{room}/members/{b.id}", headers=owner.headers).status_code == 204
        assert join(client, b, room)["joined"] is True  # a kick of 0 seconds bars nothing
    finally:
        app.config["ROOM_KICK_SECONDS"] = old
    assert client.delete(f"{API}/groups/{room}/members/{mod.id}", headers=owner.headers).status_code == 204


def test_room_mutes(client, factory, chat):
    owner, mod, a = factory.user(), factory.user(), factory.user()
    room = chat.room(owner)
    join(client, mod, room)
    join(client, a, room)
    client.put(f"{API}/groups/{room}/members/{mod.id}/role", json={"role": "admin"}, headers=owner.headers)
    assert client.post(f"{API}/groups/{room}/members/{a.id}/mute", json={"seconds": 120},
                       headers=mod.headers).status_code == 200
    assert chat.send(a, room, "喂", status=403)["error"]["code"] == "muted"
    admin = factory.admin()
    r = client.post(f"{API}/admin/groups/{room}/members/{mod.id}/mute", json={"seconds": 60}, headers=admin.headers)
    assert r.status_code == 200 and r.get_json()["muted_until"]
    assert chat.send(mod, room, "喂", status=403)["error"]["code"] == "muted"
    chat.send(owner, room, "安静")


def test_room_member_cap(client, factory, chat, app):
    owner, a, b = factory.user(), factory.user(), factory.user()
    room = chat.room(owner)
    old = app.config["ROOM_MAX_MEMBERS"]
    app.config["ROOM_MAX_MEMBERS"] = 2
    try:
        join(client, a, room)
        join(client, a, room)  # joining twice is no second seat
        r = client.post(f"{API}/rooms/{room}/join", headers=b.headers)
        assert r.status_code == 409 and r.get_json()["error"] == {
            "code": "room_full", "message": "This room holds at most 2 members.", "details": {"limit": 2, "request_id": r.headers["X-Request-ID"]}}
    finally:
        app.config["ROOM_MAX_MEMBERS"] = old


def test_join_leave_kick_and_mute_are_events_to_live_members(client, factory, chat, ws_ready):
    owner, a, b = factory.user(), factory.user(), factory.user()
    room = chat.room(owner)
    owner_ws = ws_ready(owner)
    join(client, a, room)
    join(client, b, room)
    client.post(f"{API}/rooms/{room}/leave", headers=b.headers)
    client.post(f"{API}/groups/{room}/members/{a.id}/mute", json={"seconds": 60}, headers=owner.headers)
    client.delete(f"{API}/groups/{room}/members/{a.id}", headers=owner.headers)
    got = [(f["type"], f["data"].get("user_id") or f["data"].get("user_ids")) for f in owner_ws.flush()
           if f["op"] == "event"]
    assert got == [("member_joined", [a.id]), ("member_joined", [b.id]), ("member_left", b.id),
                   ("member_muted", a.id), ("member_removed", a.id)]
    assert chat.history(owner, room)["items"] == []  # rooms get events, not system messages
