"""Redis rate limiter: GCRA in one Lua script per check, so every process shares the same counts.

One EVALSHA per `hit` (all the checks of a request at once, atomically); the clock is
Redis's own TIME, so processes on machines whose clocks disagree still agree. Each key
expires when its state has drained. When Redis does not answer, requests are let
through (logged): limits protect the service, they must not take it down with Redis.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from core.ratelimit.base import Check, Limit, RateLimiter

log = logging.getLogger(__name__)

# KEYS: one per check; ARGV: interval_ms and burst of each, in order. Returns {wait_ms, index}.
HIT = """
redis.replicate_commands()
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local tats, wait, which = {}, 0, 0
for i, key in ipairs(KEYS) do
  local interval, burst = tonumber(ARGV[2 * i - 1]), tonumber(ARGV[2 * i])
  local tat = math.max(tonumber(redis.call('GET', key) or 0), now) + interval
  tats[i] = tat
  local limit_wait = tat - burst * interval - now
  if limit_wait > wait then wait, which = limit_wait, i end
end
if which == 0 then
  for i, key in ipairs(KEYS) do redis.call('SET', key, tats[i], 'PX', tats[i] - now) end
end
return {wait, which}
"""

REFUND = """
redis.replicate_commands()
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for i, key in ipairs(KEYS) do
  local tat = tonumber(redis.call('GET', key) or 0) - tonumber(ARGV[i])
  if tat > now then redis.call('SET', key, tat, 'PX', tat - now) else redis.call('DEL', key) end
end
return 0
"""


class RedisRateLimiter(RateLimiter):
    """Limits shared by every process using the same Redis and key prefix."""

    def __init__(self, url: str, *, socket_timeout: float = 0.5) -> None:
        self._client = redis.Redis.from_url(url, socket_timeout=socket_timeout,
                                            socket_connect_timeout=socket_timeout,
                                            retry=Retry(NoBackoff(), 1))
        self._hit = self._client.register_script(HIT)
        self._refund = self._client.register_script(REFUND)

    def hit(self, checks: Sequence[Check]) -> tuple[int, Limit | None]:
        args = [n for limit, _ in checks for n in (limit.interval_ms, limit.burst)]
        try:
            wait, which = self._hit(keys=[key for _, key in checks], args=args)
        except (redis.RedisError, OSError):
            log.warning("rate limiter: Redis does not answer; letting the request through", exc_info=True)
            return 0, None
        return (int(wait), checks[int(which) - 1][0]) if which else (0, None)

    def refund(self, checks: Sequence[Check]) -> None:
        try:
            self._refund(keys=[key for _, key in checks], args=[limit.interval_ms for limit, _ in checks])
        except (redis.RedisError, OSError):
            log.warning("rate limiter: Redis does not answer; refund dropped", exc_info=True)

    def close(self) -> None:
        self._client.close()
