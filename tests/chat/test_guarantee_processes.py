"""Guarantee: any process serves any user — two gunicorn gevent processes sharing Redis and PostgreSQL.

The buyer is connected to process A, the seller to B and the seller's second device to A.
Messages go both ways, one at a time and then in concurrent bursts; every socket gets
every message once, in order, the sender's own as an `ack` and its other device's as a
`message`; and `sync` from scratch on either process replays the same history.
"""
from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from chat.cursors import decode_cursor
from tests.chat.broker_support import RedisServer, wait_until
from tests.support.servers import GunicornServer, HttpApi, pg_database
from tests.support.wsclient import WsClient

pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"),
    reason="two gunicorn processes share a PostgreSQL schema: set TEST_DATABASE_URL")]

LOCKSTEP, BURST = 5, 30  # messages each way: one at a time, then all at once from two threads


@pytest.fixture
def processes(tmp_path):
    with RedisServer(tmp_path / "redis") as redis_server, pg_database() as database_url, \
            GunicornServer(tmp_path, database_url=database_url, redis_url=redis_server.url, name="a") as a, \
            GunicornServer(tmp_path, database_url=database_url, redis_url=redis_server.url, name="b") as b:
        yield a, b


@dataclass
class Device:
    """One connected socket of a user and every message or ack it got, in arrival order."""

    client: WsClient
    user_id: int
    frames: list[dict] = field(default_factory=list)

    def send(self, group_id: int, client_id: str, text: str) -> None:
        self.client.send({"op": "send", "client_id": client_id, "group_id": group_id,
                          "type": "txt", "body": {"text": text}})

    def until(self, count: int, timeout: float = 15.0) -> list[dict]:
        """Read until `count` message/ack frames arrived in total (bounded); all of them."""
        while len(self.frames) < count:
            frame = self.client.recv_until(lambda f: f["op"] in ("message", "ack", "error"), timeout)
            assert frame["op"] != "error", frame
            self.frames.append(frame)
        return self.frames


def connect(ws_url: str, token: str, user_id: int, header: bool = True) -> Device:
    client = WsClient(ws_url, token, header=header, timeout=15)
    assert client.hello()["user_id"] == user_id
    assert client.sync(None) == []
    return Device(client, user_id)


def sync_history(ws_url: str, token: str) -> list[tuple[int, int, int]]:
    """(inbox position, message id, seq) of a full replay from the beginning on a new socket."""
    client = WsClient(ws_url, token, timeout=15)
    try:
        client.hello()
        return [(decode_cursor(f["cursor"]), f["message"]["id"], f["message"]["seq"]) for f in client.sync(None)]
    finally:
        client.close()


def check_device(device: Device, total: int, own_device_sends: set[str]) -> list[int]:
    """Every message once, seq 1..total and positions 1..total in order; acks exactly for own sends."""
    frames = device.until(total)
    assert len(frames) == total
    assert [f["message"]["seq"] for f in frames] == list(range(1, total + 1))
    assert [decode_cursor(f["cursor"]) for f in frames] == list(range(1, total + 1))
    acked = {f["client_id"] for f in frames if f["op"] == "ack"}
    assert acked == own_device_sends
    assert all(f["message"]["client_id"] == f["client_id"] for f in frames if f["op"] == "ack")
    return [f["message"]["id"] for f in frames]


def test_messages_cross_processes_both_ways_to_every_device_and_sync_agrees(processes):
    a, b = processes
    api_a, api_b = HttpApi(a.url), HttpApi(b.url)
    seller, buyer = api_a.user("seller"), api_b.user("buyer")
    group_id = api_b.inquiry(buyer, api_a.listing(seller, "宜家书架 九成新"))

    buyer_a = connect(a.ws_url, buyer.token, buyer.id)
    seller_b = connect(b.ws_url, seller.token, seller.id)
    seller_a = connect(a.ws_url, seller.token, seller.id, header=False)  # the seller's second device
    devices = (buyer_a, seller_b, seller_a)
    try:
        sent = 0
        for i in range(LOCKSTEP):
            buyer_a.send(group_id, f"b{i}", f"还在吗?{i} 🙂")
            sent += 1
            for device in devices:
                device.until(sent)
            assert buyer_a.frames[-1]["op"] == "ack" and seller_b.frames[-1]["op"] == "message"
            assert seller_a.frames[-1]["op"] == "message"
            seller_b.send(group_id, f"s{i}", f"在的,{i} 可小刀")
            sent += 1
            for device in devices:
                device.until(sent)
            assert seller_b.frames[-1]["op"] == "ack" and buyer_a.frames[-1]["op"] == "message"
            assert seller_a.frames[-1]["op"] == "message"  # the seller's own send, on the other device

        def burst(device: Device, prefix: str) -> None:
            for i in range(BURST):
                device.send(group_id, f"{prefix}{i}", f"<script>alert({i})</script> 价格 {i}")

        threads = [threading.Thread(target=burst, args=(buyer_a, "bb")),
                   threading.Thread(target=burst, args=(seller_b, "sb"))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=15)
        total = sent + 2 * BURST

        buyer_sends = {f"b{i}" for i in range(LOCKSTEP)} | {f"bb{i}" for i in range(BURST)}
        seller_sends = {f"s{i}" for i in range(LOCKSTEP)} | {f"sb{i}" for i in range(BURST)}
        ids = check_device(buyer_a, total, buyer_sends)
        assert check_device(seller_b, total, seller_sends) == ids
        assert check_device(seller_a, total, set()) == ids
    finally:
        for device in devices:
            device.client.close()

    # Sync from scratch, on either process, for either user: the same history.
    expected = [(n + 1, message_id, n + 1) for n, message_id in enumerate(ids)]
    assert sync_history(a.ws_url, seller.token) == expected
    assert sync_history(b.ws_url, seller.token) == expected
    assert sync_history(a.ws_url, buyer.token) == expected
    assert sync_history(b.ws_url, buyer.token) == expected
    history = api_b.expect(200, "GET", f"/groups/{group_id}/messages?limit=100", token=buyer.token)
    assert [m["id"] for m in history["items"]] == ids


def test_a_request_blocked_in_the_database_does_not_freeze_the_gevent_worker(tmp_path):
    """One gevent worker: while a send waits on a database lock, the same process still answers
    REST and WebSocket traffic (psycopg waits cooperatively: gevent patched before it was imported)."""
    with pg_database() as database_url, GunicornServer(tmp_path, database_url=database_url) as server:
        api = HttpApi(server.url)
        seller, buyer = api.user("seller"), api.user("buyer")
        group_id = api.inquiry(buyer, api.listing(seller))
        device = connect(server.ws_url, seller.token, seller.id)
        locker = create_engine(database_url, poolclass=NullPool)
        outcome: list = []
        try:
            with locker.connect() as conn:
                conn.execute(text("LOCK TABLE chat_groups IN ACCESS EXCLUSIVE MODE"))
                blocked = threading.Thread(target=lambda: outcome.append(
                    api.send(buyer, group_id, "blocked", "锁住了吗", status=201)), daemon=True)
                blocked.start()
                assert wait_until(lambda: _waiting_on_lock(conn), timeout=10), "the send never reached the lock"
                started = time.monotonic()
                assert api.expect(200, "GET", "/me", token=seller.token)["id"] == seller.id
                device.client.send({"op": "ping"})
                assert device.client.op("pong", timeout=5)
                assert time.monotonic() - started < 2.0, "the worker stalled while one request waited"
                assert not outcome, "the send went through a table lock"
                conn.commit()  # releases the lock
            blocked.join(timeout=10)
            assert outcome and outcome[0]["seq"] == 1
            assert device.until(1)[0]["message"]["id"] == outcome[0]["id"]
        finally:
            device.client.close()
            locker.dispose()


def _waiting_on_lock(conn) -> bool:
    return bool(conn.execute(text(
        "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'chat_groups'::regclass")).scalar())
