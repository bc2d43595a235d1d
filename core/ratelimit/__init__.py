"""Rate limits: `429 rate_limited` with Retry-After, counted in memory or, with REDIS_URL, in Redis.

Each limit is a setting `RATE_LIMIT_<NAME>` ("30/hour", "60/min burst 20", "off"); see base.py for
the algorithm. Routes use `@rate_limited("name", by=by_user)`; other callers `enforce(...)`.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from copy import deepcopy
from functools import wraps

from flask import Flask, current_app, request

from core import metrics
from core.auth import current_user
from core.errors import ApiError
from core.ratelimit.base import Check, Limit, RateLimiter, parse_limit

__all__ = ["LIMIT_NAMES", "RESPONSE_429", "Limit", "RateLimited", "RateLimiter", "by_ip", "by_user", "counted_attempt",
           "documents_429", "enforce", "give_back", "hit_attempt", "init_app", "make_limiter", "parse_limit",
           "rate_limited"]

EXTENSION_KEY = "rate_limiter"
LIMITS_KEY = "rate_limits"
LIMIT_NAMES = ("login_ip", "login_user", "register_ip", "send", "send_sustained", "inquiry", "claim", "typing",
               "read", "ws_handshake_ip", "upload")
RESPONSE_429 = {
    "description": "rate_limited: too many requests; retry after `Retry-After` seconds "
                   "(also in `details.retry_after`)",
    "headers": {"Retry-After": {"description": "seconds to wait (an integer, at least 1)",
                                "schema": {"type": "integer", "minimum": 1}}},
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}


class RateLimited(ApiError):
    status, code, message = 429, "rate_limited", "Too many requests; slow down and try again later."

    def __init__(self, limit: Limit, wait_ms: int) -> None:
        retry_after = max(1, math.ceil(wait_ms / 1000))
        metrics.RATE_LIMITED.labels(limit.name).inc()
        super().__init__(details={"retry_after": retry_after, "limit": limit.name},
                         headers={"Retry-After": str(retry_after)})


def make_limiter(redis_url: str | None) -> RateLimiter:
    """A RedisRateLimiter when `redis_url` is given, else an in-process MemoryRateLimiter."""
    if redis_url:
        from core.ratelimit.redis import RedisRateLimiter
        return RedisRateLimiter(redis_url)
    from core.ratelimit.memory import MemoryRateLimiter
    return MemoryRateLimiter()


def init_app(app: Flask) -> None:
    """Parse every RATE_LIMIT_* setting and build the limiter (only when some limit is on)."""
    limits = {name: parse_limit(name, app.config.get(f"RATE_LIMIT_{name.upper()}")) for name in LIMIT_NAMES}
    app.extensions[LIMITS_KEY] = {name: limit for name, limit in limits.items() if limit is not None}
    previous = app.extensions.pop(EXTENSION_KEY, None)
    if previous is not None:
        previous.close()
    if app.extensions[LIMITS_KEY]:
        app.extensions[EXTENSION_KEY] = make_limiter(app.config.get("REDIS_URL"))


def _checks(names: tuple[str, ...], subject: str | int) -> list[Check]:
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # one proxy lookup: every send comes here
    limits = app.extensions[LIMITS_KEY]
    on = [n for n in names if n in limits]
    if not on:
        return []
    prefix = app.config.get("RATE_LIMIT_PREFIX", "ratelimit:")
    return [(limits[n], f"{prefix}{n}:{subject}") for n in on]


def enforce(*names: str, subject: str | int) -> None:
    """Count one request against each named limit for `subject`; RateLimited (nothing counted) if any is full.

    One call to the limiter (one Redis round trip) whatever the number of limits."""
    checks = _checks(names, subject)
    if checks:
        wait_ms, refused = current_app.extensions[EXTENSION_KEY].hit(checks)
        if refused is not None:
            raise RateLimited(refused, wait_ms)


def hit_attempt(*named_subjects: tuple[str, str | int]) -> list[Check]:
    """Count an attempt now against each (limit name, subject); RateLimited (nothing counted) if any is
    full. Hand the result to `give_back` when the attempt succeeds, so only failures stay counted."""
    checks = [check for name, subject in named_subjects for check in _checks((name,), subject)]
    if checks:
        wait_ms, refused = current_app.extensions[EXTENSION_KEY].hit(checks)
        if refused is not None:
            raise RateLimited(refused, wait_ms)
    return checks


def give_back(checks: list[Check]) -> None:
    """Un-count one attempt counted by `hit_attempt` (this one only, never others')."""
    if checks:
        current_app.extensions[EXTENSION_KEY].refund(checks)


@contextmanager
def counted_attempt(*named_subjects: tuple[str, str | int]) -> Iterator[None]:
    """Count an attempt up front (parallel attempts can't slip past a check) and give it back when the
    block succeeds: only failures stay counted. Success gives back this attempt only, never others'."""
    checks = hit_attempt(*named_subjects)
    yield
    give_back(checks)


def by_user() -> int:
    """The authenticated caller (use under @auth_required)."""
    return current_user().id


def by_ip() -> str:
    """The client's address: the peer's, or what TRUSTED_PROXY_COUNT proxies in front of us reported."""
    return request.remote_addr or "unknown"


def rate_limited(*names: str, by: Callable[[], str | int]) -> Callable:
    """Decorate a view: count each call against `names` keyed by `by()`, 429 when full; documents the 429."""
    def decorate(func: Callable) -> Callable:
        @wraps(func)
        def wrapper(*args, **kwargs):
            enforce(*names, subject=by())
            return func(*args, **kwargs)
        return documents_429(wrapper)
    return decorate


def documents_429(func: Callable) -> Callable:
    """Document the 429 on a view whose service calls `enforce` itself (after its domain rules answer)."""
    # Same mechanism as flask-smorest's Blueprint.doc (and core.auth): extra OpenAPI for this view.
    func._apidoc = deepcopy(getattr(func, "_apidoc", {}))  # type: ignore[attr-defined]
    func._apidoc.setdefault("manual_doc", {}).setdefault("responses", {})["429"] = deepcopy(RESPONSE_429)  # type: ignore[attr-defined]
    return func
