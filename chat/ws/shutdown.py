"""Graceful shutdown: when the process is told to stop, close every socket with 1001 (going away).

Clients then reconnect (to another process) and sync from their cursor at once, instead of
waiting for a dead TCP connection to time out. Wired to SIGTERM for `python app.py`
(`close_sockets_on_sigterm`) and to gunicorn's worker shutdown by `gunicorn.conf.py`
(`close_sockets_when_worker_stops`).
"""
from __future__ import annotations

import logging
import signal
import threading
import time
from typing import Any

from flask import Flask

from chat.ws.frames import CLOSE_GOING_AWAY, REASON_SHUTDOWN

log = logging.getLogger(__name__)


def close_sockets(app: Flask, *, wait_s: float = 2.0) -> int:
    """Close every socket of this process with 1001 and wait (at most `wait_s`) until they are gone.

    Returns how many sockets were open."""
    hub = app.extensions["chat_hub"]
    count = len(hub.all_connections())
    hub.close_all(CLOSE_GOING_AWAY, REASON_SHUTDOWN)
    deadline = time.monotonic() + wait_s
    while hub.all_connections() and time.monotonic() < deadline:
        time.sleep(0.02)
    if count:
        log.info("closed %d WebSocket(s) for shutdown", count)
    return count


def close_sockets_on_sigterm(app: Flask) -> None:
    """For `python app.py`: on SIGTERM close every socket with 1001, then exit (status 0)."""
    def on_sigterm(_signum: int, _frame: Any) -> None:
        close_sockets(app)
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, on_sigterm)


def close_sockets_when_worker_stops(worker: Any, *, poll_s: float = 0.2) -> None:
    """For gunicorn's `post_worker_init`: once the worker is told to stop (`worker.alive` turns False on
    SIGTERM), close its sockets, so its open WebSocket requests end and it exits without waiting out
    the graceful timeout. Under the gevent worker the watcher is a greenlet."""
    app = _worker_app(worker)
    if app is None:
        return

    def watch() -> None:
        while worker.alive:
            time.sleep(poll_s)
        close_sockets(app)

    threading.Thread(target=watch, name="ws-shutdown", daemon=True).start()


def close_worker_sockets(worker: Any) -> None:
    """For gunicorn's `worker_int` (SIGINT, SIGQUIT: a quick exit follows): close the sockets now."""
    app = _worker_app(worker)
    if app is not None:
        close_sockets(app)


def _worker_app(worker: Any) -> Flask | None:
    app = getattr(worker, "wsgi", None)
    return app if isinstance(app, Flask) and "chat_hub" in app.extensions else None
