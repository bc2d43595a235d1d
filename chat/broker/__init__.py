"""The chat broker: fan-out of live frames, in-process or over Redis pub/sub, behind one interface.

Usage (the WebSocket layer): subscribe a user channel first, wait on
`subscription.ready` (bounded), replay from the database, then drain live
frames; register `broker.on_reconnect(resync_all)` once per process. Services
publish only after commit and ignore a False from `publish` (clients resync).
"""
from __future__ import annotations

from flask import Flask

from chat.broker.base import (
    Broker,
    BrokerClosed,
    BrokerError,
    BrokerUnavailable,
    MessageCallback,
    ReconnectCallback,
    Subscription,
)

__all__ = ["Broker", "BrokerClosed", "BrokerError", "BrokerUnavailable", "MessageCallback",
           "ReconnectCallback", "Subscription", "get_broker", "init_app", "make_broker"]


def make_broker(redis_url: str | None, **options) -> Broker:
    """A RedisBroker when `redis_url` is given (options go to it), else an in-process MemoryBroker."""
    if redis_url:
        from chat.broker.redis import RedisBroker
        return RedisBroker(redis_url, **options)
    if options:
        raise TypeError(f"the in-process broker takes no options: {sorted(options)}")
    from chat.broker.memory import MemoryBroker
    return MemoryBroker()


def init_app(app: Flask) -> Broker:
    """Build the broker from REDIS_URL into `app.extensions["broker"]` (closing any previous one)."""
    previous = app.extensions.get("broker")
    if previous is not None:
        previous.close()
    broker = make_broker(app.config.get("REDIS_URL"))
    app.extensions["broker"] = broker
    return broker


def get_broker(app: Flask) -> Broker:
    """The app's broker (init_app must have run)."""
    try:
        return app.extensions["broker"]
    except KeyError:
        raise RuntimeError("chat.broker.init_app(app) has not been called") from None
