"""An oversize frame on gunicorn (gevent) gets a clean close 1009, never a TCP reset: the server sends the
close frame, stops writing, and drains what the client is still sending before it closes the socket
(closing with unread data makes the kernel answer with RST, and a RST can discard the close frame
before the client reads it)."""
from __future__ import annotations

import base64
import os
import socket
import struct

import pytest

from tests.support.servers import GunicornServer, HttpApi, shared_database

pytestmark = pytest.mark.slow

PAYLOAD = 24 * 1024 * 1024  # beyond what the kernels buffer (the server reads only the first 32 KB)
ROUNDS = 5


def _handshake(port: int, token: str) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                  f"Authorization: Bearer {token}\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(1)
        assert chunk, "closed during the handshake"
        head += chunk
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


def _text_frame_header(length: int, mask: bytes) -> bytes:
    return b"\x81" + bytes([0x80 | 127]) + struct.pack(">Q", length) + mask


def _close_code(sock: socket.socket) -> int | str:
    """Read server frames until the close frame: its code; "reset" or "eof" when the TCP connection
    ended without one."""
    data = b""
    while True:
        while len(data) >= 2:
            opcode, length = data[0] & 0x0F, data[1] & 0x7F
            offset = 2
            if length == 126:
                if len(data) < 4:
                    break
                length, offset = struct.unpack(">H", data[2:4])[0], 4
            elif length == 127:
                if len(data) < 10:
                    break
                length, offset = struct.unpack(">Q", data[2:10])[0], 10
            if len(data) < offset + length:
                break
            if opcode == 0x8:
                return struct.unpack(">H", data[offset:offset + 2])[0]
            data = data[offset + length:]
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return "reset"
        if not chunk:
            return "eof"
        data += chunk


def _oversize_round(port: int, token: str) -> int | str:
    sock = _handshake(port, token)
    try:
        mask = os.urandom(4)
        try:  # the payload's content does not matter (the server never reads that far): zeros, masked
            sock.sendall(_text_frame_header(PAYLOAD, mask) + (mask * (PAYLOAD // 4)))
        except (ConnectionResetError, BrokenPipeError):
            return "reset"
        return _close_code(sock)
    finally:
        sock.close()


def test_an_oversize_frame_on_gunicorn_is_closed_with_1009_every_time(tmp_path):
    with shared_database(tmp_path) as url, GunicornServer(tmp_path, database_url=url) as server:
        user = HttpApi(server.url).user()
        outcomes = [_oversize_round(server.port, user.token) for _ in range(ROUNDS)]
        assert outcomes == [1009] * ROUNDS
