"""Socket hoarding on a real server with real sockets: past WS_MAX_SOCKETS_PER_USER a user's oldest socket is
closed with 4429 (others are untouched), and handshakes that fail to authenticate are capped per address
(HTTP 429 before any upgrade), while authenticated ones never count."""
from __future__ import annotations

import pytest
import websocket

from chat.ws.session import CLOSE_TOO_MANY_SOCKETS
from tests.support.wsclient import WsClient, serve, tuned_app, wait_until


def test_past_the_cap_the_oldest_socket_of_the_user_is_closed_with_4429(clean_app, factory):
    with tuned_app(clean_app, WS_MAX_SOCKETS_PER_USER=3) as app, serve(app) as server:
        hoarder, other = factory.user(), factory.user()
        hub = app.extensions["chat_hub"]
        sockets = []
        try:
            others = WsClient(server.ws_url, other.token)
            sockets.append(others)
            others.ready()
            for _ in range(5):
                ws = WsClient(server.ws_url, hoarder.token)
                sockets.append(ws)
                ws.ready()
            oldest, second, *kept = sockets[1:]
            for closed in (oldest, second):
                assert closed.close_status() == CLOSE_TOO_MANY_SOCKETS
                assert [f["error"]["code"] for f in closed.seen if f["op"] == "error"] == ["too_many_sockets"]
            for ws in kept + [others]:
                ws.send({"op": "ping"})
                assert ws.op("pong") == {"op": "pong"}
            assert wait_until(lambda: len(hub.connections(hoarder.id)) == 3)
            assert len(hub.connections(other.id)) == 1
        finally:
            for ws in sockets:
                ws.close()


def _bad_handshake(ws_url: str) -> int:
    """The close code of a socket opened with a bad token, or the HTTP status of a refused handshake."""
    try:
        ws = WsClient(ws_url, "not-a-token")
    except websocket.WebSocketBadStatusException as exc:
        return exc.status_code
    try:
        return ws.close_status()
    finally:
        ws.close()


def test_unauthenticated_handshakes_are_capped_per_address(limited, factory):
    app = limited(ws_handshake_ip="60/min burst 3")
    user = factory.user()
    with serve(app) as server:
        for _ in range(5):  # authenticated handshakes are given back: they never count
            ws = WsClient(server.ws_url, user.token)
            ws.ready()
            ws.close()
        assert [_bad_handshake(server.ws_url) for _ in range(5)] == [4401, 4401, 4401, 429, 429]
        with pytest.raises(websocket.WebSocketBadStatusException) as refused:
            WsClient(server.ws_url, user.token)  # the address is over its cap: refused before any work
        assert refused.value.status_code == 429
        assert int(refused.value.resp_headers["retry-after"]) >= 1
