"""Socket hoarding on a real server with real sockets: past WS_MAX_SOCKETS_PER_USER a user's oldest socket is
closed with 4429 (others are untouched), handshakes that fail to authenticate are capped per address
(HTTP 429 before any upgrade), while authenticated ones never count, and so are handshakes in flight (upgraded,
not yet authenticated), whose slots come back however they end."""
from __future__ import annotations

import json
from contextlib import contextmanager
from typing import Iterator

import pytest
import websocket
from flask import Flask
from sqlalchemy import text

from chat.ws.session import CLOSE_TOO_MANY_SOCKETS
from core.db import WRITE_OPTION
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
    app = limited(ws_handshake_ip="6/hour burst 3")
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


@contextmanager
def tickets_locked(app: Flask) -> Iterator[None]:
    """Redeeming a ticket waits while this holds (SQLite's write lock; on PostgreSQL the tickets table)."""
    with app.extensions["db"].engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            conn = conn.execution_options(**{WRITE_OPTION: True})  # BEGIN IMMEDIATE: the write lock
        with conn.begin():
            if conn.dialect.name == "sqlite":
                conn.execute(text("SELECT 1"))
            else:
                conn.execute(text("LOCK TABLE ws_tickets IN EXCLUSIVE MODE"))
            yield


def _ticket(app: Flask, actor) -> str:
    r = app.test_client().post("/api/v1/ws/ticket", headers=actor.headers)
    assert r.status_code == 201, r.get_json()
    return r.get_json()["ticket"]


def test_handshakes_in_flight_are_capped_per_address_and_given_back_however_they_end(clean_app, factory):
    with tuned_app(clean_app, WS_MAX_PENDING_HANDSHAKES_PER_ADDRESS=2, TRUSTED_PROXY_COUNT=1) as app, \
            serve(app) as server:
        user = factory.user()
        here, there = ("X-Forwarded-For: 203.0.113.7",), ("X-Forwarded-For: 198.51.100.9",)
        tickets = [_ticket(app, user) for _ in range(3)]
        sockets = []
        try:
            for _ in range(3):  # failed handshakes give their slot back
                ws = WsClient(server.ws_url, "not-a-token", headers=here)
                assert ws.close_status() == 4401
                ws.close()
            with tickets_locked(app):
                for ticket in tickets[:2]:  # upgraded (101), then waiting for the database to redeem the ticket
                    sockets.append(WsClient(f"{server.ws_url}?ticket={ticket}", headers=here, timeout=15))
                with pytest.raises(websocket.WebSocketBadStatusException) as refused:
                    WsClient(f"{server.ws_url}?ticket={tickets[2]}", headers=here)
                assert refused.value.status_code == 429
                assert int(refused.value.resp_headers["retry-after"]) >= 1
                body = json.loads(refused.value.resp_body)
                assert body["error"]["code"] == "too_many_handshakes"
                assert body["error"]["details"]["retry_after"] >= 1
                sockets.append(WsClient(server.ws_url, user.token, headers=there))  # another address is not held up
                sockets[-1].ready()
            for ws in sockets[:2]:  # the database answers: both authenticate
                assert ws.ready()["user_id"] == user.id
            for ticket_or_token in (tickets[2], None, None):  # authenticated ones gave their slots back
                url = f"{server.ws_url}?ticket={ticket_or_token}" if ticket_or_token else server.ws_url
                sockets.append(WsClient(url, None if ticket_or_token else user.token, headers=here))
                sockets[-1].ready()
        finally:
            for ws in sockets:
                ws.close()
