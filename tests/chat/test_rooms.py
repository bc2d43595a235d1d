"""Public chat rooms: creation (service), listing, join, leave, messages and history."""
from __future__ import annotations

from tests.chat.helpers import API


def test_created_room_has_its_creator_as_owner(client, factory, chat):
    owner = factory.user()
    room = chat.room(owner, name="上海二手交流", description="同城面交 <b>优先</b>")
    detail = client.get(f"{API}/groups/{room}", headers=owner.headers).get_json()
    assert detail["kind"] == "room" and detail["name"] == "上海二手交流"
    assert detail["description"] == "同城面交 <b>优先</b>" and detail["listing"] is None
    assert [(m["user"]["id"], m["role"]) for m in detail["members"]] == [(owner.id, "owner")]


def test_rooms_list_is_public_with_counts_membership_and_aliases(client, factory, chat):
    owner, me = factory.user(), factory.user()
    quiet, busy, third = chat.room(owner, "安静"), chat.room(owner, "热闹"), chat.room(owner, "第三")
    chat.send(owner, busy, "有人吗")
    assert client.post(f"{API}/rooms/{busy}/join", headers=me.headers).status_code == 200
    body = client.get(f"{API}/rooms?pagesize=2", headers=me.headers).get_json()
    assert (body["total"], body["page_size"]) == (3, 2)
    first = body["items"][0]
    assert first["id"] == busy and first["member_count"] == 2 and first["joined"] is True
    assert first["last_seq"] == 1
    assert body["items"][1]["id"] == third and body["items"][1]["joined"] is False
    rest = client.get(f"{API}/rooms?pagenum=2&pagesize=2", headers=me.headers).get_json()
    assert [r["id"] for r in rest["items"]] == [quiet]
    assert client.get(f"{API}/rooms").status_code == 401


def test_room_list_holds_rooms_only(client, factory, chat):
    owner, buyer = factory.user(), factory.user()
    room = chat.room(owner)
    chat.item_group(buyer, owner)
    chat.direct(buyer, owner)
    body = client.get(f"{API}/rooms", headers=buyer.headers).get_json()
    assert [r["id"] for r in body["items"]] == [room] and body["total"] == 1


def test_join_is_idempotent_and_unlocks_messages(client, factory, chat):
    owner, me = factory.user(), factory.user()
    room = chat.room(owner)
    chat.send(owner, room, "欢迎")
    assert client.get(f"{API}/groups/{room}/messages", headers=me.headers).status_code == 404
    first = client.post(f"{API}/rooms/{room}/join", headers=me.headers)
    again = client.post(f"{API}/rooms/{room}/join", headers=me.headers)
    assert first.status_code == again.status_code == 200
    assert again.get_json()["member_count"] == 2 and again.get_json()["joined"] is True
    assert [m["body"]["text"] for m in chat.history(me, room)["items"]] == ["欢迎"]
    assert chat.send(me, room, "大家好")["seq"] == 2


def test_leave_removes_membership_and_is_idempotent(client, factory, chat):
    owner, me = factory.user(), factory.user()
    room = chat.room(owner)
    client.post(f"{API}/rooms/{room}/join", headers=me.headers)
    assert client.post(f"{API}/rooms/{room}/leave", headers=me.headers).status_code == 204
    assert client.post(f"{API}/rooms/{room}/leave", headers=me.headers).status_code == 204
    r = chat.send_raw(me, room, {"client_id": "gone", "type": "txt", "body": {"text": "x"}})
    assert r.status_code == 404


def test_owner_cannot_leave(client, factory, chat):
    owner = factory.user()
    room = chat.room(owner)
    r = client.post(f"{API}/rooms/{room}/leave", headers=owner.headers)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "owner_cannot_leave"


def test_join_or_leave_of_non_rooms_is_404(client, factory, chat):
    buyer, seller, outsider = factory.user(), factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    assert client.post(f"{API}/rooms/{group_id}/join", headers=outsider.headers).status_code == 404
    assert client.post(f"{API}/rooms/{group_id}/leave", headers=buyer.headers).status_code == 404
    assert client.post(f"{API}/rooms/999999/join", headers=outsider.headers).status_code == 404
    assert client.get(f"{API}/groups/{group_id}", headers=outsider.headers).status_code == 404


def test_what_was_said_before_joining_is_not_unread(client, factory, chat):
    owner, newcomer = factory.user(), factory.user()
    room = chat.room(owner)
    for text in ("早上好", "有人吗"):
        chat.send(owner, room, text)
    assert client.post(f"{API}/rooms/{room}/join", headers=newcomer.headers).status_code == 200
    chat.send(owner, room, "欢迎新人")
    items = client.get(f"{API}/conversations", headers=newcomer.headers).get_json()["items"]
    assert [(i["group_id"], i["unread_count"]) for i in items] == [(room, 1)]
    history = client.get(f"{API}/groups/{room}/messages", headers=newcomer.headers).get_json()["items"]
    assert [m["body"]["text"] for m in history] == ["早上好", "有人吗", "欢迎新人"]
