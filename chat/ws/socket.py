"""A thin wrapper over simple-websocket's server socket: text frames, close codes, heartbeat, cut-off."""
from __future__ import annotations

import socket
import struct
import time
from typing import Callable

from simple_websocket import ConnectionClosed
from wsproto import ConnectionState
from wsproto.events import Ping, TextMessage

from core.access import socket_session


class Socket:
    """Send side of one WebSocket; only the connection's writer sends, any thread may `abort`."""

    def __init__(self, server, heartbeat_s: float, send_buffer_bytes: int | None = None, *,
                 extensions_offered: bool = True) -> None:
        """`extensions_offered`: the handshake asked for extensions (permessage-deflate), so frames go
        through wsproto; without, they are plain text frames built here, a tenth of the cost."""
        self.server = server
        self._encode = self._wsproto_frame if extensions_offered else _text_frame
        self.heartbeat_s = heartbeat_s
        self.session = socket_session()  # frames and close code for the access log and metrics
        self.session.open()
        self.last_seen = time.monotonic()
        self._ping_outstanding = False
        self._sending_since: float | None = None
        if send_buffer_bytes:
            try:
                server.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, send_buffer_bytes)
            except OSError:
                pass

    def send_many(self, frames: list[str]) -> None:
        """Send text frames in order, in one write to the TCP socket."""
        # Input is strict (core.input): no unpaired surrogate gets stored, so every frame encodes.
        if not self.server.connected or self.server.ws.state is not ConnectionState.OPEN:
            raise ConnectionClosed(self.server.close_reason, self.server.close_message)
        self._timed(self._send_all, b"".join(map(self._encode, frames)))
        self.session.sent(len(frames))

    def _send_all(self, data: bytes) -> None:
        # One send takes most writes whole; gevent's sendall would first ask the kernel for the send
        # buffer's size (a getsockopt per write, 1.7 % of `make run`'s time).
        sent = self.server.sock.send(data)
        if sent < len(data):
            self.server.sock.sendall(memoryview(data)[sent:])

    def _wsproto_frame(self, text: str) -> bytes:
        return self.server.ws.send(TextMessage(data=text))

    def seen(self) -> None:
        """The client sent a frame: it is alive."""
        self.last_seen = time.monotonic()
        self.session.received()

    def quiet(self) -> None:
        """The client sent nothing for a while: count the frames it sent so far into the metrics."""
        self.session.count()

    def heartbeat(self) -> bool:
        """Ping the client; False when the previous ping got no pong and nothing else came."""
        quiet = time.monotonic() - self.last_seen > self.heartbeat_s
        if self._ping_outstanding and not self.server.pong_received and quiet:
            return False
        self.server.pong_received = False
        self._ping_outstanding = True
        self._timed(self.server.sock.sendall, self.server.ws.send(Ping()))
        return True

    def stalled_for(self) -> float:
        """Seconds the send in progress has been blocked (0 when none is): a client that reads nothing
        fills the TCP buffers and then every send blocks."""
        started = self._sending_since
        return 0.0 if started is None else time.monotonic() - started

    def abort(self) -> None:
        """Cut the TCP connection at once, without a close frame; a send blocked on it fails."""
        try:
            self.server.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def close(self, code: int, reason: str = "") -> None:
        if self.server.connected:
            self.session.closing(code)
        else:
            self.session.closed_by_peer(self.server.close_reason)
        try:
            self.server.close(code, reason)
        except (ConnectionClosed, OSError):
            pass

    def _timed(self, send: Callable, data) -> None:
        self._sending_since = time.monotonic()
        try:
            send(data)
        finally:
            self._sending_since = None


def _text_frame(text: str) -> bytes:
    """A server's text frame (RFC 6455 §5.2: final, opcode 1, unmasked), as wsproto builds it without
    extensions."""
    data = text.encode("utf-8")
    size = len(data)
    if size < 126:
        return bytes((0x81, size)) + data
    if size < 1 << 16:
        return struct.pack("!BBH", 0x81, 126, size) + data
    return struct.pack("!BBQ", 0x81, 127, size) + data
