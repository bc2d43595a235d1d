"""Guarantee: a user group of 50 loses nothing on reconnect.

Members of one group of 50 post concurrently (REST, over real sockets) while one member drops its
WebSocket at random moments and resumes from the last cursor it saw, on connect (`/ws?cursor=`) or
with `sync` (the flaky receiver of test_guarantee_sync, which also sends and resends over /ws). After a final sync the receiver holds
every message of the group exactly once, seq 1..N in order, at inbox positions 1..M; two other members
syncing from scratch get the same. Runs on the in-process app on both backends.
"""
from __future__ import annotations

import random
import threading
import time
from collections import Counter

import pytest

from chat.cursors import decode_cursor
from tests.chat.test_guarantee_sync import FlakyReceiver
from tests.support.servers import HttpApi, own_app
from tests.support.wsclient import WsClient, serve

MEMBERS, SENDERS, PER_SENDER = 50, 6, 60
MAX_LIFETIME_S, MAX_OFFLINE_S = 0.3, 0.4
TEST_BUDGET_S = 180.0

pytestmark = pytest.mark.slow


def group_history(api: HttpApi, actor, group_id: int) -> list[dict]:
    """Every message of the group, oldest first, paged forwards through REST history."""
    items, after = [], 0
    while True:
        page = api.expect(200, "GET", f"/groups/{group_id}/messages?after_seq={after}&limit=100", token=actor.token)
        items += page["items"]
        if page["next_cursor"] is None:
            return items
        after = int(page["next_cursor"])


def full_sync(ws_url: str, actor) -> list[dict]:
    client = WsClient(ws_url, actor.token, timeout=15)
    try:
        client.hello()
        return [frame for frame in client.sync(None)]
    finally:
        client.close()


@pytest.mark.parametrize("resume", ["url", "sync"])
def test_group_of_50_with_concurrent_senders_loses_nothing_on_reconnect(clean_app, database_url, tmp_path, resume):
    with own_app(tmp_path, database_url, WS_SYNC_BATCH=16) as app, serve(app) as server:
        api = HttpApi(server.url)
        owner, *others = [api.user("g") for _ in range(MEMBERS)]
        group = api.expect(201, "POST", "/groups", {"name": "五十人群", "member_ids": [u.id for u in others]},
                           owner.token)
        assert group["member_count"] == MEMBERS
        gid, receiver_actor, witnesses = group["id"], others[0], others[1:3]
        rng = random.Random(14)
        receiver = FlakyReceiver([server.ws_url], receiver_actor, resume, [gid], rng)

        errors: list[BaseException] = []
        barrier = threading.Barrier(SENDERS)

        def sender(k: int) -> None:
            local = random.Random(100 + k)
            try:
                barrier.wait(10)
                for n in range(PER_SENDER):
                    # Every fifth message waits for the receiver's next session: its reconnects fall
                    # among the sends however fast the server stores them.
                    while receiver.sessions < n // 5 and time.monotonic() - started < TEST_BUDGET_S:
                        time.sleep(0.01)
                    who = local.choice([owner, *others[1:]])
                    api.send(who, gid, f"g{k}-{n}", f"第{n}条 from {k}", status=201)
            except BaseException as exc:  # noqa: BLE001 - reported by the test
                errors.append(exc)

        threads = [threading.Thread(target=sender, args=(k,), daemon=True) for k in range(SENDERS)]
        started = time.monotonic()
        for t in threads:
            t.start()
        while any(t.is_alive() for t in threads) and not errors:
            assert time.monotonic() - started < TEST_BUDGET_S, "senders did not finish in time"
            receiver.session(rng.uniform(0.0, MAX_LIFETIME_S))
            if rng.random() < 0.3:
                time.sleep(rng.uniform(0.0, MAX_OFFLINE_S))
        for t in threads:
            t.join(timeout=30)
        assert not errors, errors[:3]
        receiver.session(None)

        history = group_history(api, owner, gid)
        assert [m["seq"] for m in history] == list(range(1, len(history) + 1))
        assert len(history) == 1 + SENDERS * PER_SENDER + receiver.own_sends  # the creation's system message too
        ids = [m["id"] for _, m in receiver.got]
        assert Counter(ids).most_common(1)[0][1] == 1, "a message arrived twice"
        assert ids == [m["id"] for m in history], "the receiver's messages differ from the group's history"
        assert [pos for pos, _ in receiver.got] == list(range(1, len(history) + 1))
        assert decode_cursor(receiver.cursor) == len(history)
        assert receiver.sessions > 10 and receiver.server_closed == 0
        for witness in witnesses:
            frames = full_sync(server.ws_url, witness)
            assert [f["message"]["id"] for f in frames] == [m["id"] for m in history]
