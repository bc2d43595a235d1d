"""The chaos run: buyer–seller pairs chatting through two gunicorn processes while sockets drop,
Redis restarts and one app process is SIGKILLed and started again; then every count that must
be zero is checked against the database.

`run_chaos` is shared by `bench/chaos.py` (the full run, by hand) and tests/chat/test_chaos.py
(a shorter one in `make test`). Needs PostgreSQL: two processes share one private schema.
"""
from __future__ import annotations

import itertools
import random
import threading
import time
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Self

from sqlalchemy import create_engine, select
from sqlalchemy.pool import NullPool

from chat.tables import messages_t
from tests.chat.broker_support import RedisServer
from tests.support.chaos_peer import Peer
from tests.support.servers import GunicornServer, HttpApi, pg_database

REDIS_RESTART_AT, KILL_AT = 0.25, 0.5  # fraction of all messages acked when each happens
REDIS_DOWN_S, APP_DOWN_S = 1.0, 1.0


@dataclass
class ChaosReport:
    """What the run counted; `bad()` names every count that must be zero and is not."""

    pairs: int = 0
    sent: int = 0  # distinct client_ids the clients sent (resends not counted again)
    acked: int = 0  # distinct client_ids acknowledged
    stored: int = 0  # messages in the database in the run's groups
    delivered: int = 0  # new message frames and acks the clients received
    duplicates: int = 0  # a message delivered to a client again, or stored twice
    missing: int = 0  # a stored message a member never got, or a sent one never stored
    out_of_order: int = 0  # a delivery not at seq previous + 1 in its group, or behind the client's cursor
    phantom_acks: int = 0  # acks of messages that are not in the database (as acked)
    resends: int = 0  # unanswered sends sent again, same client_id, after a reconnect
    send_errors: int = 0  # error frames answering a send (not stored; sent again a moment later)
    reconnects: int = 0
    drops: int = 0  # sockets the harness cut
    redis_restarts: int = 0
    kills: int = 0  # app processes SIGKILLed (and started again)
    unfinished: int = 0  # clients still waiting for something when the run's time was up
    seconds: float = 0.0

    BAD = ("duplicates", "missing", "out_of_order", "phantom_acks", "unfinished")

    def bad(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.BAD if getattr(self, name)}

    def line(self) -> str:
        return ", ".join(f"{f.name}={getattr(self, f.name)}" for f in fields(self))


class Cluster:
    """Redis and two app processes on one database; `urls` are the /ws addresses of those up now."""

    def __init__(self, directory: Path, database_url: str) -> None:
        self.redis = RedisServer(directory / "redis")
        self.apps = [GunicornServer(directory, database_url=database_url, redis_url=self.redis.url, name=name)
                     for name in ("a", "b")]
        self._up: list[str] = []
        self._lock = threading.Lock()

    def __enter__(self) -> Self:
        self.redis.start()
        for app in self.apps:
            app.start()
        self._up = [app.ws_url for app in self.apps]
        return self

    def __exit__(self, exc_type, *exc_info) -> None:
        for app in self.apps:
            app.__exit__(exc_type, *exc_info)
        self.redis.stop()

    def pick(self, rng: random.Random) -> str:
        with self._lock:
            return rng.choice(self._up)

    def restart_redis(self) -> None:
        self.redis.kill()
        time.sleep(REDIS_DOWN_S)
        self.redis.start()

    def kill_and_restart(self, index: int) -> None:
        """SIGKILL one app process (workers too); its clients move to the other; start it again."""
        app = self.apps[index]
        with self._lock:
            self._up.remove(app.ws_url)
        app.kill()
        time.sleep(APP_DOWN_S)
        app.start()  # on a new port: clients find it through `pick`
        with self._lock:
            self._up.append(app.ws_url)


def run_chaos(directory: Path, *, pairs: int, messages: int, window: int = 4, drop_every_s: float = 0.25,
              seed: int = 7, timeout_s: float = 600.0, log=print) -> ChaosReport:
    """`pairs` buyer–seller pairs exchange `messages` each (half from each side) under chaos; the report."""
    rng = random.Random(seed)
    with pg_database() as database_url, Cluster(Path(directory), database_url) as cluster:
        api = HttpApi(cluster.apps[0].url)
        finished = threading.Event()
        peers: list[Peer] = []
        for p in range(pairs):
            seller, buyer = api.user("seller"), api.user("buyer")
            group_id = api.inquiry(buyer, api.listing(seller, f"九成新 自行车 {p}号"))
            for role, actor in (("buyer", buyer), ("seller", seller)):
                share = messages // 2 + (messages % 2 if role == "buyer" else 0)
                client_ids = [f"{role}{p}-{i}" for i in range(share)]
                peers.append(Peer(f"{role}{p}", actor, group_id, client_ids, messages, cluster.pick, finished,
                                  seed=rng.randrange(2**32), window=window))
        report = ChaosReport(pairs=pairs)
        started = time.monotonic()
        for peer in peers:
            peer.start()
        _make_chaos(cluster, peers, report, rng, drop_every_s, started + timeout_s, log)
        finished.set()
        for peer in peers:
            peer.join(15)
        report.seconds = round(time.monotonic() - started, 1)
        _judge(database_url, peers, report)
    log(f"chaos: {report.line()}")
    return report


def _make_chaos(cluster: Cluster, peers: list[Peer], report: ChaosReport, rng: random.Random,
                drop_every_s: float, deadline: float, log) -> None:
    """Drop sockets at random, restart Redis once and kill an app process once, until every peer is done."""
    total = sum(len(peer.own) for peer in peers)
    next_drop = time.monotonic() + drop_every_s
    while time.monotonic() < deadline and not all(peer.done for peer in peers):
        acked = sum(len(peer.acked) for peer in peers) / total
        if not report.redis_restarts and acked >= REDIS_RESTART_AT:
            log(f"chaos: restarting Redis at {acked:.0%} acked")
            cluster.restart_redis()
            report.redis_restarts += 1
        elif not report.kills and acked >= KILL_AT:
            log(f"chaos: SIGKILL app b at {acked:.0%} acked")
            cluster.kill_and_restart(1)
            report.kills += 1
        if time.monotonic() >= next_drop:
            rng.choice(peers).drop.set()
            report.drops += 1
            next_drop = time.monotonic() + rng.uniform(0.5, 1.5) * drop_every_s
        time.sleep(0.02)


def _judge(database_url: str, peers: list[Peer], report: ChaosReport) -> None:
    """Compare what every client saw with what the database holds."""
    engine = create_engine(database_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(messages_t.c.id, messages_t.c.group_id, messages_t.c.seq,
                                       messages_t.c.sender_id, messages_t.c.client_id)
                                .where(messages_t.c.group_id.in_({peer.group_id for peer in peers}))
                                .order_by(messages_t.c.group_id, messages_t.c.seq)).all()
    finally:
        engine.dispose()
    by_group: dict[int, list[int]] = {}
    stored_as: dict[tuple[int, str], int] = {}
    for row in rows:
        by_group.setdefault(row.group_id, []).append(row.id)
        if stored_as.setdefault((row.sender_id, row.client_id), row.id) != row.id:
            report.duplicates += 1  # one client_id stored twice
    report.stored = len(rows)
    report.out_of_order += sum(sorted(r.seq for r in rows if r.group_id == g) != list(range(1, len(ids) + 1))
                               for g, ids in by_group.items())
    for peer in peers:
        report.sent += len(peer.attempted)
        report.acked += len(peer.acked)
        report.delivered += len(peer.inbox)
        report.duplicates += peer.duplicates
        seqs = [0] + [seq for _id, seq in peer.inbox]
        report.out_of_order += peer.backwards + sum(b != a + 1 for a, b in itertools.pairwise(seqs))
        report.missing += len(set(by_group.get(peer.group_id, ())) - peer.seen)
        report.missing += sum((peer.actor.id, c) not in stored_as for c in peer.attempted)
        report.phantom_acks += peer.ack_conflicts + sum(stored_as.get((peer.actor.id, c)) != message_id
                                                         for c, message_id in peer.acked.items())
        report.resends += peer.resends
        report.send_errors += peer.send_errors
        report.reconnects += peer.connects - 1
        report.unfinished += not peer.done
