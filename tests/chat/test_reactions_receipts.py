"""Emoji reactions (REST and WebSocket, idempotent, capped, races between users, events replayed by sync) and
read receipts of a 50-member group."""
from __future__ import annotations

from urllib.parse import quote

from chat.cursors import decode_cursor
from tests.chat.helpers import API
from tests.chat.test_user_groups import create
from tests.support.concurrency import concurrently
from tests.support.wsclient import WsClient

THUMBS, HEART, FAMILY = "👍", "❤️", "👨‍👩‍👧"


def path(group_id, message_id, emoji):
    return f"{API}/groups/{group_id}/messages/{message_id}/reactions/{quote(emoji)}"


def react(client, actor, group_id, message_id, emoji, status=201):
    r = client.put(path(group_id, message_id, emoji), headers=actor.headers)
    assert r.status_code == status, r.get_json()
    return r.get_json()


def test_reactions_are_idempotent_counted_and_shown_in_history(client, factory, chat):
    owner, a = factory.user(), factory.user()
    group_id = create(client, owner, member_ids=[a.id])["id"]
    sent = chat.send(owner, group_id, "周六去爬山吗")
    state = react(client, a, group_id, sent["id"], THUMBS)
    assert state == {"group_id": group_id, "message_id": sent["id"], "seq": sent["seq"],
                     "reactions": [{"emoji": THUMBS, "count": 1, "me": True}]}
    assert react(client, a, group_id, sent["id"], THUMBS, 200) == state
    react(client, owner, group_id, sent["id"], THUMBS)
    react(client, owner, group_id, sent["id"], FAMILY)
    mine = chat.history(owner, group_id)["items"][-1]["reactions"]
    assert mine == [{"emoji": THUMBS, "count": 2, "me": True}, {"emoji": FAMILY, "count": 1, "me": True}]
    assert chat.history(a, group_id)["items"][-1]["reactions"] == [
        {"emoji": THUMBS, "count": 2, "me": True}, {"emoji": FAMILY, "count": 1, "me": False}]
    for _ in range(2):
        assert client.delete(path(group_id, sent["id"], THUMBS), headers=a.headers).status_code == 204
    assert chat.history(a, group_id)["items"][-1]["reactions"] == [
        {"emoji": THUMBS, "count": 1, "me": False}, {"emoji": FAMILY, "count": 1, "me": False}]


def test_every_reaction_refusal_has_its_code(client, factory, chat, monkeypatch):
    owner, a, stranger = factory.user(), factory.user(), factory.user()
    group_id = create(client, owner, member_ids=[a.id])["id"]
    sent = chat.send(owner, group_id, "投票")
    monkeypatch.setitem(client.application.config, "REACTIONS_MAX_DISTINCT", 2)
    react(client, owner, group_id, sent["id"], THUMBS)
    react(client, owner, group_id, sent["id"], HEART)
    r = client.put(path(group_id, sent["id"], "🎉"), headers=a.headers)
    assert (r.status_code, r.get_json()["error"]["code"]) == (409, "reaction_limit_reached")
    react(client, a, group_id, sent["id"], HEART)  # an emoji already there is no new one
    for bad in ("abc", "👍" * 9, "1"):
        r = client.put(path(group_id, sent["id"], bad), headers=a.headers)
        assert (r.status_code, r.get_json()["error"]["code"]) == (400, "invalid_emoji"), bad
    assert client.put(path(group_id, sent["id"], THUMBS), headers=stranger.headers).status_code == 404
    assert client.put(path(group_id, 999999, THUMBS), headers=a.headers).status_code == 404
    client.post(f"{API}/groups/{group_id}/messages/{sent['id']}/recall", headers=owner.headers)
    r = client.put(path(group_id, sent["id"], THUMBS), headers=a.headers)
    assert (r.status_code, r.get_json()["error"]["code"]) == (409, "message_recalled")


def test_reactions_racing_from_many_users_count_right_and_respect_the_cap(client, factory, chat, monkeypatch):
    owner = factory.user()
    users = [factory.user() for _ in range(8)]
    group_id = create(client, owner, member_ids=[u.id for u in users])["id"]
    sent = chat.send(owner, group_id, "抢")
    monkeypatch.setitem(client.application.config, "REACTIONS_MAX_DISTINCT", 3)
    emoji = ["👍", "❤️", "🎉", "😂", "👍", "👍", "❤️", "🔥"]
    statuses = concurrently(client, [("PUT", path(group_id, sent["id"], e)[len(API):], u.headers, None)
                                     for u, e in zip(users, emoji)])
    reactions = chat.history(owner, group_id)["items"][-1]["reactions"]
    assert len(reactions) <= 3 and sum(r["count"] for r in reactions) == statuses.count(201)
    assert statuses.count(201) + statuses.count(409) == len(users)
    # the same user from two devices at once: one reaction
    twice = concurrently(client, [("PUT", path(group_id, sent["id"], reactions[0]["emoji"])[len(API):],
                                   owner.headers, None)] * 2)
    assert sorted(twice) == [200, 201]
    after = chat.history(owner, group_id)["items"][-1]["reactions"]
    assert after[0]["count"] == reactions[0]["count"] + 1 and after[0]["me"] is True


def test_reaction_events_are_live_and_replayed_with_the_state_then(live_server, factory, ws_ready):
    from tests.chat.helpers import ChatHelper
    chat = ChatHelper(live_server.app.test_client(), factory)
    client = chat.client
    owner, a = factory.user(), factory.user()
    group_id = create(client, owner, member_ids=[a.id])["id"]
    sent = chat.send(owner, group_id, "好看吗")
    ws = ws_ready(owner)
    start = ws.seen[0]["cursor"]
    react(client, a, group_id, sent["id"], THUMBS)
    live = ws.recv_until(lambda f: f.get("type") == "reaction")
    assert live["data"] == {"group_id": group_id, "message_id": sent["id"], "seq": sent["seq"],
                            "reactions": [{"emoji": THUMBS, "count": 1, "me": False}],
                            "change": {"user_id": a.id, "emoji": THUMBS, "action": "add"}}
    assert decode_cursor(live["cursor"]) == decode_cursor(start) + 1
    ws.send({"op": "react", "group_id": group_id, "message_id": sent["id"], "emoji": THUMBS})
    mine = ws.recv_until(lambda f: f.get("type") == "reaction")
    assert mine["data"]["reactions"] == [{"emoji": THUMBS, "count": 2, "me": True}]
    ws.send({"op": "unreact", "group_id": group_id, "message_id": sent["id"], "emoji": THUMBS})
    ws.recv_until(lambda f: f.get("type") == "reaction")
    other = WsClient(live_server.ws_url, owner.token)
    try:
        other.hello()
        replayed = other.sync(start)
    finally:
        other.close()
    assert [f["type"] for f in replayed] == ["reaction"] * 3
    for frame in replayed:  # the reactions as they are now, without the change
        assert frame["data"] == {"group_id": group_id, "message_id": sent["id"], "seq": sent["seq"],
                                 "reactions": [{"emoji": THUMBS, "count": 1, "me": False}]}


def test_read_receipts_of_a_fifty_member_group(client, factory, chat):
    owner = factory.user()
    members = [factory.user() for _ in range(49)]
    group_id = create(client, owner, member_ids=[m.id for m in members])["id"]
    sent = chat.send(owner, group_id, "本周六活动通知")
    later = chat.send(owner, group_id, "别忘了")
    readers = members[:20]
    for i, reader in enumerate(readers):
        seq = later["seq"] if i % 2 else sent["seq"]
        r = client.post(f"{API}/groups/{group_id}/read", json={"seq": seq}, headers=reader.headers)
        assert r.status_code == 204
    r = client.get(f"{API}/groups/{group_id}/messages/{sent['id']}/reads", headers=members[30].headers)
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert (body["read_count"], body["unread_count"]) == (20, 29)
    assert [u["id"] for u in body["read"]] == sorted(m.id for m in readers)
    assert owner.id not in [u["id"] for u in body["read"] + body["unread"]]
    assert set(body["read"][0]) == {"id", "nickname", "avatar_url"}
    r = client.get(f"{API}/groups/{group_id}/messages/{later['id']}/reads", headers=owner.headers)
    assert r.get_json()["read_count"] == 10
    stranger = factory.user()
    assert client.get(f"{API}/groups/{group_id}/messages/{sent['id']}/reads",
                      headers=stranger.headers).status_code == 404
    assert client.get(f"{API}/groups/{group_id}/messages/999999/reads", headers=owner.headers).status_code == 404
    room = chat.room(owner)
    in_room = chat.send(owner, room, "房间消息")
    r = client.get(f"{API}/groups/{room}/messages/{in_room['id']}/reads", headers=owner.headers)
    assert (r.status_code, r.get_json()["error"]["code"]) == (409, "receipts_unavailable")
