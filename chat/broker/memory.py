"""In-process broker: one process, synchronous delivery (development and tests without Redis)."""
from __future__ import annotations

import logging
from typing import Iterable

from chat.broker.base import Broker, BrokerClosed, Payload, Subscription

log = logging.getLogger(__name__)


class MemoryBroker(Broker):
    """Delivers on the publisher's thread to this process's subscribers; never loses a connection."""

    def publish(self, channel: str, payload: Payload) -> bool:
        if self._closed:
            log.warning("broker: publish to %r after close dropped", channel)
            return False
        self._deliver(channel, payload)
        return True

    def publish_many(self, items: Iterable[tuple[str, Payload]], *,
                     elsewhere: Iterable[tuple[str, Payload]] = ()) -> bool:
        # `elsewhere` is dropped: there is no other process
        if self._closed:
            log.warning("broker: publish_many after close dropped")
            return False
        for channel, payload in items:
            self._deliver(channel, payload)
        return True

    def ping(self) -> None:
        if self._closed:
            raise BrokerClosed("broker is closed")

    def close(self) -> None:
        self._close_subscriptions()

    def _subscribed_locked(self, sub: Subscription, *, first: bool) -> None:
        sub.ready.set()
