"""Redis broker: publishes through a small connection pool, listens on ONE pub/sub connection; this process's own
subscribers get what it publishes without Redis."""
from __future__ import annotations

import logging
import os
import secrets
import socket
from typing import Iterable

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from chat.broker.base import (
    Broker,
    BrokerClosed,
    BrokerUnavailable,
    MessageCallback,
    Payload,
    Subscription,
)
from chat.broker.listener import PubSubListener

log = logging.getLogger(__name__)

# `publish_many`'s pairs when some channel is live here, in one script: PUBSUB NUMSUB and PUBLISH at the same
# instant. ARGV: this broker's own channel, the number of plain pairs, the plain pairs, then the pairs for other
# processes only (their channels live here).
# `ours` is 1 while this broker's pub/sub connection is alive in Redis (it alone holds the own channel, beside
# every channel it listens on), 0 otherwise: a channel with more subscribers than that has another process's.
PUBLISH_ELSEWHERE = """
local ours = redis.call('PUBSUB', 'NUMSUB', ARGV[1])[2]
local plain_end = 2 + 2 * tonumber(ARGV[2])
for i = 3, plain_end, 2 do redis.call('PUBLISH', ARGV[i], ARGV[i + 1]) end
for i = plain_end + 1, #ARGV, 2 do
  if redis.call('PUBSUB', 'NUMSUB', ARGV[i])[2] > ours then redis.call('PUBLISH', ARGV[i], ARGV[i + 1]) end
end
return 0
"""


#: Marks a text published for other processes only (PUBLISH_ELSEWHERE): `ENVELOPE <origin> \n <text>`. Redis
#: delivers it to this process's own listener as well; the listener drops what carries its own origin.
ENVELOPE = "\x1e"


def _texts(items: Iterable[tuple[str, Payload]]) -> list[tuple[str, str]]:
    """(channel, payload) pairs as Redis carries them: each payload's text."""
    return [(channel, str(payload)) for channel, payload in items]


def default_client_name() -> str:
    """Names this process's connections in CLIENT LIST (no spaces allowed)."""
    return f"paipai-broker-{socket.gethostname()}-{os.getpid()}"


class RedisBroker(Broker):
    """Broker for several processes sharing one Redis.

    `publish` never raises for Redis trouble: it logs and returns False (the
    message is committed in the database; clients resync). Only the publish that
    meets an outage may still reach this process's own subscribers; after it,
    this process's publishes reach nobody until Redis takes one again. The listener thread
    holds one pub/sub connection named `client_name` for all local subscribers,
    notices a dead connection within ping_interval + pong_timeout, reconnects
    with exponential backoff and then fires the on_reconnect callbacks.
    """

    def __init__(self, url: str, *, client_name: str | None = None,
                 socket_timeout: float = 2.0, connect_timeout: float = 1.0,
                 poll_interval: float = 0.05, ping_interval: float = 1.0, pong_timeout: float = 2.0,
                 backoff_base: float = 0.1, backoff_cap: float = 5.0) -> None:
        super().__init__()
        self.client_name = client_name or default_client_name()
        # RESP2: redis-py 8 mangles PING replies on a RESP3 pub/sub connection.
        common = dict(decode_responses=True, protocol=2, socket_timeout=socket_timeout,
                      socket_connect_timeout=connect_timeout, socket_keepalive=True,
                      health_check_interval=0)
        # One quick retry covers a pooled connection that went stale when Redis restarted.
        self._publisher = redis.Redis.from_url(url, client_name=f"{self.client_name}-pub",
                                               retry=Retry(NoBackoff(), 1), **common)
        # No retries inside redis-py: the listener handles every failure itself.
        self._listen_client = redis.Redis.from_url(url, client_name=self.client_name,
                                                   retry=Retry(NoBackoff(), 0), **common)
        # Subscribed by this broker's pub/sub connection alone, whenever it listens at all (PUBLISH_ELSEWHERE)
        self.origin = secrets.token_hex(6)
        self.own_channel = f"paipai:listener:{self.client_name}:{self.origin}"
        self._publish_elsewhere = self._publisher.register_script(PUBLISH_ELSEWHERE)
        self._listener = PubSubListener(
            self, self._listen_client, self._publisher, own_channel=self.own_channel, poll_interval=poll_interval,
            ping_interval=ping_interval, pong_timeout=pong_timeout,
            backoff_base=backoff_base, backoff_cap=backoff_cap)
        self._publish_failing = False

    def publish(self, channel: str, payload: Payload) -> bool:
        return self.publish_many([(channel, payload)])

    def publish_many(self, items: Iterable[tuple[str, Payload]], *,
                     elsewhere: Iterable[tuple[str, Payload]] = ()) -> bool:
        """This process's subscribers of a channel get its payload here, as published (the in-process broker's
        way: no round trip through Redis, nothing to parse); Redis carries it only to channels other
        processes listen on (PUBLISH_ELSEWHERE)."""
        items, elsewhere = list(items), list(elsewhere)
        if self._closed:
            log.warning("broker: publish_many of %d frame(s) after close dropped", len(items) + len(elsewhere))
            return False
        if not items and not elsewhere:
            return True
        pairs = [*items, *elsewhere]
        try:
            with self._listener.held(channel for channel, _ in pairs) as live:
                if self._publish_failing:  # Redis refused the last publish: nothing is delivered until it takes one
                    self._publish(live, pairs)
                    self._deliver_live(live, items)
                else:  # this process's subscribers need not wait for Redis's answer
                    self._deliver_live(live, items)
                    self._publish(live, pairs)
        except (redis.RedisError, OSError) as exc:
            self._publish_failed(exc)
            return False
        self._publish_succeeded()
        return True

    def _deliver_live(self, live: frozenset[str], items: list[tuple[str, Payload]]) -> None:
        for channel, payload in items:
            if channel in live:
                self._deliver(channel, payload)

    def _publish(self, live: frozenset[str], pairs: list[tuple[str, Payload]]) -> None:
        """Each pair's text to Redis: plainly where this process does not listen (Redis's count of a channel's
        subscribers could not tell ours from another process's), elsewhere only where it does. While the script
        runs, the listener keeps every channel it holds (`held`), so the count includes ours."""
        plain = _texts((channel, payload) for channel, payload in pairs if channel not in live)
        mark = f"{ENVELOPE}{self.origin}\n"
        only_elsewhere = [(channel, mark + text) for channel, text in _texts(
            (channel, payload) for channel, payload in pairs if channel in live)]
        if not only_elsewhere:
            with self._publisher.pipeline(transaction=False) as pipe:
                for channel, text in plain:
                    pipe.publish(channel, text)
                pipe.execute()
            return
        args: list[str | int] = [self.own_channel, len(plain)]
        for channel, text in plain + only_elsewhere:
            args += [channel, text]
        self._publish_elsewhere(args=args)

    def _received(self, channel: str, text: str) -> None:
        """A message the listener read: to this process's subscribers, unless this process published it for
        others only (its subscribers had it when it was published)."""
        if text[:1] == ENVELOPE:
            origin, _, text = text[1:].partition("\n")
            if origin == self.origin:
                return
        self._deliver(channel, text)

    def subscribe(self, channel: str, callback: MessageCallback) -> Subscription:
        self._listener.ensure_running()
        return super().subscribe(channel, callback)

    def ping(self) -> None:
        """Raise BrokerUnavailable when Redis does not answer or the listener is reconnecting."""
        if self._closed:
            raise BrokerClosed("broker is closed")
        try:
            self._publisher.ping()
        except (redis.RedisError, OSError) as exc:
            raise BrokerUnavailable(f"Redis does not answer: {exc}") from exc
        if self._listener.recovering:
            raise BrokerUnavailable("Redis pub/sub listener is reconnecting")

    def close(self, timeout: float = 2.0) -> None:
        """Stop the listener thread (waiting up to `timeout` s) and close every connection."""
        if not self._close_subscriptions():
            return
        self._listener.stop(timeout)
        for client in (self._publisher, self._listen_client):
            try:
                client.close()
            except Exception:  # closing is best effort
                log.debug("broker: closing a Redis client failed", exc_info=True)

    def _subscribed_locked(self, sub: Subscription, *, first: bool) -> None:
        self._listener.channel_wanted_locked(sub)

    def _subscribed(self, sub: Subscription) -> None:
        if not sub.ready.is_set():
            self._listener.wake()

    def _channel_emptied_locked(self, channel: str) -> None:
        self._listener.channel_unwanted_locked(channel)

    def _publish_failed(self, exc: BaseException) -> None:
        if not self._publish_failing:  # one warning per outage, not one per message
            self._publish_failing = True
            log.warning("broker: publish to Redis failed (%s); clients will resync", exc)
        else:
            log.debug("broker: publish to Redis failed (%s)", exc)

    def _publish_succeeded(self) -> None:
        if self._publish_failing:
            self._publish_failing = False
            log.info("broker: publishing to Redis again")
