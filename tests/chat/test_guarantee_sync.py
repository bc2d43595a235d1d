"""Guarantee: a client that keeps its last cursor and resyncs gets every message exactly once, in order.

8 concurrent senders post 200 messages each into 20 groups (REST, over real sockets)
while one member of all 20 groups drops its WebSocket at random moments, abruptly or
cleanly, many times, and on every reconnect resumes from the last cursor it saw, whether
a `message` or an `ack` carried it: on connect (`/ws?cursor=`, sending at once) or with
`sync` as its first frame (sending after it); it sends again what was not acked. After a final sync it must hold every message
once, each group's seq 1..N in order, and its inbox positions 1..M in order. Runs on the in-process app (both backends) and
on two gunicorn gevent processes sharing Redis and PostgreSQL.
"""
from __future__ import annotations

import os
import random
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import pytest
import websocket

from chat.cursors import decode_cursor
from tests.chat.broker_support import RedisServer
from tests.factories import Actor
from tests.support.servers import GunicornServer, HttpApi, own_app, pg_database
from tests.support.wsclient import WsClient, serve

SENDERS, PER_SENDER, PEERS = 8, 200, 10  # each peer has an item and a direct group with the receiver
MAX_LIFETIME_S = 0.3  # a receiver socket lives 0..this long before it is dropped
MAX_OFFLINE_S = 0.4  # ... and stays away 0..this long before the next one (now and then)
MAX_SYNC_DELAY_S = 0.15  # ... and sometimes waits this long after hello before it syncs
SMALL_BATCH = 16  # in-process: replays come in many `more: true` batches
OWN_SEND_RATE = 0.3  # how often a receiver session sends a message of its own
TEST_BUDGET_S = 120.0
MIN_DROPS = 20  # the receiver drops its socket at least this often, however soon the senders finish

pytestmark = pytest.mark.slow


@dataclass
class World:
    receiver: Actor
    peer_of: dict[int, Actor]  # group id → the peer who sends there


def build_world(api: HttpApi) -> World:
    receiver = api.user("recv")
    peer_of: dict[int, Actor] = {}
    for i in range(PEERS):
        peer = api.user("peer")
        peer_of[api.inquiry(peer, api.listing(receiver, f"闲置好物 #{i}"))] = peer
        peer_of[api.direct(peer, receiver)] = peer
    assert len(peer_of) == 2 * PEERS
    return World(receiver, peer_of)


def run_senders(apis: list[HttpApi], world: World, seed: int) -> tuple[list[threading.Thread], list, list]:
    """Start SENDERS threads posting PER_SENDER messages each into random groups; (threads, sent, errors)."""
    sent: list[dict] = []
    errors: list[BaseException] = []
    lock, barrier = threading.Lock(), threading.Barrier(SENDERS)
    group_ids = sorted(world.peer_of)

    def sender(k: int) -> None:
        rng, api = random.Random(seed + k), apis[k % len(apis)]
        try:
            barrier.wait(10)
            for n in range(PER_SENDER):
                group_id = rng.choice(group_ids)
                message = api.send(world.peer_of[group_id], group_id, f"s{k}-{n}",
                                   f"第{n}条 from {k} 🚀 <b>'; DROP TABLE x;--", status=201)
                with lock:
                    sent.append(message)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    threads = [threading.Thread(target=sender, args=(k,), daemon=True) for k in range(SENDERS)]
    for t in threads:
        t.start()
    return threads, sent, errors


@dataclass
class FlakyReceiver:
    """Drops its socket at random moments and resyncs from the last cursor it saw, whatever frame
    carried it. It also sends now and then (before or after its sync) and sends again, with the
    same client_id, whatever was neither acked nor seen when its socket dropped."""

    ws_urls: list[str]
    actor: Actor
    resume: str  # "url": `/ws?cursor=` on connect; "sync": a `sync` frame first
    group_ids: list[int]
    rng: random.Random
    cursor: str | None = None
    got: list[tuple[int, dict]] = field(default_factory=list)  # (inbox position, message), arrival order
    seen: set[int] = field(default_factory=set)  # message ids in `got`
    pending: dict[str, int] = field(default_factory=dict)  # own client_id → group, not acked or seen yet
    sessions: int = 0
    abrupt: int = 0
    server_closed: int = 0
    more_batches: int = 0
    own_sends: int = 0
    resends: int = 0
    reacks: int = 0

    def session(self, lifetime: float | None) -> None:
        """One connection: hello, sync from the cursor, read until `lifetime` passes (None: until all is in)."""
        self.sessions += 1
        by_url = self.resume == "url"
        client = WsClient(self.rng.choice(self.ws_urls), self.actor.token, timeout=10,
                          **({"resume": self.cursor} if by_url else {}))
        final = lifetime is None
        deadline = time.monotonic() + (30.0 if final else lifetime)
        try:
            client.hello()
            if by_url:
                self._send(client)  # the outbox at once: acks follow the replay
            else:
                if not final and self.rng.random() < 0.3:
                    self._expect_nothing_before_sync(client, self.rng.uniform(0, MAX_SYNC_DELAY_S))
                client.send({"op": "sync", "cursor": self.cursor})
                self._send(client)
            synced = False
            while (left := deadline - time.monotonic()) > 0:
                try:
                    frame = client.recv(left)
                except websocket.WebSocketTimeoutException:
                    assert not final, "the final sync did not finish in time"
                    return
                except websocket.WebSocketConnectionClosedException:
                    self.server_closed += 1
                    return
                synced = self._take(frame, client) or synced
                if final and synced and not self.pending:
                    return
        finally:
            if self.rng.random() < 0.5:
                self.abrupt += 1
                client.ws.shutdown()  # no close frame: the server finds a dead socket
            else:
                client.close()

    def _send(self, client: WsClient) -> None:
        for client_id, group_id in self.pending.items():
            self.resends += 1
            client.send(self._frame(client_id, group_id))
        if self.rng.random() < OWN_SEND_RATE:
            client_id, group_id = f"own-{self.own_sends}", self.rng.choice(self.group_ids)
            self.own_sends += 1
            self.pending[client_id] = group_id
            client.send(self._frame(client_id, group_id))

    @staticmethod
    def _frame(client_id: str, group_id: int) -> dict:
        return {"op": "send", "client_id": client_id, "group_id": group_id, "type": "txt",
                "body": {"text": f"回复 {client_id} 👌"}}

    @staticmethod
    def _expect_nothing_before_sync(client: WsClient, wait: float) -> None:
        """Until the client syncs, the server holds messages (and acks) back."""
        try:
            frame = client.recv(wait)
        except websocket.WebSocketTimeoutException:
            return
        assert frame["op"] == "event", f"{frame['op']} before sync"

    def _take(self, frame: dict, client: WsClient) -> bool:
        """Record a frame; True at the end of a complete sync."""
        op = frame["op"]
        assert op in ("message", "ack", "synced", "event"), frame
        if op in ("message", "ack"):
            message = frame["message"]
            pos = decode_cursor(frame["cursor"])
            if op == "ack" and message["id"] in self.seen:
                self.reacks += 1  # a resent client_id answered again: the cursor must not move
                assert pos == self.got[-1][0], (pos, self.got[-1][0])
            else:
                self.got.append((pos, message))
                self.seen.add(message["id"])
            if message["sender"] and message["sender"]["id"] == self.actor.id:
                self.pending.pop(message["client_id"], None)
            self.cursor = frame["cursor"]
        elif op == "synced":
            self.cursor = frame["cursor"]
            if frame["more"]:
                self.more_batches += 1
                client.send({"op": "sync", "cursor": self.cursor})
            return not frame["more"]
        return False


def run_guarantee(label: str, apis: list[HttpApi], ws_urls: list[str], seed: int, resume: str) -> dict[str, int]:
    """Senders and a flaky receiver against the given servers; check and return the figures."""
    started = time.monotonic()
    world = build_world(apis[0])
    receiver = FlakyReceiver(ws_urls, world.receiver, resume, sorted(world.peer_of), random.Random(seed))
    threads, sent, errors = run_senders(apis, world, seed)
    while (any(t.is_alive() for t in threads) or receiver.sessions - 1 < MIN_DROPS) and not errors:
        assert time.monotonic() - started < TEST_BUDGET_S, "senders did not finish in time"
        receiver.session(receiver.rng.uniform(0.0, MAX_LIFETIME_S))
        if receiver.rng.random() < 0.3:
            time.sleep(receiver.rng.uniform(0.0, MAX_OFFLINE_S))  # offline for a while: a longer backlog
    for t in threads:
        t.join(timeout=30)
    assert not errors, errors[:3]
    receiver.session(None)  # the final sync, and the last resends answered

    own = [m for _, m in receiver.got if m["sender"]["id"] == world.receiver.id]
    expected = {m["id"]: m for m in sent} | {m["id"]: m for m in own}
    ids = [m["id"] for _, m in receiver.got]
    figures = {"sent": len(sent), "own_sends": len(own), "received_frames": len(ids),
               "reconnects": receiver.sessions - 1, "abrupt_drops": receiver.abrupt,
               "more_batches": receiver.more_batches, "resends": receiver.resends, "reacks": receiver.reacks,
               "server_closes": receiver.server_closed, "missing": len(expected.keys() - set(ids)),
               "duplicated": sum(n - 1 for n in Counter(ids).values())}
    print(f"\nguarantee sync [{label}, resume by {resume}]: " + ", ".join(f"{k}={v}" for k, v in figures.items())
          + f", seconds={time.monotonic() - started:.1f}")

    assert figures["sent"] == SENDERS * PER_SENDER
    assert (figures["missing"], figures["duplicated"]) == (0, 0), figures
    assert sorted(m["client_id"] for m in own) == sorted(f"own-{n}" for n in range(receiver.own_sends))
    assert figures["reconnects"] >= MIN_DROPS, "the receiver should have dropped its socket many times"
    assert figures["server_closes"] == 0, "the server closed a healthy socket"
    # inbox positions 1..M in arrival order, M the receiver's latest; each group's seq 1..N in order
    assert [pos for pos, _ in receiver.got] == list(range(1, len(expected) + 1))
    assert decode_cursor(receiver.cursor) == len(expected)
    arrived = defaultdict(list)
    for _, message in receiver.got:
        arrived[message["group_id"]].append(message["seq"])
    for group_id in world.peer_of:
        count = sum(1 for m in expected.values() if m["group_id"] == group_id)
        assert arrived[group_id] == list(range(1, count + 1)), group_id
    assert all(m == expected[m["id"]] for m in (m for _, m in receiver.got) if m["id"] in {s["id"] for s in sent}), \
        "a delivered message differs from the one the sender was given"
    return figures


@pytest.mark.parametrize("resume", ["url", "sync"])
def test_resync_after_random_disconnects_delivers_every_message_once_in_order(clean_app, database_url,
                                                                               tmp_path, resume):
    with own_app(tmp_path, database_url, WS_SYNC_BATCH=SMALL_BATCH) as app, serve(app) as server:
        run_guarantee(f"in-process {app.extensions['db'].engine.dialect.name}", [HttpApi(server.url)],
                      [server.ws_url], seed=1, resume=resume)


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"),
                    reason="two gunicorn processes share a PostgreSQL schema: set TEST_DATABASE_URL")
@pytest.mark.parametrize("resume", ["url", "sync"])
def test_resync_across_two_gunicorn_processes_delivers_every_message_once_in_order(tmp_path, resume):
    # A private Redis: pub/sub channels are named by user id, which another run's schema reuses.
    with RedisServer(tmp_path / "redis") as redis_server, pg_database() as database_url, \
            GunicornServer(tmp_path, database_url=database_url, redis_url=redis_server.url, name="a") as a, \
            GunicornServer(tmp_path, database_url=database_url, redis_url=redis_server.url, name="b") as b:
        run_guarantee("gunicorn x2 + redis + postgresql", [HttpApi(a.url), HttpApi(b.url)],
                      [a.ws_url, b.ws_url], seed=2, resume=resume)
