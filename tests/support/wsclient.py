"""WebSocket test support: a blocking client speaking our JSON frames (websocket-client underneath),
a raw TCP client that shakes hands and then never reads, and the app served on a free port."""
from __future__ import annotations

import base64
import json
import os
import socket
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator
from urllib.parse import urlencode

import websocket
from flask import Flask

from tests.support.databases import free_port
from tests.support.frames import check_server_frame

Frame = dict[str, Any]


class Closed(websocket.WebSocketConnectionClosedException):
    """The server closed the socket (`code`: its close code, None when there was none)."""

    def __init__(self, code: int | None) -> None:
        super().__init__(f"closed with {code}")
        self.code = code


class RecvTimeout(websocket.WebSocketTimeoutException, TimeoutError):
    """No (matching) frame in time; catch it as either base class."""


class WsClient:
    """One client socket; every frame read is checked against the AsyncAPI document of `/ws`
    (tests/support/frames.py) and kept in `seen`, in arrival order."""

    def __init__(self, ws_url: str, token: str | None = None, *, header: bool = True, timeout: float = 5.0,
                 headers: tuple[str, ...] = (), sockopt: tuple = (), resume: str | None | bool = False) -> None:
        """`resume`: a cursor to resume after on connect (`/ws?cursor=`; None: from the beginning)."""
        query, all_headers = {}, list(headers)
        if token is not None:
            if header:
                all_headers.append(f"Authorization: Bearer {token}")
            else:
                query["access_token"] = token
        if resume is not False:
            query["cursor"] = resume or ""
        url = f"{ws_url}?{urlencode(query)}" if query else ws_url
        self.ws = websocket.create_connection(url, header=all_headers, timeout=timeout, sockopt=sockopt)
        self.ws_url = ws_url
        self.timeout = timeout
        self.seen: list[Frame] = []

    def send(self, frame: Frame | str) -> None:
        self.ws.send(frame if isinstance(frame, str) else json.dumps(frame, ensure_ascii=False))

    def send_text(self, group_id: int, text: str, client_id: str, **extra: Any) -> None:
        self.send({"op": "send", "client_id": client_id, "group_id": group_id, "type": "txt",
                   "body": {"text": text}, **extra})

    def recv(self, timeout: float | None = None) -> Frame:
        """The next text frame (answering pings meanwhile); RecvTimeout, or Closed when the server closes."""
        deadline = time.monotonic() + (timeout if timeout is not None else self.timeout)
        while (left := deadline - time.monotonic()) > 0:
            self.ws.settimeout(left)
            try:
                opcode, data = self.ws.recv_data(control_frame=True)
            except websocket.WebSocketTimeoutException:
                break
            except (websocket.WebSocketConnectionClosedException, ConnectionError) as exc:
                raise Closed(None) from exc
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                raise Closed(int.from_bytes(data[:2], "big") if len(data) >= 2 else None)
            if opcode == websocket.ABNF.OPCODE_TEXT:
                frame = json.loads(data)
                check_server_frame(self.ws_url, frame)  # every frame must match the AsyncAPI document
                self.seen.append(frame)
                return frame
        raise RecvTimeout("no frame")

    def recv_until(self, match: Callable[[Frame], bool], timeout: float | None = None) -> Frame:
        """The first frame that matches, skipping others (they stay in `seen`)."""
        deadline = time.monotonic() + (timeout if timeout is not None else self.timeout)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RecvTimeout("no matching frame")
            frame = self.recv(left)
            if match(frame):
                return frame

    def op(self, name: str, timeout: float | None = None) -> Frame:
        """The next frame with this op; `unread` badge events are skipped (nearly every message moves
        someone's badge): wait for those with `recv_until`."""
        return self.recv_until(lambda f: f.get("op") == name and f.get("type") != "unread", timeout)

    def frames_for(self, seconds: float) -> list[Frame]:
        """Every frame that arrives within `seconds` (the client answers pings meanwhile), but `unread`
        badge events (nearly every message moves someone's badge; they stay in `seen`)."""
        got: list[Frame] = []
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                frame = self.recv(left)
            except TimeoutError:
                break
            if frame.get("type") != "unread":
                got.append(frame)
        return got

    def flush(self) -> list[dict[str, Any]]:
        """Every frame queued for this socket so far (a ping's pong comes after them), leaving out
        presence events (peers come online and go offline whenever the test's sockets do) and
        `unread` badge events (nearly every message moves someone's badge)."""
        self.send({"op": "ping"})
        frames = []
        while (frame := self.recv())["op"] != "pong":
            if frame.get("type") not in ("presence", "unread"):
                frames.append(frame)
        return frames

    def hello(self) -> Frame:
        return self.op("hello")

    def sync(self, cursor: str | None, *, follow: bool = True) -> list[Frame]:
        """Send `sync` and collect positioned frames (messages, acks, and events with a cursor: edits,
        reactions) until `synced` with more=false (asking again when true)."""
        got: list[Frame] = []
        self.send({"op": "sync", "cursor": cursor})
        while True:
            frame = self.recv()
            if frame["op"] in ("message", "ack") or (frame["op"] == "event" and "cursor" in frame):
                got.append(frame)
            elif frame["op"] == "synced":
                if not frame["more"] or not follow:
                    return got
                self.send({"op": "sync", "cursor": frame["cursor"]})

    def ready(self) -> Frame:
        """hello, then sync from that hello's cursor (nothing old): the socket is live."""
        hello = self.hello()
        assert self.sync(hello["cursor"]) == []
        return hello

    def close_status(self, timeout: float = 5.0) -> int | None:
        """Read until the server closes: its close code (None: no code, or the TCP connection dropped).
        Text frames on the way go to `seen`; TimeoutError when the socket stays open."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.recv(max(deadline - time.monotonic(), 0.001))
            except Closed as closed:
                return closed.code

    def close(self) -> None:
        try:
            self.ws.close(timeout=0.5)
        except Exception:
            pass


class RawClient:
    """A TCP socket that completes the WebSocket handshake; the frames are then the test's own (it never pongs)."""

    def __init__(self, url: str, token: str, headers: tuple[str, ...] = ()) -> None:
        host, port = url.removeprefix("http://").split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=5)
        key = base64.b64encode(os.urandom(16)).decode()
        extra = "".join(f"{h}\r\n" for h in headers)
        self.sock.sendall((f"GET /ws HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                           f"Authorization: Bearer {token}\r\n{extra}\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(1)
            if not chunk:
                raise ConnectionError("closed during the handshake")
            head += chunk
        if not head.startswith(b"HTTP/1.1 101"):
            raise ConnectionError(head.decode(errors="replace"))
        self.response_head = head.decode()

    def read_to_eof(self, timeout: float) -> bytes:
        """Everything the server sent until it closed the connection (TimeoutError if it did not)."""
        data, deadline = b"", time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except TimeoutError:
                break
            except ConnectionResetError:
                return data
            if not chunk:
                return data
            data += chunk
        raise TimeoutError("the server kept the connection open")

    def close(self) -> None:
        self.sock.close()


@dataclass
class LiveServer:
    app: Flask
    url: str
    ws_url: str



@contextmanager
def serve(app: Flask) -> Iterator[LiveServer]:
    """`app` on a free port (werkzeug, threaded, as `python app.py` serves); on exit its sockets are closed with 1001."""
    from werkzeug.serving import make_server

    from core.dev_server import dev_server_options
    port = free_port()
    server = make_server("127.0.0.1", port, app, **dev_server_options())
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield LiveServer(app=app, url=f"http://127.0.0.1:{port}", ws_url=f"ws://127.0.0.1:{port}/ws")
    finally:
        app.extensions["chat_hub"].close_all(1001, "server going away")
        server.shutdown()
        thread.join(timeout=5)


@contextmanager
def tuned_app(base: Flask, **settings: Any) -> Iterator[Flask]:
    """A second app on `base`'s database with some settings changed (e.g. WS_HEARTBEAT_S=0.3).

    Only what goes through it (REST calls on its own test client, its sockets) uses its broker."""
    from tests.support.apps import close_app, make_app
    app = make_app(Path(base.instance_path), base.config["DATABASE_URL"], **settings)
    try:
        yield app
    finally:
        close_app(app)


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0, interval: float = 0.02) -> bool:
    """Poll `predicate` until it is true (True) or `timeout` passes (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())
