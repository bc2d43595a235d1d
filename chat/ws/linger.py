"""A clean end for every socket: after the close frame, stop writing and drain what the client still sends
(at most `WS_CLOSE_LINGER_S`) before closing the TCP connection.

Closing a TCP socket that still has unread data makes the kernel answer with a reset, and a reset can
throw away the close frame sent just before it: a client that was cut off for an oversize frame
(1009) would see a reset instead of the code. simple-websocket closes its socket itself, from its
reader thread, so the socket it is given is wrapped (through the `thread_class` option, before that
thread starts), and the handler waits for that thread before returning to the server, which would
otherwise close the same socket too early.
"""
from __future__ import annotations

import socket
import threading
import time

DRAIN_CHUNK = 64 * 1024


class LingeringSocket:
    """A socket whose `close` half-closes, drains the peer's data for up to `linger_s`, then closes."""

    def __init__(self, sock, linger_s: float) -> None:
        self._sock = sock
        self._linger_s = linger_s

    def __getattr__(self, name: str):
        return getattr(self._sock, name)

    def close(self) -> None:
        sock = self._sock
        try:
            sock.shutdown(socket.SHUT_WR)  # the close frame is out: send FIN after it
            deadline = time.monotonic() + self._linger_s
            while (left := deadline - time.monotonic()) > 0:
                sock.settimeout(left)
                if not sock.recv(DRAIN_CHUNK):
                    break  # the client closed too
        except OSError:
            pass  # already shut down or reset: nothing left to drain
        finally:
            sock.close()


def lingering_thread_class(linger_s: float) -> type[threading.Thread]:
    """A `thread_class` for simple-websocket's Server: wraps the server's socket before its reader starts."""

    class LingeringReader(threading.Thread):
        def __init__(self, *args, target=None, **kwargs) -> None:
            server = getattr(target, "__self__", None)
            if server is not None and not isinstance(server.sock, LingeringSocket):
                server.sock = LingeringSocket(server.sock, linger_s)
            super().__init__(*args, target=target, **kwargs)  # type: ignore[misc]

    return LingeringReader


def wait_closed(server, linger_s: float) -> None:
    """Called once the handler is done (its close frame sent): half-close at once, so the client sees
    the end, then wait (bounded) until simple-websocket's reader has drained and closed the socket, so
    the server's own clean-up does not close it early. A reader still waiting on a silent client after
    `linger_s` is woken by a full shutdown."""
    reader = getattr(server, "thread", None)
    if reader is None or reader is threading.current_thread():
        return
    sock = server.sock
    try:
        sock.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    reader.join(linger_s)
    if reader.is_alive():
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        reader.join(1.0)
