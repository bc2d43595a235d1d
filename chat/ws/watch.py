"""The process's periodic look at all its sockets, in batched reads rather than reads per socket.

Every heartbeat, a ping queued on every socket (its writer runs only while it has something to send),
one session re-check for all the process's tokens (expired, revoked, banned: what
a lost broker control would have said); every catch-up interval, one read of their users' inbox
ends, and only a socket behind its inbox end reads the database (what the broker lost). At 10,000
sockets that is a few queries per heartbeat instead of 800 a second. A failed read drops nothing:
the next round asks again.
"""
from __future__ import annotations

import logging
import threading
import time

from chat.ws.connection import Connection, Settings
from chat.ws.hub import Hub
from chat.ws.store import Store

log = logging.getLogger(__name__)


class Watch:
    """One thread per process while it has sockets (started by the first, ended with the last)."""

    def __init__(self, hub: Hub, store: Store, settings: Settings) -> None:
        self.hub = hub
        self.store = store
        self.settings = settings
        self._lock = threading.Lock()
        self._running = False

    def ensure_running(self) -> None:
        """Called once a socket is registered with the hub: start the watch unless it runs."""
        with self._lock:
            if self._running:
                return
            self._running = True
        threading.Thread(target=self._run, name="ws-watch", daemon=True).start()

    def _run(self) -> None:
        next_catch_up = time.monotonic() + self.settings.catch_up_s
        while True:
            time.sleep(self.settings.heartbeat_s)
            with self._lock:  # a socket registered after this look starts a new watch
                conns = self.hub.all_connections()
                if not conns:
                    self._running = False
                    return
            for conn in conns:
                conn.beat()
            try:
                self.check_sessions(conns)
                if time.monotonic() >= next_catch_up:
                    next_catch_up = time.monotonic() + self.settings.catch_up_s
                    self.check_positions(conns)
            except Exception:
                log.exception("socket watch round failed; the next one retries")

    def check_sessions(self, conns: list[Connection]) -> None:
        """End the sockets whose token expired or was revoked, or whose user is banned."""
        ended = self.store.ended_sessions(conn.token_id for conn in conns)
        for conn in conns:
            end = ended.get(conn.token_id)
            if end is not None:
                conn.push_frame(end.frame())
                conn.close(end.close_code, end.message)

    def check_positions(self, conns: list[Connection]) -> None:
        """Have each socket behind its user's inbox end read what it missed."""
        latest = self.store.latest_positions(conn.user_id for conn in conns)
        for conn in conns:
            if latest.get(conn.user_id, 0) > conn.wm:
                conn.request_catch_up()
