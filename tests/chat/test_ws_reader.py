"""/ws reads client frames as RFC 6455 lays them out, however TCP cuts them, over real sockets: frames
split across writes or several in one, every length form, fragmented messages with control frames among
them, binary frames, and the refusals (text that is not UTF-8, unmasked frames, past the cap); a client
that negotiated compression is read by the library's own parser."""
from __future__ import annotations

import json
import os
import struct
import time
import zlib

import pytest

from tests.support.wsclient import RawClient, serve, tuned_app

PING = b'{"op":"ping"}'
OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


def client_frame(opcode: int, payload: bytes, *, fin: bool = True, masked: bool = True, rsv1: bool = False) -> bytes:
    """A client frame: masked with a random key unless told not to."""
    head = bytes(((0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode,))
    bit = 0x80 if masked else 0
    size = len(payload)
    if size < 126:
        head += bytes((bit | size,))
    elif size < 1 << 16:
        head += struct.pack("!BH", bit | 126, size)
    else:
        head += struct.pack("!BQ", bit | 127, size)
    if not masked:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


class Frames:
    """The server's frames on a raw client socket, read one at a time."""

    def __init__(self, raw: RawClient) -> None:
        self.sock = raw.sock
        self.buf = b""
        self.inflate = zlib.decompressobj(wbits=-15)  # permessage-deflate keeps one context per direction

    def _take(self, n: int) -> bytes:
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("the server closed the connection")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def next(self) -> tuple[int, bool, bytes]:
        """(opcode, compressed, payload) of the server's next frame, its payload inflated when compressed."""
        b0, b1 = self._take(2)
        size = b1 & 0x7F
        if size == 126:
            size = struct.unpack("!H", self._take(2))[0]
        elif size == 127:
            size = struct.unpack("!Q", self._take(8))[0]
        payload, compressed = self._take(size), bool(b0 & 0x40)
        if compressed:  # RFC 7692: the sender dropped the 00 00 ff ff tail of each message
            payload = self.inflate.decompress(payload + b"\x00\x00\xff\xff")
        return b0 & 0x0F, compressed, payload

    def text(self) -> dict:
        """The next text frame's JSON (skipping server pings and events other than what the test waits for)."""
        while True:
            opcode, _, payload = self.next()
            if opcode == OP_TEXT:
                return json.loads(payload)
            if opcode == OP_CLOSE:
                raise ConnectionError(f"closed with {struct.unpack('!H', payload[:2])[0]}")

    def close_code(self) -> int:
        while True:
            opcode, _, payload = self.next()
            if opcode == OP_CLOSE:
                return struct.unpack("!H", payload[:2])[0]


@pytest.fixture
def raw(live_server, factory):
    clients = []

    def open_raw(*headers: str) -> tuple[RawClient, Frames]:
        client = RawClient(live_server.url, factory.user().token, headers)
        clients.append(client)
        frames = Frames(client)
        assert frames.text()["op"] == "hello"
        return client, frames

    yield open_raw
    for client in clients:
        client.close()


def test_several_frames_in_one_write_are_each_answered(raw):
    client, frames = raw()
    client.sock.sendall(b"".join(client_frame(OP_TEXT, PING) for _ in range(5)))
    assert [frames.text()["op"] for _ in range(5)] == ["pong"] * 5


@pytest.mark.parametrize("pad", [0, 200, 40_000], ids=["7-bit length", "16-bit length", "64-bit length"])
def test_a_frame_cut_anywhere_by_tcp_is_read_whole(live_server, factory, pad):
    # JSON allows trailing whitespace: the padded ping is still a ping
    with tuned_app(live_server.app, WS_MAX_FRAME_BYTES=100_000) as app, serve(app) as server:
        client = RawClient(server.url, factory.user().token)
        try:
            frames = Frames(client)
            assert frames.text()["op"] == "hello"
            data = client_frame(OP_TEXT, PING + b" " * pad) + client_frame(OP_TEXT, PING)
            for cut in (1, 3, 9):  # inside the header, the extended length, the mask, the payload
                for i in range(0, len(data), max(1, len(data) // cut)):
                    client.sock.sendall(data[i:i + max(1, len(data) // cut)])
                    time.sleep(0.01)
                assert [frames.text()["op"], frames.text()["op"]] == ["pong", "pong"]
        finally:
            client.close()


def test_a_fragmented_message_with_a_ping_among_its_fragments(raw):
    client, frames = raw()
    client.sock.sendall(client_frame(OP_TEXT, b'{"op":', fin=False) + client_frame(OP_PING, b"are you there")
                        + client_frame(OP_CONT, b' "pi', fin=False))
    assert frames.next() == (OP_PONG, False, b"are you there")
    client.sock.sendall(client_frame(OP_CONT, b'ng"}') + client_frame(OP_TEXT, PING))
    assert [frames.text()["op"], frames.text()["op"]] == ["pong", "pong"]  # the joined message, then the next


def test_a_binary_frame_is_refused_and_the_socket_stays(raw):
    client, frames = raw()
    client.sock.sendall(client_frame(OP_BINARY, PING) + client_frame(OP_TEXT, PING))
    assert frames.text()["error"]["code"] == "invalid_frame"
    assert frames.text()["op"] == "pong"


def test_text_that_is_not_utf8_closes_with_1007(raw):
    client, frames = raw()
    client.sock.sendall(client_frame(OP_TEXT, b'{"op":"ping","x":"\xff"}'))
    assert frames.close_code() == 1007


def test_an_unmasked_client_frame_closes_with_1002(raw):
    client, frames = raw()
    client.sock.sendall(client_frame(OP_TEXT, PING, masked=False))
    assert frames.close_code() == 1002


def test_a_frame_announced_past_the_cap_closes_with_1009_before_it_all_arrives(raw):
    client, frames = raw()
    frame = client_frame(OP_TEXT, b"x" * 1_000_000)  # a 64-bit length, 30 times the 32 KB cap
    client.sock.sendall(frame[:40_000])  # past the cap, far from the end: nothing waits for the rest
    assert frames.close_code() == 1009


def test_a_client_that_negotiated_compression_is_answered(raw):
    client, frames = raw("Sec-WebSocket-Extensions: permessage-deflate")
    assert "permessage-deflate" in client.response_head
    deflate = zlib.compressobj(wbits=-15)
    body = deflate.compress(PING) + deflate.flush(zlib.Z_SYNC_FLUSH)
    client.sock.sendall(client_frame(OP_TEXT, body[:-4], rsv1=True) + client_frame(OP_TEXT, PING))  # and one not
    assert [frames.next(), frames.next()] == [(OP_TEXT, True, b'{"op":"pong"}')] * 2
