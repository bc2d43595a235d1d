"""What one connection holds for its writer: the bounded outbox that cuts off a slow consumer, and
the sends still waiting for their ack. Both are filled from any thread and emptied by the writer, which
runs only while there is something to send (an idle socket costs no writer thread)."""
from __future__ import annotations

import functools
import logging
import threading
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any, Callable

from chat.ws.frames import CLOSE_TRY_AGAIN, REASON_SLOW_CONSUMER

log = logging.getLogger(__name__)


@dataclass
class Item:
    """One job for the writer: `frame`, `pos`, `ack`, `sync`, `live`, `catch_up`, `beat` or `close`."""

    kind: str
    data: Any = field(default=None, compare=False)


class Outbox:
    """A bounded FIFO between the threads that produce frames and the socket's one writer.

    The writer is started by the first item queued while none runs, and retires once it has sent
    everything (`retire`); `start_writer` starts the first one, so nothing is written before the
    connection says hello. Full means the client reads too slowly (or not at all): everything queued
    is dropped for a single `close` 1013 (the client reconnects and syncs from its cursor), and
    `on_overflow` runs so the connection can cut the transport if the writer is stuck in a send."""

    def __init__(self, maxsize: int, *, owner: str, writer: Callable[[], None],
                 on_overflow: Callable[[], None]) -> None:
        self._items: deque[Item] = deque()
        self._maxsize = maxsize
        # Held as `with self._lock` except around the writer's wait: the Condition's `with` is Python calls
        # around the same lock, paid on every frame (several per message); notify only needs the lock held
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._owner = owner
        self._writer = writer
        self._on_overflow = on_overflow
        self._writing = True  # until start_writer: a writer "runs", so no item starts one early
        self._waiting = False  # the writer waits in `wait` for a deadline

    def put(self, item: Item, *, force: bool = False) -> None:
        """Queue `item`; on overflow a forced item (a close) replaces the backlog, any other a 1013 close."""
        overflow = False
        with self._lock:
            if len(self._items) >= self._maxsize:
                overflow = True
                if not force:
                    log.warning("%s is not reading; closing it", self._owner)
                    item = Item("close", (CLOSE_TRY_AGAIN, REASON_SLOW_CONSUMER))
                self._items.clear()
            self._items.append(item)
            start = not self._writing
            if start:
                self._writing = True
            elif self._waiting:
                self._cond.notify()
        if overflow:
            self._on_overflow()
        if start:
            spawn(self._writer)

    def start_writer(self) -> None:
        """Start the first writer (the connection has said hello)."""
        spawn(self._writer)

    def get_nowait(self) -> Item | None:
        """The next item if one is queued, else None."""
        with self._lock:
            return self._items.popleft() if self._items else None

    def wait(self, timeout: float) -> None:
        """The writer waits (at most `timeout` seconds) for an item."""
        if timeout <= 0:
            return
        with self._cond:
            if not self._items:
                self._waiting = True
                self._cond.wait(timeout)
                self._waiting = False

    def retire(self) -> bool:
        """The writer ends unless something was queued meanwhile (False: it goes on)."""
        with self._lock:
            if self._items:
                return False
            self._writing = False
            return True


def spawn(target: Callable[[], None]) -> None:
    """Run `target` in a new greenlet under gevent (a plain one: cheaper than a Thread), else a thread."""
    _spawner()(target)


@functools.cache
def _spawner() -> Callable[[Callable[[], None]], Any]:
    try:
        from gevent import monkey
    except ImportError:
        return _start_thread
    if monkey.is_module_patched("threading"):
        import gevent
        return gevent.spawn
    return _start_thread


def _start_thread(target: Callable[[], None]) -> None:
    threading.Thread(target=target, name="ws-writer", daemon=True).start()


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
