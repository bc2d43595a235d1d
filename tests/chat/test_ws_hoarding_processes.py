"""The per-user socket cap holds across processes: two gunicorn gevent servers sharing one Redis (and the
database), one user opening sockets on both. Past WS_MAX_SOCKETS_PER_USER the oldest socket is closed with 4429
wherever it lives (in the process that opened one too many, or in the other one, by a control on the user's
channel), the others stay; the sockets of a killed process stop counting once its heartbeat key expires; and a
process puts its sockets back in the count after Redis restarted empty."""
from __future__ import annotations

import pytest
import redis

from chat.ws.frames import CLOSE_TOO_MANY_SOCKETS
from tests.chat.broker_support import RedisServer, wait_until
from tests.support.servers import GunicornServer, HttpApi, shared_database
from tests.support.wsclient import WsClient, serve, tuned_app

pytestmark = pytest.mark.slow

CAP = 3
SETTINGS = {"WS_MAX_SOCKETS_PER_USER": str(CAP), "PRESENCE_TTL_S": "3"}


def open_socket(server: GunicornServer, token: str) -> WsClient:
    ws = WsClient(server.ws_url, token, timeout=10)
    ws.ready()
    return ws


def evicted(ws: WsClient) -> bool:
    """Closed with 4429 after a `too_many_sockets` error frame."""
    return (ws.close_status(timeout=10) == CLOSE_TOO_MANY_SOCKETS
            and [f["error"]["code"] for f in ws.seen if f["op"] == "error"] == ["too_many_sockets"])


def alive(ws: WsClient) -> bool:
    ws.send({"op": "ping"})
    return ws.op("pong", timeout=10) == {"op": "pong"}


def test_the_cap_counts_a_users_sockets_in_every_process_and_forgets_a_killed_one(tmp_path):
    with RedisServer(tmp_path / "redis") as redis_server, shared_database(tmp_path) as database_url, \
            GunicornServer(tmp_path, database_url=database_url, redis_url=redis_server.url, name="a",
                           env=SETTINGS) as a, \
            GunicornServer(tmp_path, database_url=database_url, redis_url=redis_server.url, name="b",
                           env=SETTINGS) as b:
        api = HttpApi(a.url)
        user, other = api.user("hoarder"), api.user("other")
        inspect = redis.Redis.from_url(redis_server.url, decode_responses=True)
        sockets: list[WsClient] = []

        def connect(server: GunicornServer, token: str = user.token) -> WsClient:
            sockets.append(open_socket(server, token))
            return sockets[-1]

        try:
            bystander = connect(b, other.token)
            a1, a2, b1 = connect(a), connect(a), connect(b)  # the cap: 2 on A, 1 on B
            a3 = connect(a)
            assert evicted(a1)  # the oldest, in the process that opened one too many
            b2 = connect(b)
            assert evicted(a2)  # the oldest, in the other process: closed by a control from B
            a4 = connect(a)
            assert evicted(b1)  # and the other way round
            assert all(alive(ws) for ws in (a3, b2, a4, bystander))
            assert inspect.zcard(f"presence:sockets:{user.id}") == CAP

            # A dies without a word; its sockets (a3, a4) are older and younger than b2 on B.
            a.kill()
            assert wait_until(lambda: len(inspect.keys("presence:proc:*")) == 1, timeout=15)  # B's only
            b3, b4 = connect(b), connect(b)
            # Had A's dead entries still counted, b3 would have pushed out a3's entry and b4 the live b2.
            assert all(alive(ws) for ws in (b2, b3, b4, bystander))
            assert inspect.zcard(f"presence:sockets:{user.id}") == CAP
            b5 = connect(b)
            assert evicted(b2)
            assert all(alive(ws) for ws in (b3, b4, b5))
        finally:
            for ws in sockets:
                ws.close()
            inspect.close()


def test_after_a_redis_restart_each_process_puts_its_sockets_back_in_the_count(clean_app, factory, tmp_path):
    with RedisServer(tmp_path / "redis") as redis_server, \
            tuned_app(clean_app, REDIS_URL=redis_server.url, WS_MAX_SOCKETS_PER_USER=2, PRESENCE_TTL_S=1) as app, \
            serve(app) as server:
        user = factory.user()
        key = f"presence:sockets:{user.id}"
        inspect = redis.Redis.from_url(redis_server.url, decode_responses=True)
        first, second = open_socket(server, user.token), open_socket(server, user.token)
        sockets = [first, second]
        try:
            assert inspect.zcard(key) == 2
            redis_server.restart()  # nothing saved: the count is gone
            assert wait_until(lambda: _zcard(inspect, key) == 2, timeout=15)  # the presence beat put both back
            sockets.append(open_socket(server, user.token))
            assert evicted(first)  # still the oldest: it came back with its opening time
            assert all(alive(ws) for ws in sockets[1:])
        finally:
            for ws in sockets:
                ws.close()
            inspect.close()


def _zcard(client: redis.Redis, key: str) -> int:
    try:
        return int(client.zcard(key))
    except (redis.RedisError, OSError):  # Redis is still coming back
        return -1
