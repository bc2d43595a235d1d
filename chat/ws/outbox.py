"""What one connection holds for its writer: the bounded outbox that cuts off a slow consumer, and
the sends still waiting for their ack. Both are filled from any thread and emptied by the writer."""
from __future__ import annotations

import logging
import queue
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable

from chat.ws.frames import CLOSE_TRY_AGAIN, REASON_SLOW_CONSUMER

log = logging.getLogger(__name__)


@dataclass
class Item:
    """One job for the writer: `frame`, `pos`, `ack`, `sync`, `catch_up` or `close`."""

    kind: str
    data: Any = field(default=None, compare=False)


class Outbox:
    """A bounded FIFO between the threads that produce frames and the socket's one writer.

    Full means the client reads too slowly (or not at all): everything queued is dropped for a
    single `close` 1013 (the client reconnects and syncs from its cursor), and `on_overflow` runs
    so the connection can cut the transport if the writer is stuck in a send."""

    def __init__(self, maxsize: int, *, owner: str, on_overflow: Callable[[], None]) -> None:
        self._queue: queue.Queue[Item] = queue.Queue(maxsize=maxsize)
        self._owner = owner
        self._on_overflow = on_overflow

    def put(self, item: Item, *, force: bool = False) -> None:
        """Queue `item`; on overflow a forced item (a close) replaces the backlog, any other a 1013 close."""
        try:
            self._queue.put_nowait(item)
            return
        except queue.Full:
            pass
        if not force:
            log.warning("%s is not reading; closing it", self._owner)
            item = Item("close", (CLOSE_TRY_AGAIN, REASON_SLOW_CONSUMER))
        self._drain()
        try:
            self._queue.put_nowait(item)
        except queue.Full:  # refilled by other threads meanwhile; on_overflow still cuts it off
            pass
        self._on_overflow()

    def get(self, timeout: float) -> Item | None:
        """The next item, or None after `timeout` seconds."""
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            return None

    def get_nowait(self) -> Item | None:
        """The next item if one is queued, else None."""
        try:
            return self._queue.get_nowait()
        except queue.Empty:
            return None

    def _drain(self) -> None:
        try:
            while True:
                self._queue.get_nowait()
        except queue.Empty:
            pass


class SendsInFlight:
    """A thread-safe multiset of client_ids: the reader adds one per `send`, the writer takes one per ack.

    A multiset, not a set: a client may resend a client_id before the first ack is back, and each
    send gets its ack (all of the one stored message)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def add(self, client_id: str) -> None:
        with self._lock:
            self._counts[client_id] += 1

    def take(self, client_id: str | None) -> bool:
        """Count one send of `client_id` as answered; False when none was waiting (answered already)."""
        if client_id is None:
            return False
        with self._lock:
            if self._counts[client_id] <= 0:
                self._counts.pop(client_id, None)
                return False
            self._counts[client_id] -= 1
            if not self._counts[client_id]:
                del self._counts[client_id]
            return True
