"""A small blocking WebSocket client for tests (websocket-client underneath), speaking our JSON frames."""
from __future__ import annotations

import json
import time
from typing import Any, Callable

import websocket


class WsClient:
    def __init__(self, ws_url: str, token: str | None = None, *, header: bool = True, timeout: float = 5.0) -> None:
        url, headers = ws_url, []
        if token is not None:
            if header:
                headers = [f"Authorization: Bearer {token}"]
            else:
                url = f"{ws_url}?access_token={token}"
        self.ws = websocket.create_connection(url, header=headers, timeout=timeout)
        self.timeout = timeout
        self.seen: list[dict[str, Any]] = []

    def send(self, frame: dict[str, Any] | str) -> None:
        self.ws.send(frame if isinstance(frame, str) else json.dumps(frame, ensure_ascii=False))

    def recv(self, timeout: float | None = None) -> dict[str, Any]:
        self.ws.settimeout(timeout if timeout is not None else self.timeout)
        raw = self.ws.recv()
        frame = json.loads(raw)
        self.seen.append(frame)
        return frame

    def recv_until(self, match: Callable[[dict[str, Any]], bool], timeout: float | None = None) -> dict[str, Any]:
        """The first frame that matches, skipping others (they stay in `seen`)."""
        deadline = time.monotonic() + (timeout if timeout is not None else self.timeout)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no matching frame")
            frame = self.recv(left)
            if match(frame):
                return frame

    def op(self, name: str, timeout: float | None = None) -> dict[str, Any]:
        return self.recv_until(lambda f: f.get("op") == name, timeout)

    def hello(self) -> dict[str, Any]:
        return self.op("hello")

    def sync(self, cursor: str | None) -> list[dict[str, Any]]:
        """Send `sync` and collect message frames until `synced` with more=false (asking again when true)."""
        got: list[dict[str, Any]] = []
        self.send({"op": "sync", "cursor": cursor})
        while True:
            frame = self.recv()
            if frame["op"] in ("message", "ack"):
                got.append(frame)
            elif frame["op"] == "synced":
                if not frame["more"]:
                    return got
                self.send({"op": "sync", "cursor": frame["cursor"]})

    def close_status(self, timeout: float = 5.0) -> int | None:
        """Read until the server closes; the close code."""
        self.ws.settimeout(timeout)
        try:
            while True:
                opcode, data = self.ws.recv_data(control_frame=True)
                if opcode == websocket.ABNF.OPCODE_CLOSE:
                    return int.from_bytes(data[:2], "big") if len(data) >= 2 else None
        except websocket.WebSocketConnectionClosedException:
            return None

    def close(self) -> None:
        try:
            self.ws.close()
        except Exception:
            pass
