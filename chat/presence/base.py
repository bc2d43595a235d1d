"""The presence interface: which users hold a socket, here and in every process, and who just changed.

The hub reports a user's first socket in this process (`arrived`) and their last one closing
(`left`) while it holds its own lock, so the calls come in the true order; both only update a
local set and wake ONE worker thread. The worker reconciles each woken user's shared state with
the local set (a connect-disconnect blip that it sees only after both is no write at all) and,
when a user's state changed everywhere (first socket anywhere, last socket anywhere), calls
`on_change(user_id, online)` — the presence event. The worker also beats every `beat_s`, and
reports as offline (`on_change(user_id, False)`) the users left behind by a process that died.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from abc import ABC, abstractmethod
from typing import Callable, Iterable

log = logging.getLogger(__name__)

ChangeCallback = Callable[[int, bool], None]
_STOP = object()


class Presence(ABC):
    """Local sockets per user, shared state written by one worker thread, batch lookups."""

    def __init__(self, *, beat_s: float) -> None:
        self.beat_s = beat_s
        self.on_change: ChangeCallback | None = None
        self.beat_hooks: list[Callable[[], None]] = []  # also run on the worker thread at each beat
        self._lock = threading.Lock()
        self._local: set[int] = set()
        self._written: set[int] = set()  # worker thread only: users whose shared state says "here"
        self._queue: queue.Queue = queue.Queue()  # pure Python: gevent-patched with threading
        self._thread: threading.Thread | None = None
        self._stopped = False

    # ----- called by the hub, under its lock: cheap, never blocks on I/O ---------------------
    def arrived(self, user_id: int) -> None:
        """The user's first socket in this process is registered."""
        with self._lock:
            self._local.add(user_id)
            self._wake_locked(user_id)

    def left(self, user_id: int) -> None:
        """The user's last socket in this process is gone."""
        with self._lock:
            self._local.discard(user_id)
            self._wake_locked(user_id)

    # ----- lookups -----------------------------------------------------------------------------
    def here(self, user_ids: Iterable[int]) -> set[int]:
        """Those of `user_ids` with a socket in this process."""
        with self._lock:
            return {uid for uid in user_ids if uid in self._local}

    @abstractmethod
    def online(self, user_ids: Iterable[int]) -> set[int]:
        """Those of `user_ids` with a socket in any process (one round trip at most)."""

    def is_online(self, user_id: int) -> bool:
        return user_id in self.online((user_id,))

    # ----- lifecycle ---------------------------------------------------------------------------
    def close(self, *, forget: bool = True, timeout: float = 2.0) -> None:
        """Stop the worker (idempotent). `forget=False` leaves the shared state to expire, as a
        crashed process would; `forget=True` withdraws this process's users at once."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
            thread = self._thread
        if thread is not None:
            self._queue.put(_STOP)
            thread.join(timeout)
        self._closed(forget=forget)

    def _wake_locked(self, user_id: int) -> None:
        if self._stopped:
            return
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="presence", daemon=True)
            self._thread.start()
        self._queue.put(user_id)

    def _run(self) -> None:
        self._safely(self._heartbeat)
        next_beat = time.monotonic() + self.beat_s
        while True:
            try:
                item = self._queue.get(timeout=max(next_beat - time.monotonic(), 0.0))
            except queue.Empty:
                self._safely(self._heartbeat)
                self._safely(self._reconcile_all)  # retries writes that failed before
                next_beat = time.monotonic() + self.beat_s
                continue
            woken = {item}
            while True:  # take everything already queued: one pass per user
                try:
                    woken.add(self._queue.get_nowait())
                except queue.Empty:
                    break
            if _STOP in woken:
                return
            for user_id in sorted(woken):
                self._safely(self._reconcile, user_id)

    def _reconcile_all(self) -> None:
        with self._lock:
            pending = self._local ^ self._written
        for user_id in sorted(pending):
            self._reconcile(user_id)

    def _reconcile(self, user_id: int) -> None:
        with self._lock:
            want = user_id in self._local
        if want == (user_id in self._written):
            return
        changed = self._write(user_id, want)
        (self._written.add if want else self._written.discard)(user_id)
        if changed and self.on_change is not None:
            self.on_change(user_id, want)

    @staticmethod
    def _safely(step: Callable[..., None], *args: object) -> None:
        try:
            step(*args)
        except Exception:  # the worker must survive a Redis or database outage
            log.warning("presence: update failed; retrying at the next beat", exc_info=True)

    @abstractmethod
    def _write(self, user_id: int, here: bool) -> bool:
        """Record that this process holds (or no longer holds) the user; True when that flipped the
        user's state everywhere (no other live process holds them)."""

    def _heartbeat(self) -> None:
        for user_id in self._beat():
            if self.on_change is not None:
                self._safely(self.on_change, user_id, False)
        for hook in self.beat_hooks:
            self._safely(hook)

    def _beat(self) -> list[int]:
        """Keep this process's shared state alive; the users who went offline because another
        process died (nothing of either for the in-process variant)."""
        return []

    def _closed(self, *, forget: bool) -> None:
        """Release resources after the worker stopped."""
