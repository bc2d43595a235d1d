"""The `/ws` route: authenticate, say hello, read frames and hand each op to a service."""
from __future__ import annotations

import json
import logging
import threading
import time

from flask import Flask, current_app, request
from flask_sock import Sock
from simple_websocket import ConnectionClosed

from chat.cursors import encode_cursor
from chat.ws import ops
from chat.ws.connection import Connection, Settings, dumps
from chat.ws.hub import Hub
from chat.ws.protocol import error_frame
from chat.ws.socket import Socket
from chat.ws.store import Store
from core.auth import bearer_token
from core.db import db
from core.errors import ApiError
from marketplace.users.services import live_token

log = logging.getLogger(__name__)
sock = Sock()

CLOSE_UNAUTHORIZED = 4401
CLOSE_BANNED = 4403


def _reject(server, code: int, error_code: str, message: str) -> None:
    server.send(dumps({"op": "error", "error": {"code": error_code, "message": message}}))
    server.close(code, message)


@sock.route("/ws")
def websocket(server) -> None:
    """One client socket, for as long as it stays open."""
    app = current_app._get_current_object()
    raw = bearer_token() or request.args.get("access_token")
    token = live_token(raw) if raw else None
    if token is None:
        _reject(server, CLOSE_UNAUTHORIZED, "unauthorized", "A valid access token is required.")
        return
    user = token.user
    if user.is_banned():
        _reject(server, CLOSE_BANNED, "banned", "This account is banned.")
        return
    user_id, token_id = user.id, token.id
    db.remove()  # don't hold a pooled connection for the life of the socket

    hub: Hub = app.extensions["chat_hub"]
    settings: Settings = app.extensions["chat_ws_settings"]
    store = Store(app)
    conn = Connection(Socket(server, settings.heartbeat_s), user_id=user_id, token_id=token_id,
                      store=store, settings=settings, on_close=hub.unregister)
    if not hub.register(conn):
        hub.unregister(conn)
        _reject(server, 1013, "unavailable", "Live delivery is unavailable; try again shortly.")
        return
    hello_pos = store.latest_pos(user_id)
    conn.start({"op": "hello", "user_id": user_id, "server_time": time.time(),
                "heartbeat_s": settings.heartbeat_s, "cursor": encode_cursor(hello_pos)}, hello_pos)
    writer = threading.Thread(target=conn.run_writer, name=f"ws-writer-{user_id}", daemon=True)
    writer.start()
    try:
        _read_loop(server, conn, app.extensions["broker"])
    except ConnectionClosed:
        pass
    finally:
        conn.close(1000)
        writer.join(timeout=5)
        hub.unregister(conn)
        db.remove()


def _read_loop(server, conn: Connection, broker) -> None:
    while not conn.closed.is_set():
        raw = server.receive(timeout=1.0)
        if raw is None:
            if not server.connected:
                return
            continue
        conn.ws.seen()
        try:
            ops.handle(conn, raw, broker)
        except ApiError as exc:
            conn.push_frame(error_frame(exc, _client_id_of(raw)))
        except Exception:
            log.exception("op of user %s failed", conn.user_id)
            db.session.rollback()
            conn.push_frame(error_frame(ApiError("Something went wrong on our side.", status=500,
                                                 code="internal_error"), _client_id_of(raw)))
        finally:
            db.remove()


def _client_id_of(raw) -> str | None:
    try:
        value = json.loads(raw).get("client_id")
    except (ValueError, AttributeError, TypeError):
        return None
    return value if isinstance(value, str) else None


def init_app(app: Flask) -> None:
    """Mount `/ws` and build the process's hub on the app's broker."""
    cfg = app.config
    settings = Settings(heartbeat_s=cfg.get("WS_HEARTBEAT_S", 25.0),
                        sync_grace_s=cfg.get("WS_SYNC_GRACE_S", 5.0),
                        batch_size=cfg.get("WS_SYNC_BATCH", 200),
                        queue_max=cfg.get("WS_QUEUE_MAX", 1000),
                        catch_up_s=cfg.get("WS_CATCH_UP_S", 25.0))
    cfg.setdefault("SOCK_SERVER_OPTIONS", {"max_message_size": cfg.get("WS_MAX_FRAME_BYTES", 32 * 1024)})
    app.extensions["chat_ws_settings"] = settings
    app.extensions["chat_hub"] = Hub(app.extensions["broker"])
    sock.init_app(app)
