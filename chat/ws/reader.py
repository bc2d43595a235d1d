"""The client's frames, read by the socket's handler itself, and a clean end for every socket.

simple-websocket starts a reader thread per socket that fills a buffer the handler then waits on: two
blocked threads (greenlets under gevent) per socket where one does. Its `thread_class` option gets a
thread that never starts, and the handler reads the socket itself, through the library's own frame
handling (`_handle_events`: pings answered, fragments joined, the size cap, the close handshake).
One greenlet fewer is about a tenth of an idle socket's memory (BENCHMARKS.md, idle connections).

When the client asked for no extension (no compression), its whole single-frame text and binary
messages are split here, a few slices and one XOR each, and only the rest (control frames, fragmented
messages, frames past the size cap, text that is not UTF-8) goes to the library, always as whole
frames, so its state is what it would be had it read everything: wsproto's parser was a quarter of
the handler's time.

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
OP_CONTINUATION, OP_TEXT, OP_BINARY = 0x0, 0x1, 0x2
FIN, RSV, MASKED = 0x80, 0x70, 0x80


class NoReaderThread:
    """simple-websocket's `thread_class`: the reader thread it would start is never started."""

    def __init__(self, *, target=None, **_kwargs) -> None:
        self.name = "(_thread)"

    def start(self) -> None:
        pass


class Reader:
    """Reads one server socket's client frames in the calling thread; then `finish` ends it cleanly."""

    def __init__(self, server, *, plain: bool = False) -> None:
        """`plain`: the client asked for no extension, so its frames are as RFC 6455 §5.2 lays them out."""
        self._server = server
        self.plain = plain
        self._frames = FrameSplitter(server) if plain else None
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
                if self._frames is not None:
                    self._frames.feed(data)
                else:
                    _to_library(server, data)
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


class FrameSplitter:
    """Splits a plain socket's bytes into frames: whole unfragmented data frames become messages here,
    every other frame goes to the library whole; once a frame is one it must see in pieces (past the
    size cap) or refuse (text that is not UTF-8), the library reads the rest of the socket."""

    def __init__(self, server) -> None:
        self._server = server
        self._pending = b""
        self._cap = server.max_message_size
        self._in_fragments = False  # the library holds the start of a fragmented message
        self._handed_over = False

    def feed(self, data: bytes) -> None:
        """Take bytes read from the socket; complete messages land in the server's input buffer."""
        if self._handed_over:
            _to_library(self._server, data)
            return
        buf = self._pending + data if self._pending else data
        start, end = 0, len(buf)
        while end - start >= 2 and self._server.connected:
            b0, b1 = buf[start], buf[start + 1]
            size, head = b1 & 0x7F, start + 2
            if size == 126:
                size, head = int.from_bytes(buf[head:head + 2], "big"), head + 2
            elif size == 127:
                size, head = int.from_bytes(buf[head:head + 8], "big"), head + 8
            if head > end:
                break  # the extended length is not all here yet
            if self._cap and size > self._cap:
                self._hand_over(buf[start:])
                return
            masked = b1 & MASKED
            stop = head + (4 if masked else 0) + size
            if stop > end:
                break
            opcode = b0 & 0x0F
            if masked and b0 & (FIN | RSV) == FIN and opcode in (OP_TEXT, OP_BINARY) and not self._in_fragments:
                payload = _unmask(buf[head + 4:stop], buf[head:head + 4])
                if opcode == OP_BINARY:
                    self._server.input_buffer.append(payload)
                else:
                    try:
                        self._server.input_buffer.append(payload.decode("utf-8"))
                    except UnicodeDecodeError:
                        self._hand_over(buf[start:])  # the library closes with 1007
                        return
            else:
                if opcode in (OP_TEXT, OP_BINARY, OP_CONTINUATION):
                    self._in_fragments = not b0 & FIN
                _to_library(self._server, buf[start:stop])
            start = stop
        self._pending = buf[start:]

    def _hand_over(self, rest: bytes) -> None:
        self._handed_over = True
        self._pending = b""
        _to_library(self._server, rest)


def _to_library(server, data: bytes) -> None:
    """simple-websocket's own handling of these bytes (wsproto's parser and `_handle_events`)."""
    server.ws.receive_data(data)
    server.connected = server._handle_events()


def _unmask(payload: bytes, mask: bytes) -> bytes:
    """A client frame's payload XORed with its 4-byte masking key (RFC 6455 §5.3), as one integer: for the short
    frames chat sends, a third of the time of wsproto's `XorMaskerSimple` (0.5 against 1.4 µs at 60 bytes;
    it wins past a few KB, and frames are capped at WS_MAX_FRAME_BYTES, 32 KB)."""
    size = len(payload)
    if not size:
        return b""
    key = (mask * (size // 4 + 1))[:size]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")).to_bytes(size, "big")
