"""The client's frames, read by the socket's handler itself, and a clean end for every socket.

simple-websocket starts a reader thread per socket that fills a buffer the handler then waits on: two
blocked threads (greenlets under gevent) per socket where one does. Its `thread_class` option gets a
thread that never starts, and the handler reads the socket itself, through the library's own frame
handling (`_handle_events`: pings answered, fragments joined, the size cap, the close handshake).
One greenlet fewer is about a tenth of an idle socket's memory (BENCHMARKS.md, idle connections).

The end: after the close frame, stop writing and drain what the client still sends (at most
`WS_CLOSE_LINGER_S`) before closing the TCP connection. Closing a TCP socket that still has unread
data makes the kernel answer with a reset, and a reset can throw away the close frame sent just
before it: a client cut off for an oversize frame (1009) would see a reset instead of the code.
"""
from __future__ import annotations

import selectors
import socket
import time

from wsproto.utilities import LocalProtocolError

DRAIN_CHUNK = 64 * 1024


class NoReaderThread:
    """simple-websocket's `thread_class`: the reader thread it would start is never started."""

    def __init__(self, *, target=None, **_kwargs) -> None:
        self.name = "(_thread)"

    def start(self) -> None:
        pass


class Reader:
    """Reads one server socket's client frames in the calling thread; then `finish` ends it cleanly."""

    def __init__(self, server) -> None:
        self._server = server
        self._selector = selectors.DefaultSelector()
        self._selector.register(server.sock, selectors.EVENT_READ)

    def receive(self, timeout: float) -> str | bytes | None:
        """The client's next message; None when none came within `timeout` seconds or the socket ended
        (`server.connected` is then False)."""
        server = self._server
        while server.connected and not server.input_buffer:
            if not self._selector.select(timeout):
                return None
            try:
                data = server.sock.recv(server.receive_bytes)
                if not data:
                    raise ConnectionResetError("the client closed the connection")
                server.ws.receive_data(data)
                server.connected = server._handle_events()
            except (OSError, LocalProtocolError):
                server.connected = False
        return server.input_buffer.pop(0) if server.input_buffer else None

    def finish(self, linger_s: float) -> None:
        """Once the close frame is out (or the client is gone): half-close at once so the client sees the
        end, drain what it still sends for at most `linger_s`, then close the TCP socket."""
        sock = self._server.sock
        try:
            sock.shutdown(socket.SHUT_WR)
            deadline = time.monotonic() + linger_s
            while (left := deadline - time.monotonic()) > 0:
                if self._selector.select(left) and not sock.recv(DRAIN_CHUNK):
                    break  # the client closed too
        except OSError:
            pass  # already shut down or reset: nothing left to drain
        finally:
            self._selector.close()
            sock.close()
