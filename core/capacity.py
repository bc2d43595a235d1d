"""WebSocket capacity of one process: past WS_MAX_SOCKETS a new socket gets a 503 before the upgrade.

gunicorn's gevent worker accepts at most `worker_connections` connections; past that it stops
accepting and every newcomer, plain HTTP included, waits in the listen backlog. gunicorn.conf.py
sizes `worker_connections` as WS_MAX_SOCKETS + HTTP_MAX_CONNECTIONS, and this check refuses the
socket past WS_MAX_SOCKETS at once, so sockets can never fill the worker and /healthz still answers.
"""
from __future__ import annotations

import logging
import threading

from flask import Flask, current_app, g, request

from core.errors import ServiceUnavailable

log = logging.getLogger(__name__)
EXTENSION_KEY = "socket_capacity"
RETRY_AFTER_SECONDS = 10


class SocketsFull(ServiceUnavailable):
    message = "This server holds as many live connections as it can; try again shortly."


class SocketCount:
    """Sockets open in this process (one gunicorn worker), bounded by `limit`."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.open = 0
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            if self.open >= self.limit:
                return False
            self.open += 1
            return True

    def give_back(self) -> None:
        with self._lock:
            self.open -= 1


def is_websocket_upgrade() -> bool:
    return request.headers.get("Upgrade", "").lower() == "websocket"


def _admit() -> None:
    if not is_websocket_upgrade():
        return
    count: SocketCount = current_app.extensions[EXTENSION_KEY]
    if not count.take():
        log.warning("socket refused: %d sockets open, WS_MAX_SOCKETS is %d", count.open, count.limit)
        from core import metrics
        metrics.SOCKETS_REFUSED.inc()
        raise SocketsFull(details={"retry_after": RETRY_AFTER_SECONDS},
                          headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
    g.holds_socket_slot = True


def _release(_exc: BaseException | None) -> None:
    if g.pop("holds_socket_slot", False):
        current_app.extensions[EXTENSION_KEY].give_back()


def init_app(app: Flask) -> None:
    """Count upgrade requests from the first hook on, until their request ends (the socket closed)."""
    app.extensions[EXTENSION_KEY] = SocketCount(app.config["WS_MAX_SOCKETS"])
    app.before_request_funcs.setdefault(None, []).insert(0, _admit)
    app.teardown_request(_release)
