"""Presence across processes through Redis: app instances sharing one Redis (and the database) see
each other's users, and the users of an instance that stops beating go offline within the TTL."""
from __future__ import annotations

import time

import pytest

from chat.presence import make_presence
from tests.chat.test_presence_support import (
    connect,
    instance,
    is_presence,
    peer_online,
    private_prefix,
)
from tests.support.wsclient import wait_until


@pytest.fixture
def prefix() -> str:
    return private_prefix()


def test_a_user_connected_to_one_instance_is_online_as_seen_from_another(clean_app, tmp_path, redis_url,
                                                                        prefix, chat, factory):
    seller, buyer = factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    shared = dict(REDIS_URL=redis_url, PRESENCE_PREFIX=prefix)
    with instance(clean_app, tmp_path / "a", **shared) as a, instance(clean_app, tmp_path / "b", **shared) as b:
        buyer_on_b = connect(b, buyer)
        try:
            assert peer_online(b.app, buyer, group_id) is False
            on_a = connect(a, seller)
            buyer_on_b.recv_until(is_presence(seller.id, True), timeout=3)  # published by A, heard on B
            assert peer_online(b.app, buyer, group_id) is True
            on_b = connect(b, seller)  # a second device, on the other instance
            on_a.close()
            assert wait_until(lambda: not a.app.extensions["chat_hub"].is_online(seller.id), timeout=3)
            time.sleep(0.2)  # A's presence worker has withdrawn the seller by now
            assert peer_online(b.app, buyer, group_id) is True and peer_online(a.app, buyer, group_id) is True
            on_b.close()
            buyer_on_b.recv_until(is_presence(seller.id, False), timeout=3)
            assert peer_online(a.app, buyer, group_id) is False and peer_online(b.app, buyer, group_id) is False
            # exactly one online and one offline event: the hand-over between instances was silent
            assert [f["data"]["online"] for f in buyer_on_b.seen if f.get("type") == "presence"] == [True, False]
        finally:
            buyer_on_b.close()


def test_users_of_an_instance_that_stops_beating_go_offline_within_the_ttl(clean_app, tmp_path, redis_url,
                                                                          prefix, chat, factory):
    seller, buyer = factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    quick = dict(REDIS_URL=redis_url, PRESENCE_PREFIX=prefix, PRESENCE_TTL_S=1)
    with instance(clean_app, tmp_path / "a", **quick) as a, instance(clean_app, tmp_path / "b", **quick) as b:
        buyer_on_b = connect(b, buyer)
        device = connect(a, seller)
        try:
            buyer_on_b.recv_until(is_presence(seller.id, True), timeout=3)
            time.sleep(2.5)  # well past the 1 s TTL: the heartbeat keeps A's users online
            assert peer_online(b.app, buyer, group_id) is True
            a.app.extensions["presence"].close(forget=False)  # A's heartbeat stops, as if it were killed
            stopped = time.monotonic()
            assert wait_until(lambda: not peer_online(b.app, buyer, group_id), timeout=3)
            assert time.monotonic() - stopped < 2.0
            # B's heartbeat finds A dead and tells the seller's peers, once
            buyer_on_b.recv_until(is_presence(seller.id, False), timeout=3)
            assert time.monotonic() - stopped < 3.0
            assert [f["data"]["online"] for f in buyer_on_b.frames_for(0.5) if f.get("type") == "presence"] == []
            assert a.app.extensions["chat_hub"].is_online(seller.id)  # the socket itself is still open
        finally:
            device.close()
            buyer_on_b.close()


def test_batch_lookup_answers_for_many_users_across_processes(redis_url, prefix):
    here, there = make_presence(redis_url, prefix=prefix), make_presence(redis_url, prefix=prefix)
    try:
        for uid in range(1, 101):
            (here if uid % 2 else there).arrived(uid)
        there.left(100)
        expected = {uid for uid in range(1, 100)}
        assert wait_until(lambda: here.online(range(1, 151)) == expected, timeout=3)
        assert wait_until(lambda: there.online(range(1, 151)) == expected, timeout=3)
        assert here.here(range(1, 151)) == {uid for uid in range(1, 100, 2)}
    finally:
        here.close()
        there.close()
    fresh = make_presence(redis_url, prefix=prefix)
    try:
        assert fresh.online(range(1, 151)) == set()  # a closed process withdraws its users at once
    finally:
        fresh.close()


def commands_run(raw) -> int:
    """Commands clients sent (a script's own SMEMBERS/EXISTS inside it are counted by Redis too: not these)."""
    stats = raw.info("commandstats")
    inside_scripts = sum(stats.get(f"cmdstat_{name}", {}).get("calls", 0) for name in ("smembers", "exists"))
    return sum(stat["calls"] for stat in stats.values()) - inside_scripts


def test_batch_lookup_is_one_redis_command_whatever_the_number_of_users(redis_url, prefix):
    import redis
    raw = redis.Redis.from_url(redis_url)
    presence, other = make_presence(redis_url, prefix=prefix), make_presence(redis_url, prefix=prefix)
    try:
        for uid in range(1, 201):
            other.arrived(uid)
        assert wait_until(lambda: len(presence.online(range(1, 201))) == 200, timeout=3)
        idle = min(-commands_run(raw) + commands_run(raw) for _ in range(3))  # the INFO itself
        costs = []
        for _ in range(3):  # the least of three: another client's command may land in between
            before = commands_run(raw)
            assert presence.online(range(1, 201)) == set(range(1, 201))
            costs.append(commands_run(raw) - before - idle)
        assert min(costs) == 1
    finally:
        presence.close()
        other.close()
        raw.close()
