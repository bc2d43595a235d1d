"""/ws sessions over real sockets: the token (header or query), hello, and every way a session ends
(bad token 4401, ban 4403, token revoked, user banned, token expiring while connected)."""
from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import update

from chat.cursors import decode_cursor
from core.db import db, utcnow
from marketplace.models import Token, User
from marketplace.security import token_digest
from marketplace.signals import emit_user_banned
from tests.support.wsclient import WsClient, serve, tuned_app

API = "/api/v1"



def _expire_token(app, raw: str) -> None:
    with app.app_context(), db.transaction() as s:
        s.execute(update(Token).where(Token.token_hash == token_digest(raw))
                  .values(expires_at=utcnow() - timedelta(seconds=1)))


def _ban(app, user_id: int, *, until=None, signal: bool = True) -> None:
    with app.app_context():
        with db.transaction() as s:
            s.execute(update(User).where(User.id == user_id).values(banned_at=utcnow(), banned_until=until,
                                                                    ban_reason="广告 spam"))
        if signal:
            emit_user_banned(user_id=user_id)


def _assert_alive(ws: WsClient) -> None:
    ws.send({"op": "ping"})
    assert ws.op("pong", timeout=2)["op"] == "pong"


def _assert_ended(ws: WsClient, close_code: int, error_code: str, within: float) -> None:
    started = time.monotonic()
    assert ws.close_status(timeout=within + 2) == close_code
    assert time.monotonic() - started < within
    errors = [f for f in ws.seen if f["op"] == "error"]
    assert errors and errors[-1]["error"]["code"] == error_code, ws.seen


def test_hello_comes_first_with_every_field(live_server, factory):
    user = factory.user()
    ws = WsClient(live_server.ws_url, user.token)
    try:
        hello = ws.recv()
        assert set(hello) == {"op", "user_id", "server_time", "heartbeat_s", "cursor"}
        assert hello["op"] == "hello" and hello["user_id"] == user.id
        assert abs(hello["server_time"] - time.time()) < 5
        assert hello["heartbeat_s"] == 25.0
        assert isinstance(hello["cursor"], str) and decode_cursor(hello["cursor"]) == 0
    finally:
        ws.close()


def test_token_in_the_query_string_is_accepted(live_server, factory):
    user = factory.user()
    ws = WsClient(live_server.ws_url, user.token, header=False)
    try:
        assert ws.hello()["user_id"] == user.id
        _assert_alive(ws)
    finally:
        ws.close()


@pytest.mark.parametrize("how", ["missing", "garbage", "expired", "revoked", "header_scheme"])
def test_a_bad_token_gets_an_error_frame_then_4401(live_server, factory, client, how):
    user = factory.user()
    token, headers = user.token, ()
    if how == "missing":
        token = None
    elif how == "garbage":
        token = "' OR 1=1 -- <script>"
    elif how == "expired":
        _expire_token(live_server.app, token)
    elif how == "revoked":
        assert client.delete(f"{API}/token", headers=user.headers).status_code == 204
    elif how == "header_scheme":  # a token under another scheme is no bearer token
        token, headers = None, (f"Authorization: Basic {user.token}",)
    ws = WsClient(live_server.ws_url, token, headers=headers)
    try:
        frame = ws.recv()
        assert frame["op"] == "error" and frame["error"]["code"] == "unauthorized"
        assert ws.close_status() == 4401
        assert not [f for f in ws.seen if f["op"] == "hello"]
    finally:
        ws.close()


def test_a_banned_user_gets_an_error_frame_then_4403(live_server, factory):
    user = factory.user()
    _ban(live_server.app, user.id, signal=False)
    ws = WsClient(live_server.ws_url, user.token)
    try:
        frame = ws.recv()
        assert frame == {"op": "error", "error": {"code": "banned", "message": frame["error"]["message"]}}
        assert ws.close_status() == 4403
    finally:
        ws.close()


def test_a_ban_that_has_run_out_lets_the_user_connect(live_server, factory):
    user = factory.user()
    _ban(live_server.app, user.id, until=utcnow() - timedelta(minutes=1), signal=False)
    ws = WsClient(live_server.ws_url, user.token)
    try:
        assert ws.hello()["user_id"] == user.id
    finally:
        ws.close()


def test_revoking_a_token_closes_its_sockets_and_only_those(live_server, factory, client):
    user = factory.user()
    phone = factory.login(user.username)  # a second token of the same user
    revoked = [WsClient(live_server.ws_url, user.token), WsClient(live_server.ws_url, user.token, header=False)]
    other_device = WsClient(live_server.ws_url, phone.token)
    try:
        for ws in (*revoked, other_device):
            ws.ready()
        assert client.delete(f"{API}/token", headers=user.headers).status_code == 204
        for ws in revoked:
            _assert_ended(ws, 4401, "unauthorized", within=1.0)
        _assert_alive(other_device)
        assert other_device.frames_for(0.3) == []
    finally:
        for ws in (*revoked, other_device):
            ws.close()


def test_a_ban_closes_every_socket_of_the_user_at_once(live_server, factory):
    user, bystander = factory.user(), factory.user()
    phone = factory.login(user.username)
    sockets = [WsClient(live_server.ws_url, user.token), WsClient(live_server.ws_url, phone.token)]
    other = WsClient(live_server.ws_url, bystander.token)
    try:
        for ws in (*sockets, other):
            ws.ready()
        _ban(live_server.app, user.id)
        for ws in sockets:
            _assert_ended(ws, 4403, "banned", within=1.0)
        _assert_alive(other)
        with live_server.app.app_context():
            assert not live_server.app.extensions["chat_hub"].is_online(user.id)
    finally:
        for ws in (*sockets, other):
            ws.close()


@pytest.fixture
def quick_beat(clean_app):
    """A server whose heartbeat (and so its session re-check) runs every 0.4 s."""
    with tuned_app(clean_app, WS_HEARTBEAT_S=0.4) as app, serve(app) as server:
        yield server


def test_a_token_expiring_while_connected_ends_the_socket_at_the_next_heartbeat(quick_beat, factory):
    user = factory.user()
    ws = WsClient(quick_beat.ws_url, user.token)
    try:
        assert ws.ready()["heartbeat_s"] == 0.4
        assert ws.frames_for(1.0) == []  # several heartbeats: a live token keeps the socket
        _expire_token(quick_beat.app, user.token)
        _assert_ended(ws, 4401, "unauthorized", within=1.0)
    finally:
        ws.close()


def test_a_ban_nobody_announced_still_ends_the_socket_at_the_next_heartbeat(quick_beat, factory):
    user = factory.user()
    ws = WsClient(quick_beat.ws_url, user.token)
    try:
        ws.ready()
        _ban(quick_beat.app, user.id, signal=False)  # e.g. the signal was lost with a Redis outage
        _assert_ended(ws, 4403, "banned", within=1.0)
    finally:
        ws.close()
