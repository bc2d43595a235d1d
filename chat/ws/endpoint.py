"""The `/ws` route: authenticate, say hello, read frames and hand each op to a service."""
from __future__ import annotations

import logging
import time

from flask import Flask, current_app, request
from flask_sock import Sock
from simple_websocket import ConnectionClosed
from sqlalchemy.exc import SQLAlchemyError

from chat.cursors import decode_cursor, encode_cursor
from chat.ws import admission, chatter, frames, ops
from chat.ws.connection import Connection, Settings
from chat.ws.hub import Hub
from chat.ws.protocol import INTERNAL_ERROR, client_id_of, error_frame
from chat.ws.reader import NoReaderThread, Reader
from chat.ws.send_queue import SendQueue
from chat.ws.session import BANNED, UNAUTHORIZED, SessionEnd
from chat.ws.socket import Socket
from chat.ws.socket_cap import make_socket_cap
from chat.ws.store import Store
from chat.ws.watch import Watch
from core.access import socket_session
from core.auth import bearer_token
from core.current import this_app
from core.db import db
from core.errors import ApiError, ValidationError
from core.logging import note_user
from marketplace.uploads.urls import current_base_url
from marketplace.users.services import live_token
from marketplace.users.tickets import redeem_ws_ticket

log = logging.getLogger(__name__)
sock = Sock()

UNAVAILABLE = SessionEnd(frames.CLOSE_TRY_AGAIN, "service_unavailable",
                         "Live delivery is unavailable; try again shortly.")
# The database failed while the socket was being set up: an error frame and close, not an HTTP
# error page written onto the upgraded connection.
DB_UNAVAILABLE = SessionEnd(frames.CLOSE_TRY_AGAIN, "service_unavailable",
                            "The service is temporarily unavailable; try again shortly.")


def _reject(server, end: SessionEnd) -> None:
    admission.refused()
    socket_session().closing(end.close_code)
    server.send(end.frame())
    server.close(end.close_code, end.message)


@sock.route("/ws")
def websocket(server) -> None:
    """One client socket, for as long as it stays open."""
    reader = Reader(server, plain=not request.headers.get("Sec-WebSocket-Extensions"))
    try:
        _serve(server, reader)
    finally:
        reader.finish(current_app.config["WS_CLOSE_LINGER_S"])


def _serve(server, reader: Reader) -> None:
    app = this_app()
    raw = bearer_token() or request.args.get("access_token")
    ticket = request.args.get("ticket")
    try:
        token = live_token(raw) if raw else redeem_ws_ticket(ticket) if ticket else None
        db.remove()  # don't hold a pooled connection for the life of the socket
    except SQLAlchemyError:
        log.warning("websocket auth failed in the database", exc_info=True)
        db.remove()
        _reject(server, DB_UNAVAILABLE)
        return
    if token is None:
        _reject(server, UNAUTHORIZED)
        return
    user = token.user  # loaded with the token
    if user.is_banned():
        _reject(server, BANNED)
        return
    user_id, token_id = user.id, token.id
    del token, user  # the socket keeps the ids, not the ORM objects (a few KB each, 10,000 sockets per process)
    note_user(user_id)
    admission.authenticated()

    hub: Hub = app.extensions["chat_hub"]
    settings: Settings = app.extensions["chat_ws_settings"]
    store = Store(app)
    ws_socket = Socket(server, settings.heartbeat_s, settings.send_buffer_bytes, extensions_offered=not reader.plain)
    conn = Connection(ws_socket, user_id=user_id, token_id=token_id, store=store, settings=settings,
                      on_close=hub.unregister, base_url=current_base_url())
    if not hub.register(conn):
        hub.unregister(conn)
        _reject(server, UNAVAILABLE)
        return
    app.extensions["chat_ws_watch"].ensure_running()
    try:
        hello_pos = store.latest_pos(user_id)
    except SQLAlchemyError:
        log.warning("websocket hello of user %s failed in the database", user_id, exc_info=True)
        hub.unregister(conn)  # registered above: it must not stay in the hub (nor count as online)
        _reject(server, DB_UNAVAILABLE)
        return
    try:
        resume_after, bad_cursor = _resume_after(request.args.get("cursor"), hello_pos), None
    except ApiError as exc:
        resume_after, bad_cursor = None, exc  # said after hello; the socket holds as if no cursor was given
    conn.start(frames.hello(user_id=user_id, server_time=time.time(), heartbeat_s=settings.heartbeat_s,
                            cursor=encode_cursor(hello_pos)), hello_pos, resume_after)
    if bad_cursor is not None:
        conn.push_frame(error_frame(bad_cursor, None))
    try:
        _read_loop(server, reader, conn, app.extensions["broker"], app.extensions["chat_send_queue"])
    except ConnectionClosed:
        pass
    finally:
        conn.close(frames.CLOSE_NORMAL)
        conn.closed.wait(timeout=5)  # the close frame goes out before the reader half-closes the socket
        hub.unregister(conn)
        db.remove()


def _resume_after(cursor: str | None, latest: int) -> int | None:
    """The position `/ws?cursor=` resumes after (empty: the beginning); None when the client gave none."""
    if cursor is None:
        return None
    pos = decode_cursor(cursor or None)
    if pos > latest:
        raise ValidationError("The cursor is not valid.", code="invalid_cursor",
                              details={"fields": {"cursor": ["Ahead of this user's messages."]}})
    return pos


def _read_loop(server, reader: Reader, conn: Connection, broker, sends: SendQueue) -> None:
    while not conn.closed.is_set():
        if conn.cut_off_if_stalled():
            return
        raw = reader.receive(timeout=1.0)
        if raw is None:
            conn.ws.quiet()
            if not server.connected:
                return
            continue
        if _too_big(raw, conn.settings.max_frame_bytes):
            conn.close(frames.CLOSE_TOO_BIG, frames.REASON_TOO_BIG)
            return
        conn.ws.seen()
        op = None
        try:
            op = ops.handle(conn, raw, broker, sends)
        except ApiError as exc:
            _answer_error(conn, exc, raw)
        except Exception:
            log.exception("op of user %s failed", conn.user_id)
            db.session.rollback()
            _answer_error(conn, INTERNAL_ERROR, raw)
        finally:
            if op not in ops.SESSIONLESS:  # even asking whether there is a session costs a greenlet-local lookup
                db.remove()


def _answer_error(conn: Connection, exc: ApiError, raw: str | bytes) -> None:
    # After the answers to the socket's earlier sends: the client hears of its frames in order.
    conn.queued_sends.wait(conn.settings.send_wait_s)
    conn.push_frame(error_frame(exc, client_id_of(raw)))


def _too_big(raw: str | bytes, limit: int) -> bool:
    # simple-websocket caps frames in characters; the cap is in UTF-8 bytes (up to 4 per character)
    if isinstance(raw, bytes) or len(raw) * 4 <= limit:
        return len(raw) > limit
    return len(raw.encode("utf-8", "surrogatepass")) > limit


def init_app(app: Flask) -> None:
    """Mount `/ws` and build the process's hub on the app's broker."""
    cfg = app.config
    settings = Settings.from_config(cfg)
    cfg.setdefault("SOCK_SERVER_OPTIONS", {"max_message_size": settings.max_frame_bytes,
                                           "thread_class": NoReaderThread})
    app.extensions["chat_ws_settings"] = settings
    chatter.init_app(app)
    presence = app.extensions.get("presence")
    app.extensions["chat_hub"] = Hub(app.extensions["broker"], presence=presence,
                                     on_membership=chatter.group_cache(app).forget,
                                     cap=make_socket_cap(cfg["WS_MAX_SOCKETS_PER_USER"], presence))
    app.extensions["chat_ws_watch"] = Watch(app.extensions["chat_hub"], Store(app), settings)
    admission.init_app(app)
    app.extensions["chat_send_queue"] = SendQueue(app)
    sock.init_app(app)
