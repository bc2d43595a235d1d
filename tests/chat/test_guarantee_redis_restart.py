"""Guarantee: a Redis restart loses nothing for connected sockets, and they need not reconnect.

While messages are being sent, a private Redis is killed and, once the sends stop,
restarted on the same port. What was published during the outage is gone from pub/sub;
the broker's `on_reconnect` makes every live socket catch up from the database. No
message is sent after the restart until the catch-up is checked, so nothing else (a
later live frame exposing the gap) can fill it; on the in-process app the periodic
catch-up is pushed out of reach (WS_CATCH_UP_S), on gunicorn it is 25 s after connect.
"""
from __future__ import annotations

import itertools
import os
import threading
import time
from dataclasses import dataclass, field

import pytest
import websocket

from chat.cursors import decode_cursor
from tests.chat.broker_support import RedisServer, wait_until
from tests.factories import Actor
from tests.support.servers import GunicornServer, HttpApi, own_app, pg_database
from tests.support.wsclient import WsClient, serve

pytestmark = pytest.mark.slow

BEFORE, DURING, AFTER = 15, 25, 5  # messages sent before the kill, while Redis is down, after it is back
PACE_S = 0.02  # between two sends: the stream spans the outage
CATCH_UP_BUDGET_S = 15.0
GUNICORN_CATCH_UP_S = 25.0  # the default periodic catch-up of a socket (WS_CATCH_UP_S)


@dataclass
class Device:
    name: str
    client: WsClient
    frames: list[dict] = field(default_factory=list)

    def read_until(self, count: int, timeout: float) -> bool:
        """Read message frames until `count` arrived in total or `timeout` passed."""
        deadline = time.monotonic() + timeout
        while len(self.frames) < count and (left := deadline - time.monotonic()) > 0:
            try:
                frame = self.client.recv(left)
            except websocket.WebSocketTimeoutException:
                break
            assert frame["op"] in ("message", "event", "pong"), (self.name, frame)
            if frame["op"] == "message":
                self.frames.append(frame)
        return len(self.frames) >= count


@dataclass
class Stream:
    """Sends txt messages over REST, alternating authors and servers, until stopped."""

    apis: list[HttpApi]
    authors: list[Actor]
    group_id: int
    sent: list[dict] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self, limit: int | None = None) -> None:
        try:
            for n in itertools.count(len(self.sent)):
                if self.stop.is_set() or (limit is not None and n >= limit):
                    return
                api, author = self.apis[n % len(self.apis)], self.authors[n % len(self.authors)]
                self.sent.append(api.send(author, self.group_id, f"r{n}", f"第{n}条 🧊", status=201))
                time.sleep(PACE_S)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.errors.append(exc)


def check(device: Device, sent: list[dict]) -> None:
    ids = [f["message"]["id"] for f in device.frames]
    assert ids == [m["id"] for m in sent], device.name
    assert [f["message"]["seq"] for f in device.frames] == list(range(1, len(sent) + 1)), device.name
    assert [decode_cursor(f["cursor"]) for f in device.frames] == list(range(1, len(sent) + 1)), device.name


def run_outage(redis_server: RedisServer, apis: list[HttpApi], ws_urls: list[str], label: str) -> dict:
    """The scenario; ws_urls[i] serves device i (seller, seller's second device, buyer)."""
    seller, buyer = apis[0].user("seller"), apis[-1].user("buyer")
    group_id = apis[-1].inquiry(buyer, apis[0].listing(seller, "二手自行车"))
    devices = []
    for name, actor, url in zip(("seller", "seller-2", "buyer"), (seller, seller, buyer), ws_urls):
        client = WsClient(url, actor.token, timeout=10)
        client.hello()
        assert client.sync(None) == []
        devices.append(Device(name, client))
    connected_at = time.monotonic()
    stream = Stream(apis, [buyer, seller], group_id)
    sender = threading.Thread(target=stream.run, daemon=True)
    try:
        sender.start()
        assert wait_until(lambda: len(stream.sent) >= BEFORE or stream.errors, timeout=20)
        for device in devices:  # live delivery works
            assert device.read_until(BEFORE, timeout=10), device.name
        redis_server.kill()
        sent_at_kill = len(stream.sent)
        assert wait_until(lambda: len(stream.sent) >= sent_at_kill + DURING or stream.errors, timeout=30)
        stream.stop.set()
        sender.join(timeout=10)
        assert not sender.is_alive() and not stream.errors, stream.errors
        stream.stop.clear()
        for device in devices:  # live delivery stopped with Redis: the outage's messages are missing
            device.read_until(len(stream.sent), timeout=0.3)
            assert len(device.frames) < len(stream.sent), (device.name, len(device.frames))
        missed = min(len(stream.sent) - len(d.frames) for d in devices)
        sent_while_down = len(stream.sent) - sent_at_kill

        redis_server.start()
        restarted_at = time.monotonic()
        for device in devices:
            assert device.read_until(len(stream.sent), CATCH_UP_BUDGET_S), \
                f"{device.name} has {len(device.frames)} of {len(stream.sent)} after the restart"
            check(device, stream.sent)
        caught_up_s = time.monotonic() - restarted_at
        within_first_interval = time.monotonic() - connected_at < GUNICORN_CATCH_UP_S

        stream.run(len(stream.sent) + AFTER)  # live delivery is back: later sends flow at once
        assert not stream.errors, stream.errors
        for device in devices:
            assert device.read_until(len(stream.sent), timeout=10), device.name
            check(device, stream.sent)
    finally:
        stream.stop.set()
        for device in devices:
            device.client.close()
    figures = {"sent": len(stream.sent), "sent_while_down": sent_while_down, "missed_live_at_least": missed,
               "caught_up_s": round(caught_up_s, 2), "reconnects": 0}
    print(f"\nguarantee redis restart [{label}]: " + ", ".join(f"{k}={v}" for k, v in figures.items()))
    # One send may straddle the kill, and the first publish to meet the outage may still reach a socket in
    # its own process (RedisBroker delivers there before Redis answers); nothing after it does.
    assert missed >= sent_while_down - 2 and sent_while_down >= DURING
    return {**figures, "within_first_interval": within_first_interval}


def test_redis_restart_mid_stream_loses_nothing_for_connected_sockets(clean_app, database_url, tmp_path):
    with RedisServer(tmp_path / "redis") as redis_server, \
            own_app(tmp_path, database_url, REDIS_URL=redis_server.url, WS_CATCH_UP_S=3600.0) as app, \
            serve(app) as server:
        api = HttpApi(server.url)
        run_outage(redis_server, [api], [server.ws_url] * 3,
                   f"in-process {app.extensions['db'].engine.dialect.name}")


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"),
                    reason="two gunicorn processes share a PostgreSQL schema: set TEST_DATABASE_URL")
def test_redis_restart_mid_stream_loses_nothing_across_gunicorn_processes(tmp_path):
    with RedisServer(tmp_path / "redis") as redis_server, pg_database() as database_url, \
            GunicornServer(tmp_path, database_url=database_url, redis_url=redis_server.url, name="a") as a, \
            GunicornServer(tmp_path, database_url=database_url, redis_url=redis_server.url, name="b") as b:
        figures = run_outage(redis_server, [HttpApi(a.url), HttpApi(b.url)], [a.ws_url, b.ws_url, b.ws_url],
                             "gunicorn x2 + postgresql")
        # Caught up before any socket's first periodic catch-up: the broker's on_reconnect did it.
        assert figures["within_first_interval"], figures
