"""The broker interface: publish to a channel, subscribe local callbacks, hear about reconnects."""
from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from typing import Any, Callable, Iterable

from core import metrics

log = logging.getLogger(__name__)

#: What a channel carries: a text, or an object whose `str()` is its text (e.g. `chat.ws.hub.Parts`).
#: Subscribers in this process get what was published as it is; other processes get the text.
Payload = object
MessageCallback = Callable[[Any], None]
ReconnectCallback = Callable[[], None]


class BrokerError(Exception):
    """Base class of the broker's own errors."""


class BrokerClosed(BrokerError):
    """The broker was closed: no more subscriptions, no more health."""


class BrokerUnavailable(BrokerError):
    """The broker's backend (Redis) does not answer or the listener is reconnecting."""


class Subscription:
    """One local subscriber of one channel; `ready` is set once the channel is live."""

    __slots__ = ("channel", "callback", "ready", "_broker", "_closed")

    def __init__(self, broker: Broker, channel: str, callback: MessageCallback) -> None:
        self.channel = channel
        self.callback = callback
        self.ready = threading.Event()
        self._broker = broker
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Stop delivery to this subscriber (idempotent)."""
        self._broker._remove(self)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else ("ready" if self.ready.is_set() else "pending")
        return f"<Subscription {self.channel!r} {state}>"


class Broker(ABC):
    """Fan-out of small frames to every process's local subscribers of a channel.

    Delivery is at-most-once: the database is the source of truth and clients
    resync from it, so `publish` reports failure instead of raising, and
    `on_reconnect` callbacks tell the caller when live frames may have been lost.
    Callbacks run on the thread that delivers (a publisher in this process, or the Redis listener for another
    process's publish) and must be quick.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: dict[str, tuple[Subscription, ...]] = {}
        self._reconnect_callbacks: tuple[ReconnectCallback, ...] = ()
        self._closed = False

    @abstractmethod
    def publish(self, channel: str, payload: Payload) -> bool:
        """Send `payload` to every subscriber of `channel`; False (logged) when it could not."""

    @abstractmethod
    def publish_many(self, items: Iterable[tuple[str, Payload]], *,
                     elsewhere: Iterable[tuple[str, Payload]] = ()) -> bool:
        """Publish several (channel, payload) pairs in one round trip; False when it could not.

        `elsewhere`: pairs only other processes' subscribers need (this process's already have what they
        carry), each published only when a process other than this one listens on its channel."""

    @abstractmethod
    def ping(self) -> None:
        """Return when healthy; raise (BrokerError) otherwise."""

    @abstractmethod
    def close(self) -> None:
        """Stop delivering and release connections (idempotent)."""

    def subscribe(self, channel: str, callback: MessageCallback) -> Subscription:
        """Call `callback(payload)` for every frame published to `channel` until closed."""
        if not isinstance(channel, str) or not channel:
            raise ValueError("channel must be a non-empty string")
        if not callable(callback):
            raise TypeError("callback must be callable")
        sub = Subscription(self, channel, callback)
        with self._lock:
            if self._closed:
                raise BrokerClosed("broker is closed")
            existing = self._subscribers.get(channel, ())
            self._subscribers[channel] = (*existing, sub)
            self._subscribed_locked(sub, first=not existing)
        self._subscribed(sub)
        return sub

    def on_reconnect(self, callback: ReconnectCallback) -> None:
        """Call `callback()` after a lost backend connection is back and every channel is live again.

        Frames published during the outage are gone: resync local clients from the
        database. It runs on the listener thread, so keep it quick (queue the work).
        """
        if not callable(callback):
            raise TypeError("callback must be callable")
        with self._lock:
            self._reconnect_callbacks = (*self._reconnect_callbacks, callback)

    @property
    def closed(self) -> bool:
        return self._closed

    # -- hooks for implementations ------------------------------------------------

    def _subscribed_locked(self, sub: Subscription, *, first: bool) -> None:
        """Called under the lock when `sub` was added (`first`: the channel had no subscriber)."""

    def _subscribed(self, sub: Subscription) -> None:
        """Called outside the lock after `sub` was added."""

    def _channel_emptied_locked(self, channel: str) -> None:
        """Called under the lock when the last subscriber of `channel` left."""

    # -- shared machinery ---------------------------------------------------------

    def _remove(self, sub: Subscription) -> None:
        with self._lock:
            if sub._closed:
                return
            sub._closed = True
            remaining = tuple(s for s in self._subscribers.get(sub.channel, ()) if s is not sub)
            if remaining:
                self._subscribers[sub.channel] = remaining
            elif self._subscribers.pop(sub.channel, None) is not None:
                self._channel_emptied_locked(sub.channel)

    def _close_subscriptions(self) -> bool:
        """Mark the broker and every subscription closed; False when it already was."""
        with self._lock:
            if self._closed:
                return False
            self._closed = True
            for subs in self._subscribers.values():
                for sub in subs:
                    sub._closed = True
            self._subscribers.clear()
        return True

    def _subscribers_of(self, channel: str) -> tuple[Subscription, ...]:
        with self._lock:
            return self._subscribers.get(channel, ())

    def _channels(self) -> set[str]:
        with self._lock:
            return set(self._subscribers)

    def _deliver(self, channel: str, payload: Payload) -> None:
        """Hand `payload` to each local subscriber; a failing callback is logged and skipped."""
        for sub in self._subscribers_of(channel):
            if sub._closed:
                continue
            try:
                sub.callback(payload)
            except Exception:
                log.exception("broker: subscriber callback for channel %r failed", channel)

    def _fire_reconnect(self) -> None:
        metrics.BROKER_RECONNECTS.inc()
        with self._lock:
            callbacks = self._reconnect_callbacks
        for callback in callbacks:
            try:
                callback()
            except Exception:
                log.exception("broker: on_reconnect callback failed")
