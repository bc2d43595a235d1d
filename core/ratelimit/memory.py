"""In-process rate limiter: the GCRA state of every key in a dict (one process's view only)."""
from __future__ import annotations

import threading
import time
from collections.abc import Sequence

from core.ratelimit.base import Check, Limit, RateLimiter, gcra

PRUNE_EVERY = 1024  # hits between sweeps of keys whose state has fully drained


def _now_ms() -> int:
    return time.monotonic_ns() // 1_000_000


class MemoryRateLimiter(RateLimiter):
    """For one process (development, tests, a single worker); use Redis to share limits between processes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tats: dict[str, int] = {}
        self._hits = 0

    def hit(self, checks: Sequence[Check]) -> tuple[int, Limit | None]:
        with self._lock:
            now = _now_ms()
            self._prune(now)
            taken, wait, refused = [], 0, None
            for limit, key in checks:
                new_tat, limit_wait = gcra(self._tats.get(key), now, limit)
                taken.append((key, new_tat))
                if limit_wait > wait:
                    wait, refused = limit_wait, limit
            if refused is None:
                self._tats.update(taken)
            return wait, refused

    def refund(self, checks: Sequence[Check]) -> None:
        with self._lock:
            now = _now_ms()
            for limit, key in checks:
                tat = self._tats.get(key)
                if tat is not None:
                    self._tats[key] = max(tat - limit.interval_ms, now)

    def _prune(self, now: int) -> None:
        self._hits += 1
        if self._hits % PRUNE_EVERY == 0:
            self._tats = {k: tat for k, tat in self._tats.items() if tat > now}
