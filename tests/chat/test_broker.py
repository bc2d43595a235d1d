"""The broker contract, run against the in-process and the Redis implementation alike."""
from __future__ import annotations

import logging
import threading
import uuid

import pytest
from flask import Flask

from chat.broker import Broker, BrokerClosed, get_broker, init_app, make_broker
from chat.broker.memory import MemoryBroker
from chat.broker.redis import RedisBroker
from tests.chat.broker_support import Inbox

PAYLOADS = ["你好，还在吗？", "🎉👍🏻 emoji", '{"type":"message","cursor":7}',
            "<script>alert(1)</script>", "'; DROP TABLE messages; --", ""]


@pytest.fixture(params=["memory", "redis"])
def broker(request) -> Broker:
    if request.param == "memory":
        instance = make_broker(None)
    else:
        instance = make_broker(request.getfixturevalue("redis_url"),
                               client_name=f"test-broker-{uuid.uuid4().hex[:8]}")
    yield instance
    instance.close()


@pytest.fixture
def channel():
    """Channel names with a random prefix, so parallel runs on one Redis never collide."""
    prefix = f"test:{uuid.uuid4().hex[:10]}"
    return lambda name: f"{prefix}:{name}"


def subscribe_ready(broker: Broker, channel: str, callback) -> object:
    sub = broker.subscribe(channel, callback)
    assert sub.ready.wait(3), f"subscription to {channel} never became ready"
    return sub


def test_publish_reaches_every_subscriber_of_the_channel_and_nobody_else(broker, channel):
    first, second, other = Inbox(), Inbox(), Inbox()
    subscribe_ready(broker, channel("a"), first)
    subscribe_ready(broker, channel("a"), second)
    subscribe_ready(broker, channel("b"), other)

    assert broker.publish(channel("a"), "hello") is True
    assert first.wait_for(1) == ["hello"]
    assert second.wait_for(1) == ["hello"]
    # One connection delivers in order: once b's marker arrives, a's frame would have come first.
    assert broker.publish(channel("b"), "marker") is True
    assert other.wait_for(1) == ["marker"]
    assert first.items == ["hello"]


def test_payloads_arrive_verbatim_and_in_order(broker, channel):
    inbox = Inbox()
    subscribe_ready(broker, channel("text"), inbox)
    for payload in PAYLOADS:
        assert broker.publish(channel("text"), payload) is True
    assert inbox.wait_for(len(PAYLOADS)) == PAYLOADS


def test_publish_many_delivers_each_item_to_its_channel_in_order(broker, channel):
    a, b = Inbox(), Inbox()
    subscribe_ready(broker, channel("a"), a)
    subscribe_ready(broker, channel("b"), b)
    items = [(channel("a"), "a1"), (channel("b"), "b1"), (channel("a"), "a2"),
             (channel("nobody"), "lost"), (channel("a"), "a3")]
    assert broker.publish_many(iter(items)) is True
    assert a.wait_for(3) == ["a1", "a2", "a3"]
    assert b.wait_for(1) == ["b1"]


def test_publish_many_of_nothing_succeeds(broker):
    assert broker.publish_many([]) is True


def test_publish_to_a_channel_without_subscribers_succeeds(broker, channel):
    assert broker.publish(channel("empty"), "x") is True


def test_closed_subscription_receives_nothing_more_and_close_is_idempotent(broker, channel):
    kept, dropped = Inbox(), Inbox()
    subscribe_ready(broker, channel("a"), kept)
    sub = subscribe_ready(broker, channel("a"), dropped)
    assert broker.publish(channel("a"), "before") is True
    assert dropped.wait_for(1) == ["before"]

    sub.close()
    sub.close()
    assert sub.closed
    assert broker.publish(channel("a"), "after") is True
    assert kept.wait_for(2) == ["before", "after"]
    assert dropped.items == ["before"]


def test_closed_broker_stops_delivery_and_refuses_new_work(broker, channel):
    inbox = Inbox()
    sub = subscribe_ready(broker, channel("a"), inbox)
    broker.close()
    broker.close()

    assert sub.closed and broker.closed
    assert broker.publish(channel("a"), "late") is False
    assert broker.publish_many([(channel("a"), "late")]) is False
    with pytest.raises(BrokerClosed):
        broker.subscribe(channel("a"), inbox)
    with pytest.raises(BrokerClosed):
        broker.ping()
    sub.close()
    assert inbox.items == []


def test_failing_callback_is_logged_and_other_subscribers_still_receive(broker, channel, caplog):
    def explode(payload: str) -> None:
        raise RuntimeError(f"boom on {payload}")

    inbox = Inbox()
    subscribe_ready(broker, channel("a"), explode)
    subscribe_ready(broker, channel("a"), inbox)
    with caplog.at_level(logging.ERROR, logger="chat.broker"):
        assert broker.publish(channel("a"), "one") is True
        assert broker.publish(channel("a"), "two") is True
        assert inbox.wait_for(2) == ["one", "two"]
    failures = [r for r in caplog.records if "callback" in r.getMessage()]
    assert len(failures) == 2
    assert "boom on one" in str(failures[0].exc_info[1])


def test_ready_is_set_for_every_subscriber_and_at_once_for_a_live_channel(broker, channel):
    first = subscribe_ready(broker, channel("a"), Inbox())
    second = broker.subscribe(channel("a"), Inbox())
    assert first.ready.is_set()
    assert second.ready.is_set()  # the channel is already live: no round trip to wait for


def test_callback_may_publish_and_subscribe_without_deadlock(broker, channel):
    relayed, late = Inbox(), Inbox()
    subscribe_ready(broker, channel("relayed"), relayed)
    subscriptions = []

    def relay(payload: str) -> None:
        broker.publish(channel("relayed"), payload.upper())
        subscriptions.append(broker.subscribe(channel("late"), late))

    subscribe_ready(broker, channel("source"), relay)
    assert broker.publish(channel("source"), "ping") is True
    assert relayed.wait_for(1) == ["PING"]
    assert subscriptions and subscriptions[0].ready.wait(3)


def test_on_reconnect_is_not_called_without_an_outage(broker, channel):
    calls = []
    broker.on_reconnect(lambda: calls.append(1))
    inbox = Inbox()
    subscribe_ready(broker, channel("a"), inbox)
    assert broker.publish(channel("a"), "x") is True
    assert inbox.wait_for(1) == ["x"]
    broker.ping()
    assert calls == []


def test_concurrent_publishers_lose_nothing(broker, channel):
    inbox = Inbox()
    subscribe_ready(broker, channel("a"), inbox)

    def send(worker: int) -> None:
        for i in range(25):
            assert broker.publish(channel("a"), f"{worker}:{i}")

    threads = [threading.Thread(target=send, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    received = inbox.wait_for(100)
    assert sorted(received) == sorted(f"{w}:{i}" for w in range(4) for i in range(25))
    for w in range(4):  # each publisher's frames stay in its own order
        assert [p for p in received if p.startswith(f"{w}:")] == [f"{w}:{i}" for i in range(25)]


@pytest.mark.parametrize("bad_channel", ["", None, 42, b"bytes"])
def test_subscribe_rejects_a_channel_that_is_not_a_non_empty_string(broker, bad_channel):
    with pytest.raises(ValueError):
        broker.subscribe(bad_channel, Inbox())


def test_subscribe_rejects_a_callback_that_is_not_callable(broker, channel):
    with pytest.raises(TypeError):
        broker.subscribe(channel("a"), "not callable")
    with pytest.raises(TypeError):
        broker.on_reconnect(None)


def test_make_broker_uses_redis_only_when_a_url_is_given(redis_url):
    memory = make_broker(None)
    also_memory = make_broker("")
    remote = make_broker(redis_url)
    try:
        assert isinstance(memory, MemoryBroker) and isinstance(also_memory, MemoryBroker)
        assert isinstance(remote, RedisBroker)
        remote.ping()
    finally:
        for b in (memory, also_memory, remote):
            b.close()
    with pytest.raises(TypeError):
        make_broker(None, client_name="only-for-redis")


def test_init_app_builds_the_broker_from_config_and_replaces_a_previous_one(redis_url):
    app = Flask(__name__)
    with pytest.raises(RuntimeError):
        get_broker(app)
    app.config["REDIS_URL"] = None
    first = init_app(app)
    assert isinstance(first, MemoryBroker) and app.extensions["broker"] is first

    app.config["REDIS_URL"] = redis_url
    second = init_app(app)
    try:
        assert isinstance(second, RedisBroker) and get_broker(app) is second
        assert first.closed
        app.extensions["broker"].ping()
    finally:
        second.close()
