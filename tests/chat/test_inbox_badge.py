"""The inbox a mini-program shows: `unread_total` (the badge), mute and pin (PUT /conversations/{id}),
`peer_read_seq`, and the `unread` event."""
from __future__ import annotations

import threading

import pytest

from tests.chat.conftest import wrap_publisher
from tests.chat.helpers import API
from tests.support.concurrency import concurrently


def page(client, actor, **params) -> dict:
    r = client.get(f"{API}/conversations", query_string={"limit": 100, **params}, headers=actor.headers)
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def put(client, actor, group_id: int, **flags):
    return client.put(f"{API}/conversations/{group_id}", json=flags, headers=actor.headers)


def read(client, actor, group_id: int, seq: int) -> None:
    r = client.post(f"{API}/groups/{group_id}/read", json={"seq": seq}, headers=actor.headers)
    assert r.status_code == 204, r.get_json()


def badge_matches_the_list(client, actor) -> int:
    """The stored total equals the sum of the unread counts of the chats that are not muted."""
    body = page(client, actor)
    expected = sum(c["unread_count"] for c in body["items"] if c["kind"] != "room" and not c["muted"])
    assert body["unread_total"] == expected, body
    return body["unread_total"]


def test_unread_total_follows_messages_reads_replies_mute_and_hide(client, factory, chat):
    seller, alice, bob = factory.user(), factory.user(), factory.user()
    a, b = chat.item_group(alice, seller), chat.item_group(bob, seller)
    for text in ("在吗", "还在卖吗", "能便宜吗"):
        chat.send(alice, a, text)
    chat.send(bob, b, "你好")
    assert badge_matches_the_list(client, seller) == 4
    read(client, seller, a, 2)
    assert badge_matches_the_list(client, seller) == 2
    chat.send(seller, a, "在的")  # replying reads the chat
    assert badge_matches_the_list(client, seller) == 1

    assert put(client, seller, b, muted=True).get_json() == {"group_id": b, "muted": True, "pinned": False}
    chat.send(bob, b, "人呢")  # a muted chat's messages leave the badge alone
    assert badge_matches_the_list(client, seller) == 0
    assert put(client, seller, b, muted=False).status_code == 200
    assert badge_matches_the_list(client, seller) == 2

    client.delete(f"{API}/conversations/{b}", headers=seller.headers)
    assert badge_matches_the_list(client, seller) == 0
    chat.send(bob, b, "再问一次")
    assert badge_matches_the_list(client, seller) == 1
    assert badge_matches_the_list(client, alice) == 1  # the seller's reply
    assert page(client, factory.user())["unread_total"] == 0  # no conversations at all


def test_sends_over_the_websocket_move_the_badge_and_push_unread_events(client, factory, chat, ws_ready):
    buyer, seller = factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    seller_ws, buyer_ws = ws_ready(seller), ws_ready(buyer)
    for i in range(3):
        buyer_ws.send_text(group_id, f"第{i}条", f"ws-{i}")
        assert buyer_ws.op("ack")["client_id"] == f"ws-{i}"
    badges = [seller_ws.recv_until(lambda f: f.get("type") == "unread")["data"] for _ in range(3)]
    # each change one version more, and a page carries the version of its total
    assert badges == [{"unread_total": n, "unread_version": n} for n in (1, 2, 3)]
    assert badge_matches_the_list(client, seller) == 3
    assert page(client, seller)["unread_version"] == 3
    read(client, seller, group_id, 3)
    assert seller_ws.recv_until(lambda f: f.get("type") == "unread") == {
        "op": "event", "type": "unread", "data": {"unread_total": 0, "unread_version": 4}}
    put(client, seller, group_id, muted=True)
    buyer_ws.send_text(group_id, "静音后", "ws-muted")
    buyer_ws.op("ack")
    chat.send(buyer, chat.item_group(buyer, seller), "另一个商品")
    # The muted chat's message moved nothing (nor did muting a chat with nothing unread): the next badge event
    # is the other chat's.
    assert seller_ws.recv_until(lambda f: f.get("type") == "unread")["data"] == {"unread_total": 1,
                                                                                "unread_version": 5}
    assert page(client, seller)["unread_version"] == 5


def test_pinned_chats_come_first_and_a_walk_shows_each_chat_once(client, factory, chat):
    seller = factory.user()
    buyers = [factory.user() for _ in range(5)]
    groups = [chat.item_group(b, seller) for b in buyers]
    for buyer, group_id in zip(buyers, groups):
        chat.send(buyer, group_id, "你好")  # groups[-1] is the newest
    assert put(client, seller, groups[0], pinned=True).status_code == 200
    assert put(client, seller, groups[2], pinned=True).status_code == 200
    order = [c["group_id"] for c in page(client, seller)["items"]]
    assert order == [groups[2], groups[0], groups[4], groups[3], groups[1]]
    assert [c["pinned"] for c in page(client, seller)["items"]] == [True, True, False, False, False]

    walked, cursor = [], None
    while True:
        params = {"limit": 1} | ({"cursor": cursor} if cursor else {})
        r = client.get(f"{API}/conversations", query_string=params, headers=seller.headers).get_json()
        walked += [c["group_id"] for c in r["items"]]
        if len(walked) == 2:  # pinning and unpinning mid-walk moves nothing in this walk
            put(client, seller, groups[2], pinned=False)
            put(client, seller, groups[3], pinned=True)
            chat.send(buyers[0], groups[0], "置顶的新消息")
        cursor = r["next_cursor"]
        if cursor is None:
            break
    assert walked == order

    assert put(client, seller, groups[0], pinned=False).get_json()["pinned"] is False
    assert [c["group_id"] for c in page(client, seller)["items"]][0] == groups[3]


def test_pin_limit_rooms_strangers_and_bad_input(client, factory, chat):
    seller = factory.user()
    groups = [chat.item_group(factory.user(), seller) for _ in range(11)]
    for group_id in groups[:10]:
        assert put(client, seller, group_id, pinned=True).status_code == 200
    r = put(client, seller, groups[10], pinned=True)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "pin_limit"
    assert put(client, seller, groups[0], pinned=True).status_code == 200  # already pinned: fine
    room = chat.room(seller)
    r = put(client, seller, room, muted=True)
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "not_an_inbox_chat"
    assert put(client, factory.user(), groups[0], muted=True).status_code == 404
    r = put(client, seller, groups[0], muted="yes please")
    assert r.status_code == 400 and "muted" in r.get_json()["error"]["details"]["fields"]
    r = put(client, seller, groups[0], starred=True)
    assert r.status_code == 400 and "starred" in r.get_json()["error"]["details"]["fields"]
    assert [c["muted"] for c in page(client, seller)["items"]].count(True) == 0


def test_flags_are_json_booleans_only(client, factory, chat):
    """0, 1, "true" and "yes" are not booleans: 400 naming the field, and nothing changes."""
    seller = factory.user()
    group_id = chat.item_group(factory.user(), seller)
    for value in (0, 1, "true", "yes", "1", None):
        for flag in ("muted", "pinned"):
            r = put(client, seller, group_id, **{flag: value})
            assert r.status_code == 400, (flag, value, r.get_json())
            error = r.get_json()["error"]
            assert error["code"] == "validation_error" and flag in error["details"]["fields"]
    item = next(c for c in page(client, seller)["items"] if c["group_id"] == group_id)
    assert (item["muted"], item["pinned"]) == (False, False)


def test_peer_read_seq_shows_how_far_the_other_party_read(client, factory, chat):
    buyer, seller = factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    for text in ("一", "二", "三"):
        chat.send(buyer, group_id, text)

    def peer_read(actor) -> int | None:
        return [c for c in page(client, actor)["items"] if c["group_id"] == group_id][0]["peer_read_seq"]

    assert peer_read(buyer) == 0
    read(client, seller, group_id, 2)
    assert peer_read(buyer) == 2 and peer_read(seller) == 3
    chat.block(seller, buyer)
    assert peer_read(buyer) is None and peer_read(seller) is None  # not shared across a block


def test_random_batches_keep_every_badge_equal_to_its_list(client, factory, chat):
    """Batches of sends in any mix (both parties, several messages each, the system, a muted chat, a hidden
    one, reads between) move each total exactly as the list counts, on both databases (PostgreSQL reads the
    markers again after the counter locks, SQLite uses those read with the group locks)."""
    import random

    from chat.messages.batch import SendRequest, send_many
    from chat.messages.send import post_system_messages
    from core.db import db

    seller, b1, b2 = factory.user(), factory.user(), factory.user()
    groups = {chat.item_group(b1, seller): (b1, seller), chat.item_group(b2, seller): (b2, seller),
              chat.direct(b1, b2): (b1, b2)}
    people = (seller, b1, b2)
    assert put(client, seller, list(groups)[1], muted=True).status_code == 200
    rng = random.Random(13)
    for round_ in range(12):
        requests = []
        for i in range(rng.randint(1, 9)):
            group_id = rng.choice(list(groups))
            sender = rng.choice(groups[group_id])
            requests.append(SendRequest(sender_id=sender.id, group_id=group_id, client_id=f"r{round_}-{i}",
                                        type="txt", body={"text": f"第{round_}轮第{i}条"}))
        with client.application.app_context():
            assert all(o.created for o in send_many(requests))
            if round_ % 4 == 1:
                post_system_messages(group_ids=[list(groups)[0]], text="系统提示")
            db.remove()
        if round_ % 3 == 2:  # someone reads part of a chat
            group_id = rng.choice(list(groups))
            reader = rng.choice(groups[group_id])
            last = chat.history(reader, group_id)["items"][-1]["seq"]
            read(client, reader, group_id, rng.randint(1, last))
        if round_ == 5:  # hidden: comes back with only what arrives after
            assert client.delete(f"{API}/conversations/{list(groups)[2]}", headers=b1.headers).status_code == 204
        for person in people:
            badge_matches_the_list(client, person)


def test_a_read_committed_while_a_batch_waits_for_the_readers_counter_counts_once(client, factory, chat, backend):
    """PostgreSQL (read committed): a batch reads the members' markers with the group locks, then waits for a
    member's counter lock held by that member's read. Once the read commits, the batch must use the marker the
    read moved (it reads the markers again under the counter locks), or the member's unread is taken off
    twice (SQLite has one writer at a time: no batch runs between a read's lock and its commit)."""
    if backend != "postgresql":
        pytest.skip("one writer at a time on SQLite")
    import threading
    import time

    from sqlalchemy import text

    from chat.messages.batch import SendRequest, send_many
    from core.db import db

    buyer, seller = factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    for i in range(3):
        chat.send(buyer, group_id, f"b{i}")
    assert badge_matches_the_list(client, seller) == 3
    with client.application.app_context():
        engine = db.engine
    outcomes = []

    def seller_sends() -> None:
        with client.application.app_context():
            outcomes.extend(send_many([SendRequest(sender_id=seller.id, group_id=group_id, client_id="s0",
                                                   type="txt", body={"text": "在的"})]))
            db.remove()

    with engine.connect() as reader:
        with reader.begin():  # what the seller's read of seq 3 does: counter lock, marker, total
            reader.execute(text("SELECT 1 FROM chat_inbox_counters WHERE user_id = :u FOR UPDATE"), {"u": seller.id})
            reader.execute(text("UPDATE chat_members SET last_read_seq = 3 WHERE group_id = :g AND user_id = :u"),
                           {"g": group_id, "u": seller.id})
            reader.execute(text("UPDATE chat_inbox_counters SET unread_total = unread_total - 3 WHERE user_id = :u"),
                           {"u": seller.id})
            pid = reader.execute(text("SELECT pg_backend_pid()")).scalar_one()
            sender = threading.Thread(target=seller_sends)
            sender.start()
            blocked = text("SELECT count(*) FROM pg_stat_activity WHERE :pid = ANY(pg_blocking_pids(pid))")
            with engine.connect() as watcher:  # until the batch waits for the seller's counter lock
                for _ in range(500):
                    if watcher.execute(blocked, {"pid": pid}).scalar_one():
                        break
                    watcher.rollback()
                    time.sleep(0.01)
                else:
                    raise AssertionError("the batch never waited for the seller's counter lock")
        sender.join(10)
    assert outcomes and outcomes[0].created
    assert badge_matches_the_list(client, seller) == 0
    chat.send(buyer, group_id, "b3")
    assert badge_matches_the_list(client, seller) == 1  # stored -3 + 1 had the batch used the stale marker


def test_a_member_who_leaves_is_removed_or_whose_group_is_dissolved_loses_its_unread(client, factory, chat,
                                                                                      monkeypatch):
    owner, leaver, removed, kicked, stays, quiet = (factory.user() for _ in range(6))
    admin = factory.admin()
    group_id = client.post(f"{API}/groups", json={"name": "二手交流", "member_ids": [
        leaver.id, removed.id, kicked.id, stays.id, quiet.id]}, headers=owner.headers).get_json()["id"]
    elsewhere = chat.item_group(stays, owner)
    put(client, quiet, group_id, muted=True)
    for text in ("一", "二", "三"):
        chat.send(owner, group_id, text)
    chat.send(owner, elsewhere, "别的商品")
    assert [badge_matches_the_list(client, u) for u in (leaver, removed, kicked, stays, quiet)] == [4, 4, 4, 5, 0]
    seen: list[dict] = []
    wrap_publisher(client.application, monkeypatch, seen.extend)

    def badge_events() -> list[tuple[int, int]]:
        """(user, total) of each badge change published, in order (a message's ride on its event)."""
        events = [pair for e in seen for pair in (
            [(e["recipients"][0], e["unread_total"])] if e["type"] == "unread"
            else sorted((uid, badge.total) for uid, badge in (e.get("unread") or {}).items()))]
        seen.clear()
        return events

    # Each change posts a system message (+1 for every member who has not muted the chat, the owner too); then
    # whoever is out of the chat loses what they had unread there.
    assert client.post(f"{API}/groups/{group_id}/leave", headers=leaver.headers).status_code == 204
    assert badge_events() == [(owner.id, 1), (leaver.id, 5), (removed.id, 5), (kicked.id, 5), (stays.id, 6),
                              (leaver.id, 0)]
    assert client.delete(f"{API}/groups/{group_id}/members/{removed.id}", headers=owner.headers).status_code == 204
    assert badge_events() == [(owner.id, 2), (removed.id, 6), (kicked.id, 6), (stays.id, 7), (removed.id, 0)]
    assert client.delete(f"{API}/admin/groups/{group_id}/members/{kicked.id}",
                         headers=admin.headers).status_code == 204
    assert badge_events() == [(owner.id, 3), (kicked.id, 7), (stays.id, 8), (kicked.id, 0)]
    read(client, stays, group_id, 6)
    assert badge_matches_the_list(client, stays) == 2
    seen.clear()
    assert client.delete(f"{API}/groups/{group_id}", headers=owner.headers).status_code == 204
    assert badge_events() == [(owner.id, 4), (stays.id, 3), (owner.id, 0), (stays.id, 1)]
    assert [badge_matches_the_list(client, u) for u in (leaver, removed, kicked, stays, quiet, owner)] == [
        0, 0, 0, 1, 0, 0]


def test_concurrent_changes_give_each_badge_its_own_version_and_the_highest_is_the_stored_one(
        client, factory, chat, monkeypatch):
    """Sends, reads, mutes and hides of one user's chats at the same moment: their commits publish in any order,
    but no two of the user's badge events share a version, and the one with the highest version is what a page
    reads after (what a client keeping the highest version shows)."""
    seller = factory.user()
    buyers = [factory.user() for _ in range(4)]
    groups = [chat.item_group(buyer, seller) for buyer in buyers]
    for text in ("一", "二", "三"):  # what the seller reads, a message a round
        chat.send(buyers[0], groups[0], text)
    seen: list[dict] = []
    lock = threading.Lock()

    def record(events: list[dict]) -> None:
        with lock:
            for e in events:
                if e["type"] == "unread" and e["recipients"] == [seller.id]:
                    seen.append({"total": e["unread_total"], "version": e["unread_version"]})
                elif e["type"] == "message" and seller.id in (e.get("unread") or {}):
                    total, version = e["unread"][seller.id]
                    seen.append({"total": total, "version": version})

    wrap_publisher(client.application, monkeypatch, record)
    for round_ in range(3):
        calls = [("POST", f"/groups/{g}/messages", b.headers, {"client_id": f"c{round_}-{i}", "type": "txt",
                                                              "body": {"text": "还在吗"}})
                 for i, (g, b) in enumerate(zip(groups, buyers))]
        calls += [("POST", f"/groups/{groups[0]}/read", seller.headers, {"seq": round_ + 1}),
                  ("PUT", f"/conversations/{groups[1]}", seller.headers, {"muted": round_ % 2 == 0}),
                  ("DELETE", f"/conversations/{groups[2]}", seller.headers, None)]
        assert sorted(concurrently(client, calls)) == sorted([201] * 4 + [204, 200, 204])
    versions = [badge["version"] for badge in seen]
    assert len(versions) == len(set(versions)), seen
    last = max(seen, key=lambda badge: badge["version"])
    body = page(client, seller)
    assert (body["unread_total"], body["unread_version"]) == (last["total"], last["version"])
    assert badge_matches_the_list(client, seller) == last["total"]


def test_random_membership_changes_keep_every_badge_equal_to_its_list(client, factory, chat):
    """Invites, leaves, removals, messages, reads and mutes of user groups in any order, then dissolution: after
    each step every badge is the sum of the unread counts its owner's list shows."""
    import random

    rng = random.Random(7)
    people = [factory.user() for _ in range(5)]
    owner = people[0]
    groups = {}
    for name in ("一群", "二群"):
        r = client.post(f"{API}/groups", json={"name": name, "member_ids": [p.id for p in people[1:3]]},
                        headers=owner.headers)
        groups[r.get_json()["id"]] = {owner.id, people[1].id, people[2].id}
    by_id = {p.id: p for p in people}
    for _ in range(40):
        group_id = rng.choice(list(groups))
        members, outside = groups[group_id], [p for p in people if p.id not in groups[group_id]]
        step = rng.choice(("send", "send", "read", "mute", "invite", "leave", "remove"))
        actor = by_id[rng.choice(sorted(members))]
        if step == "send":
            chat.send(actor, group_id, "消息")
        elif step == "read":
            last = chat.history(actor, group_id)["items"][-1]["seq"]
            read(client, actor, group_id, rng.randint(1, last))
        elif step == "mute":
            assert put(client, actor, group_id, muted=rng.random() < 0.5).status_code == 200
        elif step == "invite" and outside:
            invited = rng.choice(outside)
            r = client.post(f"{API}/groups/{group_id}/members", json={"user_ids": [invited.id]}, headers=owner.headers)
            assert r.status_code == 200, r.get_json()
            members.add(invited.id)
        elif step in ("leave", "remove") and len(members) > 2:
            gone = by_id[rng.choice(sorted(members - {owner.id}))]
            r = (client.post(f"{API}/groups/{group_id}/leave", headers=gone.headers) if step == "leave"
                 else client.delete(f"{API}/groups/{group_id}/members/{gone.id}", headers=owner.headers))
            assert r.status_code == 204, r.get_json()
            members.discard(gone.id)
        for person in people:
            badge_matches_the_list(client, person)
    for group_id in groups:
        assert client.delete(f"{API}/groups/{group_id}", headers=owner.headers).status_code == 204
    assert [badge_matches_the_list(client, person) for person in people] == [0] * len(people)
