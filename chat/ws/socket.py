"""A thin wrapper over simple-websocket's server socket: text frames, close codes, heartbeat."""
from __future__ import annotations

import time

from simple_websocket import ConnectionClosed
from wsproto.events import Ping


class Socket:
    """Send side of one WebSocket; only the connection's writer thread calls it."""

    def __init__(self, server, heartbeat_s: float) -> None:
        self.server = server
        self.heartbeat_s = heartbeat_s
        self.last_seen = time.monotonic()
        self._ping_outstanding = False

    def send(self, frame: str) -> None:
        self.server.send(frame)

    def seen(self) -> None:
        """The client sent something: it is alive."""
        self.last_seen = time.monotonic()

    def heartbeat(self) -> bool:
        """Ping the client; False when the previous ping got no pong and nothing else came."""
        quiet = time.monotonic() - self.last_seen > self.heartbeat_s
        if self._ping_outstanding and not self.server.pong_received and quiet:
            return False
        self.server.pong_received = False
        self._ping_outstanding = True
        self.server.sock.send(self.server.ws.send(Ping()))
        return True

    def close(self, code: int, reason: str = "") -> None:
        try:
            self.server.close(code, reason)
        except (ConnectionClosed, OSError):
            pass
