"""One chat user of the chaos run: a device that sends its share, keeps every frame it is given
and survives whatever happens to its socket.

After any failure it reconnects (to whichever app process is up), asks `sync` from the last
cursor it saw and sends again, with the same client_id, every message it had not seen acked.
What it records is judged later against the database (tests.support.chaos).
"""
from __future__ import annotations

import random
import socket
import threading
import time
from collections import deque
from collections.abc import Callable

import websocket

from chat.cursors import decode_cursor
from tests.factories import Actor
from tests.support.wsclient import WsClient

RECV_SLICE_S = 0.05  # how long one read waits before the peer looks at its send queue again
STALL_S = 10.0  # nothing heard while sends are in flight: treat the socket as dead
RETRY_PAUSE_S = 0.2  # after an error frame for a send (e.g. unavailable, rate_limited)


class Peer(threading.Thread):
    """A buyer or a seller with one device; `run` until `finished` is set."""

    def __init__(self, name: str, actor: Actor, group_id: int, client_ids: list[str], expected: int,
                 pick_server: Callable[[random.Random], str], finished: threading.Event, seed: int,
                 window: int = 4) -> None:
        super().__init__(name=name, daemon=True)
        self.actor, self.group_id, self.expected, self.window = actor, group_id, expected, window
        self.pick_server, self.finished, self.rng = pick_server, finished, random.Random(seed)
        self.own = list(client_ids)
        self.queue: deque[str] = deque(client_ids)  # to send on the current socket, in order
        self.inflight: dict[str, float] = {}  # sent on the current socket, not answered yet
        self.attempted: set[str] = set()
        self.acked: dict[str, int] = {}  # client_id -> message id the ack named
        self.ack_conflicts = 0  # an ack naming another message than an earlier ack of the same client_id
        self.inbox: list[tuple[int, int]] = []  # (message id, seq) of every new delivery, in arrival order
        self.seen: set[int] = set()
        self.duplicates = 0  # a message frame (or an ack nobody asked for) for a message seen before
        self.backwards = 0  # a new delivery at a cursor position not after the previous one
        self.pos, self.cursor = 0, None
        self.connects, self.resends, self.send_errors, self.failures = 0, 0, 0, []
        self.drop = threading.Event()  # set by the harness: cut the socket abruptly, then reconnect
        self.client: WsClient | None = None
        self._resent: set[str] = set()  # client_ids sent on the current socket after an earlier attempt
        self._pause_until = 0.0
        self._heard_at = time.monotonic()

    @property
    def done(self) -> bool:
        return len(self.acked) == len(self.own) and len(self.inbox) >= self.expected

    def run(self) -> None:
        while not self.finished.is_set():
            try:
                self._connect()
                self._pump()
            except (websocket.WebSocketException, OSError) as exc:  # Closed, timeouts, resets, refused
                self.failures.append(type(exc).__name__)
                time.sleep(self.rng.uniform(0.02, 0.15))
            finally:
                self._hang_up()

    def _connect(self) -> None:
        self.drop.clear()
        self.client = WsClient(self.pick_server(self.rng), self.actor.token, timeout=10)
        self.connects += 1
        self.client.hello()
        for frame in self.client.sync(self.cursor):
            self._take(frame)
        # Everything unanswered goes again, first, with its client_id: stored once whatever happened.
        self.queue.extendleft(reversed(list(self.inflight)))
        self._resent = set()
        self.inflight = {}
        self._heard_at = time.monotonic()

    def _pump(self) -> None:
        while not self.finished.is_set():
            if self.drop.is_set():
                raise ConnectionAbortedError("dropped by the harness")
            self._send_some()
            try:
                frame = self.client.recv(RECV_SLICE_S)
            except TimeoutError:
                if self.inflight and time.monotonic() - self._heard_at > STALL_S:
                    raise
                continue
            self._heard_at = time.monotonic()
            self._take(frame)

    def _send_some(self) -> None:
        while self.queue and len(self.inflight) < self.window and time.monotonic() >= self._pause_until:
            client_id = self.queue.popleft()
            if client_id in self.acked:
                continue
            self.inflight[client_id] = time.monotonic()
            if client_id in self.attempted:
                self._resent.add(client_id)
                self.resends += 1
            self.attempted.add(client_id)
            self.client.send_text(self.group_id, f"{self.name} 的第{client_id.rsplit('-', 1)[1]}条 还在吗?", client_id)

    def _take(self, frame: dict) -> None:
        op = frame.get("op")
        if op == "message":
            self._delivered(frame)
        elif op == "ack":
            client_id, message_id = frame["client_id"], frame["message"]["id"]
            if self.acked.setdefault(client_id, message_id) != message_id:
                self.ack_conflicts += 1
            self.inflight.pop(client_id, None)
            if message_id not in self.seen:
                self._delivered(frame)
            elif client_id not in self._resent:  # a repeated ack is only right as the answer to a resend
                self.duplicates += 1
        elif op == "error" and frame.get("client_id") in self.inflight:
            self.send_errors += 1
            self.queue.appendleft(frame["client_id"])  # not stored: send it again a moment later
            del self.inflight[frame["client_id"]]
            self._pause_until = time.monotonic() + RETRY_PAUSE_S

    def _delivered(self, frame: dict) -> None:
        message, pos = frame["message"], decode_cursor(frame["cursor"])
        if message["id"] in self.seen:
            self.duplicates += 1
            return
        if pos <= self.pos:
            self.backwards += 1
        self.seen.add(message["id"])
        self.inbox.append((message["id"], message["seq"]))
        if pos > self.pos:
            self.pos, self.cursor = pos, frame["cursor"]

    def _hang_up(self) -> None:
        """Drop the socket without a close frame, as a lost network would."""
        client, self.client = self.client, None
        if client is None:
            return
        try:
            client.ws.sock.shutdown(socket.SHUT_RDWR)
        except (OSError, AttributeError):
            pass
        client.close()
