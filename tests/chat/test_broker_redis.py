"""The Redis broker's own guarantees: one pub/sub connection, truthful `ready`, outages and restarts."""
from __future__ import annotations

import logging
import threading
import time
import uuid

import pytest
import redis

from chat.broker import BrokerUnavailable, make_broker
from chat.broker.redis import ENVELOPE, RedisBroker
from tests.chat.broker_support import Inbox, RedisServer, wait_until
from tests.support.databases import free_port

# Fast failure detection and reconnects, so outage tests take about a second.
FAST = dict(ping_interval=0.1, pong_timeout=0.3, socket_timeout=0.3, connect_timeout=0.3,
            backoff_base=0.05, backoff_cap=0.3)


@pytest.fixture
def prefix() -> str:
    return f"test-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def raw(redis_url):
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    client.close()


@pytest.fixture
def redis_server(tmp_path):
    """A Redis of this test's own, safe to kill, pause and restart."""
    with RedisServer(tmp_path / "redis") as server:
        yield server


@pytest.fixture
def brokers():
    """Collects brokers a test makes and closes them all afterwards."""
    made: list[RedisBroker] = []

    def build(url: str, **options) -> RedisBroker:
        made.append(make_broker(url, **options))
        return made[-1]

    yield build
    for broker in made:
        broker.close()


def pubsub_connections(client: redis.Redis, name: str) -> list[dict]:
    return [c for c in client.client_list() if c.get("name") == name]


def test_fifty_subscriptions_share_one_pubsub_connection(redis_url, raw, prefix, brokers):
    broker = brokers(redis_url, client_name=f"{prefix}-listener")
    subs = [broker.subscribe(f"{prefix}:user:{i}", Inbox()) for i in range(50)]
    subs += [broker.subscribe(f"{prefix}:user:{i}", Inbox()) for i in range(0, 50, 5)]
    assert all(s.ready.wait(3) for s in subs)
    assert broker.publish(f"{prefix}:user:7", "x") is True

    connections = pubsub_connections(raw, f"{prefix}-listener")
    assert len(connections) == 1
    # the fifty, and the broker's own channel (`RedisBroker.own_channel`)
    assert connections[0]["sub"] == "51" and "P" in connections[0]["flags"]
    assert [c["sub"] for c in pubsub_connections(raw, f"{prefix}-listener-pub")] == ["0"]


def test_ready_means_redis_already_routes_the_channel_to_us(redis_url, raw, prefix, brokers):
    broker = brokers(redis_url, client_name=f"{prefix}-listener")
    inbox = Inbox()
    sub = broker.subscribe(f"{prefix}:a", inbox)
    assert sub.ready.wait(3)
    assert raw.publish(f"{prefix}:a", "from another process") == 1
    assert inbox.wait_for(1) == ["from another process"]


def test_two_processes_brokers_both_receive_a_publish(redis_url, prefix, brokers):
    sender, receiver = brokers(redis_url), brokers(redis_url)
    here, there = Inbox(), Inbox()
    assert sender.subscribe(f"{prefix}:room", here).ready.wait(3)
    assert receiver.subscribe(f"{prefix}:room", there).ready.wait(3)
    assert sender.publish(f"{prefix}:room", "群消息") is True
    assert here.wait_for(1) == ["群消息"] and there.wait_for(1) == ["群消息"]


def test_last_subscriber_leaving_unsubscribes_and_then_drops_the_connection(
        redis_url, raw, prefix, brokers):
    name = f"{prefix}-listener"
    broker = brokers(redis_url, client_name=name)
    a1, a2 = broker.subscribe(f"{prefix}:a", Inbox()), broker.subscribe(f"{prefix}:a", Inbox())
    b = broker.subscribe(f"{prefix}:b", Inbox())
    assert all(s.ready.wait(3) for s in (a1, a2, b))

    def numsub(channel: str) -> int:
        return dict(raw.pubsub_numsub(channel))[channel]

    a1.close()
    time.sleep(0.2)
    assert numsub(f"{prefix}:a") == 1
    a2.close()
    assert wait_until(lambda: numsub(f"{prefix}:a") == 0)
    assert numsub(f"{prefix}:b") == 1
    b.close()
    assert wait_until(lambda: pubsub_connections(raw, name) == [])


def test_ready_stays_truthful_while_subscribers_come_and_go(redis_url, raw, prefix, brokers):
    broker = brokers(redis_url)
    channels = [f"{prefix}:churn:{i}" for i in range(3)]
    errors: list[str] = []

    def churn(worker: int) -> None:
        for i in range(12):
            inbox = Inbox()
            sub = broker.subscribe(channels[(worker + i) % 3], inbox)
            if not sub.ready.wait(3):
                errors.append(f"{sub} never ready")
            marker = f"{worker}-{i}"
            raw.publish(sub.channel, marker)
            if not inbox.wait_for_item(marker, 3):
                errors.append(f"{sub} was ready but missed {marker}")
            sub.close()

    threads = [threading.Thread(target=churn, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert wait_until(lambda: all(n == 0 for _, n in raw.pubsub_numsub(*channels)))


def test_publish_while_redis_is_down_returns_false_without_raising(prefix, brokers, caplog):
    broker = brokers(f"redis://127.0.0.1:{free_port()}/0", **FAST)
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="chat.broker"):
        assert broker.publish(f"{prefix}:a", "lost") is False
        assert broker.publish_many([(f"{prefix}:a", "lost"), (f"{prefix}:b", "lost")]) is False
    assert time.monotonic() - started < 2
    assert any("publish to Redis failed" in r.getMessage() for r in caplog.records)
    with pytest.raises(BrokerUnavailable):
        broker.ping()
    sub = broker.subscribe(f"{prefix}:a", Inbox())  # subscribing never raises for an outage
    assert not sub.ready.wait(0.3)


def test_listener_reconnects_after_a_redis_restart_and_fires_on_reconnect(
        redis_server, prefix, brokers):
    broker = brokers(redis_server.url, **FAST)
    reconnected = threading.Event()
    broker.on_reconnect(reconnected.set)
    before = Inbox()
    assert broker.subscribe(f"{prefix}:a", before).ready.wait(3)

    redis_server.kill()
    # The publish that meets the outage may still reach a's subscriber here (a is live until the listener
    # notices); the ones after it reach nobody, whatever the listener knows yet.
    assert broker.publish(f"{prefix}:a", "meets the outage") is False
    assert broker.publish(f"{prefix}:a", "during the outage") is False
    assert wait_until(lambda: _unavailable(broker), 3)
    during = Inbox()
    joined_in_outage = broker.subscribe(f"{prefix}:b", during)
    assert not joined_in_outage.ready.is_set()
    redis_server.start()

    assert reconnected.wait(5), "on_reconnect was not called after Redis came back"
    assert joined_in_outage.ready.wait(3)
    broker.ping()
    assert broker.publish(f"{prefix}:a", "after") is True
    assert broker.publish(f"{prefix}:b", "after too") is True
    assert before.wait_for_item("after")
    assert [m for m in before.items if m != "meets the outage"] == ["after"]
    assert during.wait_for(1) == ["after too"]


def test_after_a_publish_redis_refused_nothing_is_delivered_here_until_it_takes_one(redis_server, prefix, brokers):
    # The listener pings rarely here, so channel a stays live in this process all through the freeze.
    broker = brokers(redis_server.url, **{**FAST, "ping_interval": 30.0, "pong_timeout": 30.0})
    inbox = Inbox()
    assert broker.subscribe(f"{prefix}:a", inbox).ready.wait(3)

    redis_server.pause()
    try:
        assert broker.publish(f"{prefix}:a", "meets the freeze") is False  # delivered here before Redis answered
        assert broker.publish(f"{prefix}:a", "frozen") is False
        assert not broker._listener.recovering
    finally:
        redis_server.resume()
    assert broker.publish(f"{prefix}:a", "back") is True
    assert inbox.wait_for_item("back")
    time.sleep(0.3)  # what Redis still ran of the frozen publishes reaches the listener, which drops its own
    assert inbox.items == ["meets the freeze", "back"]


def test_on_reconnect_fires_once_per_outage_and_a_failing_callback_does_not_stop_others(
        redis_server, prefix, brokers):
    broker = brokers(redis_server.url, **FAST)
    calls: list[str] = []
    broker.on_reconnect(lambda: 1 / 0)
    broker.on_reconnect(lambda: calls.append("resync"))
    assert broker.subscribe(f"{prefix}:a", Inbox()).ready.wait(3)

    for outage in (1, 2):
        redis_server.kill()
        time.sleep(0.2)  # several failed attempts with backoff
        redis_server.start()
        assert wait_until(lambda: len(calls) == outage, 5)
    time.sleep(0.3)
    assert calls == ["resync", "resync"]


def test_a_silently_dead_connection_is_noticed_and_replaced(redis_server, prefix, brokers):
    broker = brokers(redis_server.url, **FAST)
    reconnected = threading.Event()
    broker.on_reconnect(reconnected.set)
    inbox = Inbox()
    assert broker.subscribe(f"{prefix}:a", inbox).ready.wait(3)

    redis_server.pause()  # the TCP connection stays open; nothing answers
    try:
        assert wait_until(lambda: _unavailable(broker), 3)
    finally:
        redis_server.resume()
    assert reconnected.wait(5), "a frozen Redis went unnoticed: no reconnect"
    assert broker.publish(f"{prefix}:a", "alive again") is True
    assert inbox.wait_for(1) == ["alive again"]


def _unavailable(broker: RedisBroker) -> bool:
    try:
        broker.ping()
    except BrokerUnavailable:
        return True
    return False


# -- `publish_many(..., elsewhere=...)`: payloads only other processes' subscribers need ------------------

@pytest.fixture
def observed(redis_url, prefix):
    """Every publish on this test's channels, as (channel, payload), in Redis's order: a pattern subscription
    sees them all without counting among a channel's subscribers (PUBSUB NUMSUB counts channel ones only)."""
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    seen: list[tuple[str, str]] = []
    pubsub.psubscribe(**{f"{prefix}:*": lambda m: seen.append((m["channel"], m["data"]))})
    worker = pubsub.run_in_thread(sleep_time=0.01, daemon=True)
    yield seen
    worker.stop()
    worker.join(2)
    pubsub.close()
    client.close()


def _published(broker: RedisBroker, observed: list, channel: str, items=(), elsewhere=()) -> list:
    """What Redis published for one publish_many: every observed payload up to a marker published after it,
    straight to Redis on a channel nobody listens on (Redis's order is one across channels)."""
    marker = (f"{channel}:marker", f"marker-{uuid.uuid4().hex}")
    assert broker.publish_many(items, elsewhere=elsewhere) is True
    broker._publisher.publish(*marker)
    assert wait_until(lambda: marker in observed, 3)
    got = observed[:observed.index(marker)]
    del observed[:observed.index(marker) + 1]
    return got


def _for_others(broker: RedisBroker, text: str) -> str:
    """The text as a broker publishes it for other processes only: marked with its origin."""
    return f"{ENVELOPE}{broker.origin}\n{text}"


class Payload:
    """A published object whose text is what Redis carries: this process's subscribers get the object itself."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __str__(self) -> str:
        return self.text


def test_a_channel_live_here_gets_its_payload_here_and_over_redis_only_for_other_processes(
        redis_url, prefix, brokers, observed):
    here, there = brokers(redis_url), brokers(redis_url)
    channel = f"{prefix}:user:1"
    inbox_here, inbox_there = Inbox(), Inbox()
    assert here.subscribe(channel, inbox_here).ready.wait(3)
    first = Payload("for 1")
    assert _published(here, observed, channel, items=[(channel, first)]) == []  # no round trip through Redis
    assert inbox_here.items == [first]  # the object itself, delivered before publish_many returned
    assert there.subscribe(channel, inbox_there).ready.wait(3)
    second = Payload("for 1 again")
    assert _published(here, observed, channel, items=[(channel, second)]) == [
        (channel, _for_others(here, "for 1 again"))]
    assert inbox_here.items == [first, second]  # not again when Redis brings this process's own publish back
    assert inbox_there.wait_for(1) == ["for 1 again"]  # the other process gets its text
    assert here.publish(channel, "one") is True  # a single publish alike
    assert inbox_here.items[-1] == "one" and inbox_there.wait_for(2)[-1] == "one"


def test_an_elsewhere_payload_is_published_only_when_another_process_listens(redis_url, prefix, brokers, observed):
    here, there = brokers(redis_url), brokers(redis_url)
    channel, other = f"{prefix}:user:1", f"{prefix}:user:2"
    inbox_here, inbox_there = Inbox(), Inbox()
    assert here.subscribe(channel, inbox_here).ready.wait(3)

    # only this process listens: the plain pair goes, the elsewhere one does not
    assert _published(here, observed, channel, items=[(other, "for 2")], elsewhere=[(channel, "own copy 1")]) == [
        (other, "for 2")]
    # another process listens too: it goes (to both: this one's subscribers already have what it carries)
    assert there.subscribe(channel, inbox_there).ready.wait(3)
    assert _published(here, observed, channel, elsewhere=[(channel, "own copy 2")]) == [
        (channel, _for_others(here, "own copy 2"))]
    assert "own copy 2" in inbox_there.wait_for(1)
    # the other process left: not published again
    for sub in there._subscribers_of(channel):
        sub.close()
    assert wait_until(lambda: dict(here._publisher.pubsub_numsub(channel))[channel] == 1)
    assert _published(here, observed, channel, elsewhere=[(channel, "own copy 3")]) == []
    assert not {"own copy 1", "own copy 2"} & set(inbox_here.items) and "own copy 3" not in inbox_there.items


def test_an_elsewhere_payload_on_a_channel_not_live_here_is_published(redis_url, prefix, brokers, observed):
    """Redis's count of a channel's subscribers cannot tell ours from another process's unless ours is live."""
    here, there = brokers(redis_url), brokers(redis_url)
    channel = f"{prefix}:user:1"
    assert here.subscribe(f"{prefix}:user:9", Inbox()).ready.wait(3)  # listening, but not on `channel`
    inbox = Inbox()
    assert there.subscribe(channel, inbox).ready.wait(3)
    assert _published(here, observed, channel, elsewhere=[(channel, "copy")]) == [(channel, "copy")]
    assert inbox.wait_for(1)[0] == "copy"


def test_a_dead_listener_connection_counts_for_nothing(redis_url, raw, prefix, brokers, observed, monkeypatch):
    """Killed in Redis and not yet noticed here: the channel still reads live here, but Redis no longer counts us,
    so another process's subscriber is the one counted and gets the payload."""
    here = brokers(redis_url, client_name=f"{prefix}-here")
    there = brokers(redis_url)
    channel = f"{prefix}:user:1"
    assert here.subscribe(channel, Inbox()).ready.wait(3)
    inbox = Inbox()
    assert there.subscribe(channel, inbox).ready.wait(3)
    # the listener stops reading, so it cannot notice the kill: what it last knew stays (the channel live)
    monkeypatch.setattr(here._listener, "_step", lambda: time.sleep(0.05))
    time.sleep(0.2)
    [listener] = pubsub_connections(raw, f"{prefix}-here")
    raw.client_kill_filter(_id=listener["id"])
    assert wait_until(lambda: pubsub_connections(raw, f"{prefix}-here") == [])
    assert channel in here._listener._live
    assert _published(here, observed, channel, elsewhere=[(channel, "copy")]) == [(channel, _for_others(here, "copy"))]
    assert inbox.wait_for(1)[0] == "copy"


def test_a_channel_stays_subscribed_while_a_publish_counts_on_it(redis_url, raw, prefix, brokers):
    broker = brokers(redis_url)
    channel = f"{prefix}:user:1"
    sub = broker.subscribe(channel, Inbox())
    assert sub.ready.wait(3)

    def numsub() -> int:
        return dict(raw.pubsub_numsub(channel))[channel]

    with broker._listener.held([channel]) as live:
        assert channel in live
        sub.close()
        time.sleep(0.3)  # several of the listener's turns
        assert numsub() == 1
    assert wait_until(lambda: numsub() == 0)
