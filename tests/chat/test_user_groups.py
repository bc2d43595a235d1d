"""User groups (kind "group"): create, invite, remove, roles, ownership, rename, dissolve, leave, mutes,
the member cap, blocks, and what members see (system messages, history, unread, conversation list)."""
from __future__ import annotations

import pytest

from tests.chat.helpers import API


def create(client, owner, name="周末闲置交换群", member_ids=(), status=201):
    r = client.post(f"{API}/groups", json={"name": name, "member_ids": list(member_ids)}, headers=owner.headers)
    assert r.status_code == status, r.get_json()
    return r.get_json()


def texts(chat, actor, group_id):
    return [(m["type"], m["body"].get("text")) for m in chat.history(actor, group_id)["items"]]


def roles(client, actor, group_id):
    r = client.get(f"{API}/groups/{group_id}", headers=actor.headers)
    assert r.status_code == 200, r.get_json()
    return {m["user"]["id"]: m["role"] for m in r.get_json()["members"]}


def test_created_group_has_owner_members_and_a_system_message(client, factory, chat):
    owner, a, b = factory.user(nickname="小王"), factory.user(nickname="小李"), factory.user(nickname="小张")
    group = create(client, owner, member_ids=[a.id, b.id, owner.id, a.id])
    assert group["kind"] == "group" and group["name"] == "周末闲置交换群" and group["member_count"] == 3
    assert roles(client, a, group["id"]) == {owner.id: "owner", a.id: "member", b.id: "member"}
    assert texts(chat, b, group["id"]) == [("system", "小王 创建了群聊,并邀请 小李、小张 加入")]
    chat.send(a, group["id"], "大家好")
    r = client.get(f"{API}/groups", query_string={"kind": "group"}, headers=b.headers)
    assert [g["id"] for g in r.get_json()["items"]] == [group["id"]] and r.get_json()["items"][0]["unread_count"] == 2


def test_create_validates_name_and_members(client, factory):
    owner = factory.user()
    for payload in ({}, {"name": ""}, {"name": "x" * 65}, {"name": "群", "member_ids": ["1"]},
                    {"name": "群", "role": "admin"}):
        r = client.post(f"{API}/groups", json=payload, headers=owner.headers)
        assert r.status_code == 400 and r.get_json()["error"]["code"] == "validation_error", payload
    r = client.post(f"{API}/groups", json={"name": "群", "member_ids": [999999]}, headers=owner.headers)
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "unknown_user"
    assert client.get(f"{API}/groups", headers=owner.headers).get_json()["total"] == 0


def test_conversation_list_shows_name_member_count_unread_and_last_message(client, factory, chat):
    owner, a = factory.user(), factory.user()
    group = create(client, owner, name="宝妈闲置群", member_ids=[a.id])
    chat.send(owner, group["id"], "出一台婴儿车")
    r = client.get(f"{API}/conversations", headers=a.headers)
    assert r.status_code == 200, r.get_json()
    (item,) = r.get_json()["items"]
    assert (item["kind"], item["name"], item["member_count"], item["peer"], item["role"]) == \
        ("group", "宝妈闲置群", 2, None, "member")
    assert item["unread_count"] == 2 and item["last_message"]["preview"] == "出一台婴儿车"
    kinds = client.get(f"{API}/conversations", query_string={"kind": "group"}, headers=a.headers).get_json()
    assert [c["group_id"] for c in kinds["items"]] == [group["id"]]
    direct = chat.direct(owner, a)
    items = client.get(f"{API}/conversations", headers=a.headers).get_json()["items"]
    assert {c["group_id"]: c["member_count"] for c in items} == {group["id"]: 2, direct: 2}


def test_invite_is_for_owner_and_admins_and_skips_members(client, factory, chat):
    owner, admin, member, new, newer = (factory.user() for _ in range(5))
    gid = create(client, owner, member_ids=[admin.id, member.id])["id"]
    assert client.put(f"{API}/groups/{gid}/members/{admin.id}/role", json={"role": "admin"},
                      headers=owner.headers).status_code == 200
    r = client.post(f"{API}/groups/{gid}/members", json={"user_ids": [new.id]}, headers=member.headers)
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "not_group_admin"
    r = client.post(f"{API}/groups/{gid}/members", json={"user_ids": [new.id, member.id]}, headers=admin.headers)
    assert r.status_code == 200 and r.get_json()["member_count"] == 4
    again = client.post(f"{API}/groups/{gid}/members", json={"user_ids": [new.id]}, headers=owner.headers)
    assert again.status_code == 200 and again.get_json()["member_count"] == 4
    assert client.post(f"{API}/groups/{gid}/members", json={"user_ids": [newer.id]},
                       headers=factory.user().headers).status_code == 404
    assert client.post(f"{API}/groups/{gid}/members", json={"user_ids": []},
                       headers=owner.headers).status_code == 400
    assert len([t for t in texts(chat, new, gid) if t[0] == "system"]) == 3  # created, admin, invited


@pytest.mark.parametrize("who_blocks", ["invitee", "inviter"])
def test_blocks_apply_to_invites_and_new_groups(client, factory, chat, who_blocks):
    owner, other = factory.user(), factory.user()
    gid = create(client, owner)["id"]
    if who_blocks == "invitee":
        chat.block(other, owner)
    else:
        chat.block(owner, other)
    r = client.post(f"{API}/groups/{gid}/members", json={"user_ids": [other.id]}, headers=owner.headers)
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "blocked"
    r = client.post(f"{API}/groups", json={"name": "群", "member_ids": [other.id]}, headers=owner.headers)
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "blocked"
    assert roles(client, owner, gid) == {owner.id: "owner"}


def test_member_cap(client, factory, app):
    owner, users = factory.user(), [factory.user() for _ in range(3)]
    old = app.config["GROUP_MAX_MEMBERS"]
    app.config["GROUP_MAX_MEMBERS"] = 3
    try:
        r = client.post(f"{API}/groups", json={"name": "群", "member_ids": [u.id for u in users]},
                        headers=owner.headers)
        assert r.status_code == 409 and r.get_json()["error"] == {
            "code": "group_full", "message": "This group holds at most 3 members.", "details": {"limit": 3, "request_id": r.headers["X-Request-ID"]}}
        gid = create(client, owner, member_ids=[users[0].id])["id"]
        assert client.post(f"{API}/groups/{gid}/members", json={"user_ids": [users[1].id]},
                           headers=owner.headers).status_code == 200
        r = client.post(f"{API}/groups/{gid}/members", json={"user_ids": [users[2].id]}, headers=owner.headers)
        assert r.status_code == 409 and r.get_json()["error"]["code"] == "group_full"
    finally:
        app.config["GROUP_MAX_MEMBERS"] = old


def test_remove_respects_ranks_and_removed_member_loses_the_group(client, factory, chat):
    owner, admin, a, b = factory.user(), factory.user(), factory.user(nickname="阿强"), factory.user()
    gid = create(client, owner, member_ids=[admin.id, a.id, b.id])["id"]
    client.put(f"{API}/groups/{gid}/members/{admin.id}/role", json={"role": "admin"}, headers=owner.headers)
    r = client.delete(f"{API}/groups/{gid}/members/{admin.id}", headers=a.headers)
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "not_group_admin"
    r = client.delete(f"{API}/groups/{gid}/members/{owner.id}", headers=admin.headers)
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "outranked"
    assert client.delete(f"{API}/groups/{gid}/members/{a.id}", headers=admin.headers).status_code == 204
    assert texts(chat, b, gid)[-1] == ("system", "阿强 被移出了群聊")
    assert client.get(f"{API}/groups/{gid}/messages", headers=a.headers).status_code == 404
    assert chat.send(a, gid, "还在吗", status=404)["error"]["code"] == "not_found"
    r = client.delete(f"{API}/groups/{gid}/members/{a.id}", headers=admin.headers)
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_member"
    assert client.delete(f"{API}/groups/{gid}/members/{admin.id}", headers=owner.headers).status_code == 204


def test_promote_demote_and_transfer_are_the_owners(client, factory, chat):
    owner, a, b = factory.user(nickname="老板"), factory.user(nickname="阿美"), factory.user()
    gid = create(client, owner, member_ids=[a.id, b.id])["id"]
    r = client.put(f"{API}/groups/{gid}/members/{b.id}/role", json={"role": "admin"}, headers=a.headers)
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "not_owner"
    r = client.put(f"{API}/groups/{gid}/members/{a.id}/role", json={"role": "owner"}, headers=owner.headers)
    assert r.status_code == 400
    r = client.put(f"{API}/groups/{gid}/members/{a.id}/role", json={"role": "admin"}, headers=owner.headers)
    assert r.status_code == 200 and r.get_json()["role"] == "admin" and r.get_json()["user"]["id"] == a.id
    assert texts(chat, b, gid)[-1] == ("system", "阿美 被设为管理员")
    r = client.post(f"{API}/groups/{gid}/owner", json={"user_id": b.id}, headers=a.headers)
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "not_owner"
    r = client.post(f"{API}/groups/{gid}/owner", json={"user_id": a.id}, headers=owner.headers)
    assert r.status_code == 200 and r.get_json()["role"] == "owner"
    assert roles(client, b, gid) == {owner.id: "admin", a.id: "owner", b.id: "member"}
    assert texts(chat, b, gid)[-1] == ("system", "老板 将群主转让给了 阿美")
    r = client.put(f"{API}/groups/{gid}/members/{a.id}/role", json={"role": "member"}, headers=a.headers)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "owner_role"
    r = client.post(f"{API}/groups/{gid}/owner", json={"user_id": factory.user().id}, headers=a.headers)
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_member"


def test_leave_needs_a_handover_for_the_owner(client, factory, chat):
    owner, a = factory.user(), factory.user(nickname="小周")
    gid = create(client, owner, member_ids=[a.id])["id"]
    r = client.post(f"{API}/groups/{gid}/leave", headers=owner.headers)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "owner_must_transfer"
    assert client.post(f"{API}/groups/{gid}/leave", headers=a.headers).status_code == 204
    assert texts(chat, owner, gid)[-1] == ("system", "小周 退出了群聊")
    assert client.post(f"{API}/groups/{gid}/leave", headers=a.headers).status_code == 404


def test_rename_and_dissolve(client, factory, chat):
    owner, a = factory.user(), factory.user()
    gid = create(client, owner, member_ids=[a.id])["id"]
    r = client.patch(f"{API}/groups/{gid}", json={"name": "新名字"}, headers=a.headers)
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "not_owner"
    r = client.patch(f"{API}/groups/{gid}", json={"name": "新名字"}, headers=owner.headers)
    assert r.status_code == 200 and r.get_json()["name"] == "新名字"
    assert texts(chat, a, gid)[-1] == ("system", "群名已改为「新名字」")
    assert client.patch(f"{API}/groups/{gid}", json={"name": "x", "kind": "room"},
                        headers=owner.headers).status_code == 400
    assert client.delete(f"{API}/groups/{gid}", headers=a.headers).status_code == 403
    assert client.delete(f"{API}/groups/{gid}", headers=owner.headers).status_code == 204
    for actor in (owner, a):
        assert client.get(f"{API}/groups/{gid}", headers=actor.headers).status_code == 404
        assert client.get(f"{API}/conversations", headers=actor.headers).get_json()["items"] == []


def test_not_a_user_group_is_404_for_group_routes(client, factory, chat):
    seller, buyer = factory.user(), factory.user()
    item = chat.item_group(buyer, seller)
    for method, path, body in (("post", f"/groups/{item}/members", {"user_ids": [seller.id]}),
                               ("patch", f"/groups/{item}", {"name": "x"}), ("delete", f"/groups/{item}", None),
                               ("post", f"/groups/{item}/leave", None),
                               ("delete", f"/groups/{item}/members/{seller.id}", None),
                               ("post", f"/groups/{item}/members/{seller.id}/mute", {"seconds": 60})):
        r = getattr(client, method)(API + path, json=body, headers=buyer.headers)
        assert r.status_code == 404, (method, path, r.get_json())


def test_mute_refuses_sends_until_lifted(client, factory, chat):
    owner, admin, a = factory.user(), factory.user(), factory.user()
    gid = create(client, owner, member_ids=[admin.id, a.id])["id"]
    client.put(f"{API}/groups/{gid}/members/{admin.id}/role", json={"role": "admin"}, headers=owner.headers)
    r = client.post(f"{API}/groups/{gid}/members/{owner.id}/mute", json={"seconds": 60}, headers=admin.headers)
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "outranked"
    r = client.post(f"{API}/groups/{gid}/members/{a.id}/mute", json={"seconds": 600}, headers=admin.headers)
    assert r.status_code == 200 and r.get_json()["muted_until"] is not None
    error = chat.send(a, gid, "广告", status=403)["error"]
    assert error["code"] == "muted" and "muted_until" in error["details"]
    for bad in ({"seconds": -1}, {"seconds": 31 * 24 * 3600}, {"seconds": "60"}, {}):
        assert client.post(f"{API}/groups/{gid}/members/{a.id}/mute", json=bad,
                           headers=admin.headers).status_code == 400
    r = client.post(f"{API}/groups/{gid}/members/{a.id}/mute", json={"seconds": 0}, headers=owner.headers)
    assert r.status_code == 200 and r.get_json()["muted_until"] is None
    chat.send(a, gid, "我错了")
