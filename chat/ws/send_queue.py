"""The process's WebSocket send queue: sends from every socket, committed in batches by one worker."""
from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Callable

from flask import Flask

from chat.messages.batch import Outcome, SendRequest, send_many
from core import metrics
from core.db import db

log = logging.getLogger(__name__)

#: called with a send's outcome once its batch committed (or failed)
Done = Callable[[Outcome], None]


class QueuedSends:
    """One socket's sends still queued or committing. Its next op that is not a send waits for them,
    so a client's ops take effect in the order it sent them (a `sync` after a `send` sees its message)."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())  # not reentered: a plain lock is cheaper than an RLock
        self._count = 0

    def add(self) -> None:
        with self._cond:
            self._count += 1

    def done(self) -> None:
        with self._cond:
            self._count -= 1
            if not self._count:
                self._cond.notify_all()

    def wait(self, timeout: float) -> bool:
        """Wait until none is left; False after `timeout` seconds with some still there."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._count, timeout)


class SendQueue:
    """Sends wait here in arrival order for one worker thread, which takes every send queued so far (up
    to `max_batch`) and commits them in one transaction (`send_many`); each send's `done` then gets its
    outcome. Nothing is answered before its commit.

    The queue is bounded: when it is full, the socket reader submitting waits (backpressure). The
    worker starts with the first send and ends after `idle_s` without one. Unset sizes and waits come
    from the app's WS_SEND_BATCH, WS_SEND_QUEUE_MAX and WS_SEND_IDLE_S.
    """

    def __init__(self, app: Flask, *, max_batch: int | None = None, max_queued: int | None = None,
                 idle_s: float | None = None) -> None:
        cfg = app.config
        self._app = app
        self._queue: queue.Queue[tuple[SendRequest, Done]] = queue.Queue(
            maxsize=max_queued if max_queued is not None else cfg["WS_SEND_QUEUE_MAX"])
        self._max_batch = max_batch if max_batch is not None else cfg["WS_SEND_BATCH"]
        self._idle_s = idle_s if idle_s is not None else cfg["WS_SEND_IDLE_S"]
        self._lock = threading.Lock()
        self._running = False

    def submit(self, request: SendRequest, done: Done) -> None:
        """Queue one send; `done(outcome)` runs on the worker after its batch."""
        self._queue.put((request, done))  # its depth is measured as each batch is taken (`_serve`)
        with self._lock:
            if not self._running:
                self._running = True
                threading.Thread(target=self._run, name="ws-send-queue", daemon=True).start()

    def _run(self) -> None:
        try:
            self._serve()
        except BaseException:  # killed (e.g. at shutdown): the next send starts a new worker
            with self._lock:
                self._running = False
            raise

    def _serve(self) -> None:
        while True:
            try:
                first = self._queue.get(timeout=self._idle_s)
            except queue.Empty:
                with self._lock:
                    # A send queued since the timeout keeps the worker; none can slip in after this check,
                    # submit takes the lock to see `_running`.
                    if self._queue.empty():
                        self._running = False
                        return
                continue
            time.sleep(0)  # let readers with frames in hand queue them: they join this batch
            batch = [first]
            while len(batch) < self._max_batch:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            metrics.SEND_QUEUE_DEPTH.set(self._queue.qsize())
            metrics.SEND_BATCH_SIZE.observe(len(batch))
            self._commit(batch)

    def _commit(self, batch: list[tuple[SendRequest, Done]]) -> None:
        with self._app.app_context():
            try:
                outcomes: list[Outcome] = send_many([request for request, _ in batch])
            except Exception as exc:  # a bug, not a refusal: every send of the batch is answered with it
                log.exception("a batch of %d sends failed", len(batch))
                outcomes = [exc] * len(batch)
            finally:
                db.remove()
        for (_, done), outcome in zip(batch, outcomes):
            try:
                done(outcome)
            except Exception:
                log.exception("answering a send failed")
