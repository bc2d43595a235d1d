"""The process's watch over its sockets (chat/ws/watch.py): one session re-check and one inbox-end read
for all sockets rather than two reads per socket every heartbeat; a socket behind its inbox end catches
up without any publish; a failed read drops no socket."""
from __future__ import annotations

import threading
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event, text, update

from chat.cursors import decode_cursor
from core.db import db, utcnow
from marketplace.models import Token
from marketplace.security import token_digest
from tests.support.wsclient import WsClient


@contextmanager
def statements(app):
    """The SELECT statements the app's engine runs meanwhile in this thread (the server's own watch may
    tick at the same time)."""
    seen: list[str] = []
    engine = app.extensions["db"].engine
    me = threading.get_ident()

    def count(_conn, _cursor, statement, *_args) -> None:
        if threading.get_ident() == me and statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


@contextmanager
def table_away(app, table: str):
    """The table renamed for a while: every read of it fails in the database."""
    with app.app_context(), db.transaction() as s:
        s.execute(text(f"ALTER TABLE {table} RENAME TO {table}_away"))
    try:
        yield
    finally:
        with app.app_context(), db.transaction() as s:
            s.execute(text(f"ALTER TABLE {table}_away RENAME TO {table}"))


def _alive(ws: WsClient) -> bool:
    ws.send({"op": "ping"})
    return ws.op("pong", timeout=5)["op"] == "pong"


@pytest.fixture
def sockets(live_server, factory):
    """Four users, one ready socket each."""
    users = [factory.user() for _ in range(4)]
    clients = [WsClient(live_server.ws_url, u.token) for u in users]
    try:
        for ws in clients:
            ws.ready()
        yield users, clients
    finally:
        for ws in clients:
            ws.close()


def test_one_statement_rechecks_every_socket_and_ends_only_the_expired(live_server, sockets):
    app = live_server.app
    users, clients = sockets
    watch, hub = app.extensions["chat_ws_watch"], app.extensions["chat_hub"]
    with app.app_context(), db.transaction() as s:
        s.execute(update(Token).where(Token.token_hash == token_digest(users[1].token))
                  .values(expires_at=utcnow() - timedelta(seconds=1)))
    with statements(app) as seen:
        watch.check_sessions(hub.all_connections())
    assert len(seen) == 1, seen
    assert clients[1].close_status() == 4401
    assert [f["error"]["code"] for f in clients[1].seen if f["op"] == "error"] == ["unauthorized"]
    for ws in clients[:1] + clients[2:]:
        assert _alive(ws)


def test_a_socket_behind_its_inbox_end_reads_what_no_publish_brought(live_server, chat, inquiry_pair, monkeypatch):
    app = live_server.app
    seller, buyer, group_id = inquiry_pair
    ws = WsClient(live_server.ws_url, seller.token)
    try:
        ws.ready()
        monkeypatch.setattr(app.extensions["db"], "publish", None)  # committed, never published
        sent = [chat.send(buyer, group_id, f"第{i}条", client_id=f"m{i}") for i in range(2)]
        with statements(app) as seen:
            app.extensions["chat_ws_watch"].check_positions(app.extensions["chat_hub"].all_connections())
        frames = [ws.op("message") for _ in sent]
        assert [f["message"]["client_id"] for f in frames] == ["m0", "m1"]
        assert [decode_cursor(f["cursor"]) for f in frames] == [1, 2]
        assert "chat_inbox_counters" in seen[0], seen  # one read for all sockets; then this socket's catch-up
    finally:
        ws.close()


@pytest.mark.parametrize("table", ["tokens", "chat_inbox_counters"])
def test_a_failed_watch_read_drops_no_socket(live_server, sockets, table):
    app = live_server.app
    _users, clients = sockets
    watch, hub = app.extensions["chat_ws_watch"], app.extensions["chat_hub"]
    conns = hub.all_connections()
    with table_away(app, table):
        watch.check_sessions(conns)
        watch.check_positions(conns)
    for ws in clients:
        assert _alive(ws)
    assert len(hub.all_connections()) == len(clients)
