"""The rate limiters themselves: GCRA arithmetic, limit specs, and both backends (memory, real Redis)."""
from __future__ import annotations

import uuid

import pytest

from core.ratelimit import make_limiter, parse_limit
from core.ratelimit.base import Limit, gcra
from core.ratelimit.redis import RedisRateLimiter
from tests.support.databases import free_port

HOUR = 3600 * 1000


@pytest.mark.parametrize("spec, expected", [
    ("30/hour", Limit("x", 30, 3600, 30)),
    ("60/min burst 20", Limit("x", 60, 60, 20)),
    ("5/10s", Limit("x", 5, 10, 5)),
    ("1/second", Limit("x", 1, 1, 1)),
    ("100 / 2 hours burst 7", Limit("x", 100, 7200, 7)),
    ("1000/day", Limit("x", 1000, 86400, 1000)),
])
def test_limit_specs_read_count_period_and_burst(spec, expected):
    assert parse_limit("x", spec) == expected


@pytest.mark.parametrize("spec", ["off", "", "0", None, "OFF"])
def test_off_disables_a_limit(spec):
    assert parse_limit("x", spec) is None


@pytest.mark.parametrize("spec", ["lots", "30", "30/fortnight", "0/hour", "-1/hour", "30/hour burst",
                                  "a/b", "5/100ms", "5/hour burst 0", "5/hour burst 00", "5/0s"])
def test_a_malformed_limit_spec_is_refused(spec):
    with pytest.raises(ValueError, match="x"):
        parse_limit("x", spec)


def test_gcra_allows_the_burst_at_once_then_one_per_interval():
    limit = Limit("x", 6, 60, 3)  # 3 at once, then one every 10 s
    tat, now = None, 1_000_000
    for _ in range(3):
        tat, wait = gcra(tat, now, limit)
        assert wait == 0
    _, wait = gcra(tat, now, limit)
    assert wait == 10_000  # refused: the 4th fits 10 s later
    assert gcra(tat, now + 10_000, limit)[1] == 0
    assert gcra(tat, now + 9_999, limit)[1] == 1
    assert gcra(tat, now + 10 * 60_000, limit)[0] == now + 10 * 60_000 + 10_000  # drained: starts afresh


@pytest.fixture(params=["memory", "redis"])
def limiter(request):
    url = request.getfixturevalue("redis_url") if request.param == "redis" else None
    limiter = make_limiter(url)
    yield limiter
    limiter.close()


def _key() -> str:
    return f"test-rl:{uuid.uuid4().hex}"


def test_a_limiter_refuses_beyond_the_burst_with_the_wait(limiter):
    limit, key = Limit("send", 10, 3600, 2), _key()
    assert limiter.hit([(limit, key)]) == (0, None)
    assert limiter.hit([(limit, key)]) == (0, None)
    wait, refused = limiter.hit([(limit, key)])
    assert refused == limit and 0 < wait <= limit.interval_ms
    assert limiter.hit([(limit, _key())]) == (0, None)  # another key has its own count


def test_several_checks_are_taken_all_or_none(limiter):
    roomy, tight = Limit("roomy", 100, 3600, 100), Limit("tight", 1, 3600, 1)
    a, b = _key(), _key()
    assert limiter.hit([(tight, b)]) == (0, None)
    wait, refused = limiter.hit([(roomy, a), (tight, b)])
    assert refused == tight and wait > 0
    for _ in range(100):  # the refused hit took nothing from `roomy`
        assert limiter.hit([(roomy, a)]) == (0, None)
    assert limiter.hit([(roomy, a)])[1] == roomy


def test_a_refund_gives_back_one_request_only(limiter):
    limit, key = Limit("login_user", 3, 3600, 3), _key()
    for _ in range(3):
        assert limiter.hit([(limit, key)]) == (0, None)
    limiter.refund([(limit, key)])
    assert limiter.hit([(limit, key)]) == (0, None)
    assert limiter.hit([(limit, key)])[1] == limit
    limiter.refund([(limit, _key())])  # a key never hit: nothing to give back, nothing breaks


def test_redis_state_expires_once_drained(redis_url):
    import redis
    limiter, key = RedisRateLimiter(redis_url), _key()
    try:
        limiter.hit([(Limit("x", 10, 3600, 10), key)])
        ttl = redis.Redis.from_url(redis_url).pttl(key)
        assert 0 < ttl <= HOUR / 10
    finally:
        limiter.close()


def test_an_unreachable_redis_lets_requests_through():
    limiter = RedisRateLimiter(f"redis://127.0.0.1:{free_port()}/0", socket_timeout=0.2)
    try:
        limit = Limit("x", 1, 3600, 1)
        assert limiter.hit([(limit, "k"), (limit, "k2")]) == (0, None)
        limiter.refund([(limit, "k")])
    finally:
        limiter.close()


def test_a_hit_on_several_limits_is_one_redis_command(tmp_path):
    import redis

    from tests.chat.broker_support import RedisServer
    with RedisServer(tmp_path / "redis") as server:
        limiter, probe = RedisRateLimiter(server.url), redis.Redis.from_url(server.url)
        try:
            checks = [(Limit("send", 60, 60, 20), "send:1"), (Limit("send_sustained", 1200, 3600, 1200), "sus:1")]
            limiter.hit(checks)  # loads the script
            probe.config_resetstat()
            limiter.hit(checks)
            calls = {name: s["calls"] for name, s in probe.info("commandstats").items() if name != "cmdstat_config"}
            # one EVALSHA from the client; TIME, GET and SET run inside the script, on the server
            assert calls == {"cmdstat_evalsha": 1, "cmdstat_time": 1, "cmdstat_get": 2, "cmdstat_set": 2}
        finally:
            limiter.close()
            probe.close()
