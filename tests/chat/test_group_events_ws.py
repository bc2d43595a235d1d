"""User groups over real sockets: membership `event` frames and `system` messages reach the members;
a removed member's sockets stop receiving the group at once and `sync` never replays it to them;
a muted member's WebSocket sends are refused."""
from __future__ import annotations

from tests.chat.helpers import API


def events(frames):
    return [(f["type"], f["data"]) for f in frames if f["op"] == "event" and f["type"] != "presence"]


def system_texts(frames):
    return [f["message"]["body"]["text"] for f in frames
            if f["op"] == "message" and f["message"]["type"] == "system"]


def test_membership_changes_are_events_and_system_messages(client, factory, ws_ready):
    owner, a, b = factory.user(nickname="群主"), factory.user(nickname="小A"), factory.user(nickname="小B")
    a_ws, b_ws = ws_ready(a), ws_ready(b)
    gid = client.post(f"{API}/groups", json={"name": "读书群", "member_ids": [a.id]},
                      headers=owner.headers).get_json()["id"]
    frames = a_ws.flush()
    assert system_texts(frames) == ["群主 创建了群聊,并邀请 小A 加入"]
    (joined,) = events(frames)
    assert joined == ("member_joined", {"group_id": gid, "group_kind": "group", "by": owner.id,
                                        "user_ids": [owner.id, a.id], "member_count": 2})
    assert b_ws.flush() == []  # not a member: hears nothing

    client.post(f"{API}/groups/{gid}/members", json={"user_ids": [b.id]}, headers=owner.headers)
    for ws in (a_ws, b_ws):
        frames = ws.flush()
        assert system_texts(frames) == ["群主 邀请 小B 加入了群聊"]
        assert events(frames)[0][0] == "member_joined" and events(frames)[0][1]["user_ids"] == [b.id]

    client.put(f"{API}/groups/{gid}/members/{a.id}/role", json={"role": "admin"}, headers=owner.headers)
    assert events(b_ws.flush()) == [("role_changed", {"group_id": gid, "group_kind": "group", "by": owner.id,
                                                      "user_id": a.id, "role": "admin",
                                                      "previous_role": "member"})]
    client.patch(f"{API}/groups/{gid}", json={"name": "读书会"}, headers=owner.headers)
    assert events(b_ws.flush())[0] == ("group_renamed", {"group_id": gid, "group_kind": "group",
                                                         "by": owner.id, "name": "读书会"})
    a_ws.flush()
    client.post(f"{API}/groups/{gid}/leave", headers=b.headers)
    assert events(b_ws.flush())[0][0] == "member_left"
    assert events(a_ws.flush())[0] == ("member_left", {"group_id": gid, "group_kind": "group", "by": b.id,
                                                       "user_id": b.id, "member_count": 2})
    client.delete(f"{API}/groups/{gid}", headers=owner.headers)
    frames = a_ws.flush()
    assert system_texts(frames) == ["该群聊已解散"]
    assert events(frames)[0][0] == "group_dissolved"


def test_removed_member_stops_receiving_at_once_and_sync_never_replays_later_messages(client, factory, ws_ready,
                                                                                      chat):
    owner, a, b = factory.user(), factory.user(), factory.user()
    gid = client.post(f"{API}/groups", json={"name": "群", "member_ids": [a.id, b.id]},
                      headers=owner.headers).get_json()["id"]
    b_ws, b_ws2 = ws_ready(b), ws_ready(b)
    chat.send(a, gid, "删之前")
    assert [f["message"]["body"]["text"] for f in b_ws.flush() if f["op"] == "message"] == ["删之前"]
    assert client.delete(f"{API}/groups/{gid}/members/{b.id}", headers=owner.headers).status_code == 204
    chat.send(a, gid, "删之后")
    b_ws.send_text(gid, "我还在吗", "b-1")
    for ws in (b_ws, b_ws2):
        frames = ws.flush()
        assert "删之后" not in str(frames)
        assert [t for t, _ in events(frames)] == ["member_removed"]
    assert [f["error"]["code"] for f in b_ws.seen if f["op"] == "error"] == ["not_found"]
    # A fresh device syncing from the beginning gets what came while b was a member, and the removal.
    texts = [f["message"]["body"].get("text") for f in ws_ready(b).sync(None)]
    assert texts[-2:] == ["删之前", texts[-1]] and "被移出了群聊" in texts[-1]
    assert "删之后" not in texts


def test_muted_member_gets_an_error_frame_and_others_hear_the_mute(client, factory, ws_ready, chat):
    owner, a = factory.user(), factory.user()
    gid = client.post(f"{API}/groups", json={"name": "群", "member_ids": [a.id]},
                      headers=owner.headers).get_json()["id"]
    a_ws, owner_ws = ws_ready(a), ws_ready(owner)
    client.post(f"{API}/groups/{gid}/members/{a.id}/mute", json={"seconds": 300}, headers=owner.headers)
    (muted,) = events(owner_ws.flush())
    assert muted[0] == "member_muted" and muted[1]["user_id"] == a.id and muted[1]["muted_until"]
    a_ws.flush()
    a_ws.send_text(gid, "说话", "m-1")
    error = a_ws.op("error")
    assert error["client_id"] == "m-1" and error["error"]["code"] == "muted"
    client.post(f"{API}/groups/{gid}/members/{a.id}/mute", json={"seconds": 0}, headers=owner.headers)
    a_ws.send_text(gid, "说话", "m-2")
    assert a_ws.op("ack")["client_id"] == "m-2"


def test_typing_is_not_relayed_in_groups(client, factory, ws_ready):
    owner, a = factory.user(), factory.user()
    gid = client.post(f"{API}/groups", json={"name": "群", "member_ids": [a.id]},
                      headers=owner.headers).get_json()["id"]
    owner_ws, a_ws = ws_ready(owner), ws_ready(a)
    owner_ws.flush()
    a_ws.send({"op": "typing", "group_id": gid})
    assert [f for f in a_ws.flush() if f["op"] == "error"] == []
    assert owner_ws.flush() == []
