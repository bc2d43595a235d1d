"""The process's one Redis pub/sub connection, owned by one thread that reconnects with backoff.

redis-py PubSub objects are not thread-safe, so only the listener thread touches
the PubSub: other threads change the set of wanted channels (under the broker's
lock) and mark it dirty; the listener reconciles it with Redis between short
reads. Works with plain threads and with gevent's monkey-patched ones.
"""
from __future__ import annotations

import logging
import os
import random
import threading
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING, Iterable, Iterator

import redis
from redis.client import PubSub

if TYPE_CHECKING:
    from chat.broker.base import Subscription
    from chat.broker.redis import RedisBroker

log = logging.getLogger(__name__)

KEEPALIVE_MESSAGE = "paipai-broker-keepalive"
IDLE_WAIT = 1.0  # seconds the thread sleeps when no channel is wanted (a subscribe wakes it)


def backoff_delay(failures: int, base: float, cap: float) -> float:
    """Exponential backoff with jitter: about base, 2*base, 4*base, ... capped at `cap`."""
    ceiling = min(cap, base * 2 ** min(failures - 1, 30))
    return random.uniform(ceiling / 2, ceiling)


class PubSubListener:
    """Subscribes the wanted channels on one connection and hands messages to the broker."""

    def __init__(self, broker: RedisBroker, client: redis.Redis, probe: redis.Redis, *, own_channel: str,
                 poll_interval: float, ping_interval: float, pong_timeout: float,
                 backoff_base: float, backoff_cap: float) -> None:
        self._broker = broker
        self._lock = broker._lock  # guards _requested, _live, _dirty, _holds (and the broker's subscribers)
        self._own_channel = own_channel  # subscribed with the first channel wanted, in the same SUBSCRIBE
        self._holds = 0  # publishes counting this connection among a channel's subscribers (`held`)
        self._client = client
        self._probe = probe
        self._poll_interval = poll_interval
        self._ping_interval = ping_interval
        self._pong_timeout = pong_timeout
        self._backoff = (backoff_base, backoff_cap)
        self._stopping = threading.Event()
        self._wake = threading.Event()
        self._start_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None
        self._reset_state()

    def _reset_state(self) -> None:
        with self._lock:
            self._requested: set[str] = set()  # SUBSCRIBE sent on the current connection
            self._live: set[str] = set()  # ... and confirmed by Redis
            self._dirty = True
        self._awaiting: dict[str, int] = {}  # outstanding subscribe confirmations per channel
        self._pubsub: PubSub | None = None
        self._pong_due: float | None = None
        self._next_ping = 0.0
        self._failures = 0
        self.recovering = False  # True from a lost connection until every channel is live again

    # -- called by the broker -------------------------------------------------------

    def ensure_running(self) -> None:
        """Start the thread (lazily: after a fork, e.g. gunicorn --preload, the child starts its own)."""
        with self._start_lock:
            if self._stopping.is_set():
                return
            if self._thread is not None and self._thread.is_alive() and self._pid == os.getpid():
                return
            if self._thread is not None:  # forked child: the parent's connection is not ours
                self._reset_state()
            self._pid = os.getpid()
            self._thread = threading.Thread(target=self._run, name="broker-listener", daemon=True)
            self._thread.start()

    def channel_wanted_locked(self, sub: Subscription) -> None:
        """Under the broker lock: a subscriber arrived; ready at once if its channel is live."""
        if sub.channel in self._live:
            sub.ready.set()
        else:
            self._dirty = True

    def channel_unwanted_locked(self, channel: str) -> None:
        """Under the broker lock: the last subscriber of `channel` left."""
        self._dirty = True

    def wake(self) -> None:
        self._wake.set()

    @contextmanager
    def held(self, channels: Iterable[str]) -> Iterator[frozenset[str]]:
        """Those of `channels` live on the connection now, none of them unsubscribed until the block ends."""
        with self._lock:
            self._holds += 1
            # only the channels asked about: a copy of every live one would cost a publish O(sockets here)
            live = frozenset(channel for channel in channels if channel in self._live)
        try:
            yield live
        finally:
            with self._lock:
                self._holds -= 1
                release = self._holds == 0 and self._dirty
            if release:
                self.wake()

    def stop(self, timeout: float) -> None:
        self._stopping.set()
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    # -- the listener thread ----------------------------------------------------------

    def _run(self) -> None:
        try:
            while not self._stopping.is_set():
                try:
                    self._step()
                except (redis.RedisError, OSError) as exc:
                    self._lost(exc)
                except Exception as exc:  # a bug must not silence the process: reconnect
                    log.exception("broker listener: unexpected error")
                    self._lost(exc)
        finally:
            self._drop_pubsub()

    def _step(self) -> None:
        self._reconcile()
        if self._pubsub is None:  # no channel wanted: no connection to watch
            if self.recovering:
                self._probe.ping()
                self._recovered()
            self._wake.wait(IDLE_WAIT)
            self._wake.clear()
            return
        self._keepalive()
        message = self._pubsub.get_message(timeout=self._poll_interval)
        if message is not None:
            self._pong_due = None  # any traffic proves the connection alive
            self._next_ping = time.monotonic() + self._ping_interval
            self._handle(message)

    def _reconcile(self) -> None:
        with self._lock:
            if not self._dirty:
                return
            self._dirty = False
            wanted = set(self._broker._subscribers)
            if wanted:
                wanted.add(self._own_channel)
            added, dropped = wanted - self._requested, self._requested - wanted
            if dropped and self._holds:  # a publish counts us among these channels' subscribers: later
                wanted |= dropped
                dropped = set()
                self._dirty = True
            self._requested = wanted
            self._live -= dropped
        if not wanted:  # nothing left: close the connection rather than keep an idle one
            self._drop_pubsub()
            return
        if self._pubsub is None:
            self._pubsub = self._client.pubsub()
            self._pong_due, self._next_ping = None, time.monotonic() + self._ping_interval
        if dropped:
            self._pubsub.unsubscribe(*dropped)
        if added:
            for channel in added:
                self._awaiting[channel] = self._awaiting.get(channel, 0) + 1
            self._pubsub.subscribe(*added)

    def _keepalive(self) -> None:
        """PING when the connection is quiet; no reply within pong_timeout means it is dead."""
        now = time.monotonic()
        if self._pong_due is not None:
            if now > self._pong_due:
                raise redis.ConnectionError(f"no reply from Redis within {self._pong_timeout}s")
        elif now >= self._next_ping:
            self._pubsub.ping(KEEPALIVE_MESSAGE)  # type: ignore[union-attr]
            self._pong_due = now + self._pong_timeout

    def _handle(self, message: dict) -> None:
        kind = message["type"]
        if kind == "message":
            self._broker._received(message["channel"], message["data"])
        elif kind == "subscribe":
            self._confirmed(message["channel"])

    def _confirmed(self, channel: str) -> None:
        """Replies come in order: the channel is live when its last SUBSCRIBE is confirmed."""
        left = self._awaiting.get(channel, 0) - 1
        if left > 0:
            self._awaiting[channel] = left
            return
        self._awaiting.pop(channel, None)
        with self._lock:
            if channel in self._requested:
                self._live.add(channel)
                subs = self._broker._subscribers.get(channel, ())
            else:
                subs = ()
        for sub in subs:
            sub.ready.set()
        if self.recovering and not self._awaiting:
            self._recovered()

    def _lost(self, exc: BaseException) -> None:
        if not self.recovering:
            log.warning("broker: Redis pub/sub connection lost (%s); reconnecting", exc)
        else:
            log.debug("broker: reconnect attempt %d failed (%s)", self._failures, exc)
        self.recovering = True
        self._failures += 1
        self._drop_pubsub()
        with self._lock:
            self._requested.clear()
            self._live.clear()
            self._dirty = True
        self._stopping.wait(backoff_delay(self._failures, *self._backoff))

    def _recovered(self) -> None:
        log.info("broker: Redis pub/sub connection restored after %d attempt(s)", self._failures)
        self.recovering = False
        self._failures = 0
        self._broker._fire_reconnect()

    def _drop_pubsub(self) -> None:
        pubsub, self._pubsub = self._pubsub, None
        self._awaiting.clear()
        self._pong_due = None
        if pubsub is not None:
            try:
                pubsub.close()
            except Exception:  # closing a broken connection may fail; it is gone either way
                log.debug("broker: closing the pub/sub connection failed", exc_info=True)
