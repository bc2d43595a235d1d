"""Access log and request metrics: one line per request, one per WebSocket session; tokens never logged."""
from __future__ import annotations

import logging
import time
from urllib.parse import parse_qsl, urlencode

from flask import Flask, current_app, g, request
from werkzeug.wrappers import Response

from core import metrics
from core.capacity import is_websocket_upgrade
from core.logging import current_user_id

log = logging.getLogger("paipai.access")
SECRET_PARAMS = frozenset({"access_token", "ticket", "token"})
REDACTED = "[redacted]"
_FRAMES_IN, _FRAMES_OUT = metrics.FRAMES.labels("in"), metrics.FRAMES.labels("out")  # bound once: hot path
# Frames received are added to the counter this many at a time (and whenever the socket goes quiet, and at
# its end): under gunicorn each counter step is a lock, a getpid and a write to a shared file, about 3 % of
# the relay's CPU when done per frame.
COUNT_IN_EVERY = 32


def redacted_query(query: str) -> str:
    """The query string with every credential parameter's value replaced."""
    if not query:
        return ""
    pairs = parse_qsl(query, keep_blank_values=True)
    return urlencode([(k, REDACTED if k.lower() in SECRET_PARAMS else v) for k, v in pairs], safe="[]")


class SocketSession:
    """What one WebSocket did: frames each way and how it closed; counted into the metrics as it goes."""

    def __init__(self) -> None:
        self.frames_in = 0
        self.frames_out = 0
        self._counted_in = 0
        self.close_code: int | None = None
        self.opened = False

    def received(self) -> None:
        self.frames_in += 1
        if self.frames_in - self._counted_in >= COUNT_IN_EVERY:
            self.count()

    def count(self) -> None:
        """Add the frames received since the last count to the metrics (the reader calls it when idle)."""
        if self.frames_in > self._counted_in:
            _FRAMES_IN.inc(self.frames_in - self._counted_in)
            self._counted_in = self.frames_in

    def sent(self, frames: int) -> None:
        self.frames_out += frames
        _FRAMES_OUT.inc(frames)

    def closing(self, code: int) -> None:
        """The server closes with `code` (the first close wins; a client's close is seen by `closed_by_peer`)."""
        if self.close_code is None:
            self.close_code = code

    def closed_by_peer(self, code: int | None) -> None:
        if self.close_code is None and code is not None:
            self.close_code = int(code)

    def open(self) -> None:
        """The socket is authenticated and live (called in its request): counted, and logged when enabled."""
        if not self.opened:
            self.opened = True
            metrics.SOCKETS_OPEN.inc()
            if current_app.config.get("ACCESS_LOG", True):
                log.info("WS %s opened", _logged_path(), extra={"event": "ws_open", "path": _logged_path(),
                                                                "remote_addr": request.remote_addr})


def socket_session() -> SocketSession:
    """The current request's socket session (made on first use)."""
    session = g.get("socket_session")
    if session is None:
        session = g.socket_session = SocketSession()
    return session


def _logged_path() -> str:
    query = request.query_string.decode("latin-1")
    return request.path + ("?" + redacted_query(query) if query else "")


def _route() -> str:
    rule = request.url_rule
    return rule.rule if rule is not None else "(unmatched)"


def _start() -> None:
    g.access_started = time.perf_counter()


def _finish(response: Response) -> Response:
    g.access_status = response.status_code
    return response


def _log(_exc: BaseException | None) -> None:
    started = g.pop("access_started", None)
    if started is None:
        return
    duration = time.perf_counter() - started
    status = g.pop("access_status", 500)
    route, method = _route(), request.method
    session = g.pop("socket_session", None)
    path = _logged_path()
    fields = {"method": method, "path": path, "route": route, "remote_addr": request.remote_addr,
              "duration_ms": round(duration * 1000, 1), "user_id": current_user_id()}
    if session is not None and is_websocket_upgrade():
        session.count()
        if session.opened:
            metrics.SOCKETS_OPEN.dec()
        code = "none" if session.close_code is None else str(session.close_code)
        metrics.SESSIONS.labels(code).inc()
        fields.update(event="ws_session", close_code=session.close_code, frames_in=session.frames_in,
                      frames_out=session.frames_out)
        message = (f"WS {path} closed {session.close_code} after {duration:.1f} s, "
                   f"{session.frames_in} frames in, {session.frames_out} out")
    else:
        metrics.REQUESTS.labels(route, method, str(status)).inc()
        metrics.LATENCY.labels(route, method).observe(duration)
        fields.update(event="request", status=status)
        message = f"{method} {path} {status} {duration * 1000:.1f} ms"
    if current_app.config.get("ACCESS_LOG", True):
        log.info(message, extra=fields)


def init_app(app: Flask) -> None:
    """Time every request from the first hook, log it when its context ends (a socket: when it closes)."""
    app.before_request_funcs.setdefault(None, []).insert(0, _start)
    app.after_request(_finish)
    app.teardown_request(_log)
