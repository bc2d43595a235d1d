"""Paging the conversation list while other threads keep sending: no conversation skipped, none repeated."""
from __future__ import annotations

import random
import threading
import time

from tests.chat.helpers import API

ITEM_CHATS = 24
SENDERS = 3
TRAVERSALS = 6
PAGE = 4


def test_paging_while_messages_reorder_the_list_neither_skips_nor_repeats(client, factory, chat):
    buyer, seller, friend = factory.user(), factory.user(), factory.user()
    groups = []
    for i in range(ITEM_CHATS):
        group_id = chat.inquiry(buyer, chat.listing(seller, title=f"物品{i}"))["id"]
        if i % 5:  # a few stay without messages
            chat.send(buyer, group_id, f"问{i}")
        groups.append(group_id)
    groups.append(chat.direct(friend, buyer))
    for name in ("闲置交流", "同城自提"):
        room_id = chat.room(friend, name=name)
        assert client.post(f"{API}/rooms/{room_id}/join", headers=buyer.headers).status_code == 200
        groups.append(room_id)
    senders = {gid: (friend if gid in groups[ITEM_CHATS:] else seller) for gid in groups}

    app, stop, errors, sent = client.application, threading.Event(), [], [0]

    def keep_sending(worker: int) -> None:
        rng, own = random.Random(worker), app.test_client()
        n = 0
        while not stop.is_set():
            group_id = rng.choice(groups)
            actor = buyer if rng.random() < 0.2 else senders[group_id]
            r = own.post(f"{API}/groups/{group_id}/messages", headers=actor.headers,
                         json={"client_id": f"w{worker}-{n}", "type": "txt", "body": {"text": f"{worker}/{n}"}})
            if r.status_code != 201:
                errors.append(r.get_json())
                return
            n += 1
            sent[0] += 1
            time.sleep(rng.random() * 0.004)

    threads = [threading.Thread(target=keep_sending, args=(i,), daemon=True) for i in range(SENDERS)]
    for thread in threads:
        thread.start()
    try:
        for _ in range(TRAVERSALS):
            seen, cursor = [], None
            while True:
                params = {"limit": PAGE, **({"cursor": cursor} if cursor else {})}
                r = client.get(f"{API}/conversations", query_string=params, headers=buyer.headers)
                assert r.status_code == 200, r.get_json()
                body = r.get_json()
                seen += [item["group_id"] for item in body["items"]]
                cursor = body["next_cursor"]
                if cursor is None:
                    break
            assert len(seen) == len(set(seen)), f"repeated: {sorted(seen)}"
            assert sorted(seen) == sorted(groups), "skipped some"
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=10)
    assert errors == [] and sent[0] > TRAVERSALS
    # Once quiet, the first page is in order of latest activity.
    items = client.get(f"{API}/conversations?limit=100", headers=buyer.headers).get_json()["items"]
    assert sorted(item["group_id"] for item in items) == sorted(groups)
    assert [i["updated_at"] for i in items] == sorted((i["updated_at"] for i in items), reverse=True)
