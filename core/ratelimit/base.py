"""The rate limiter interface and the GCRA arithmetic both backends share.

GCRA (the generic cell rate algorithm, a token bucket kept as one number): each
(limit, key) stores a theoretical arrival time `tat`. A request at `now` is allowed
when `max(tat, now) + interval - burst * interval <= now`, and then moves `tat`
forward by one `interval` (= period / count). So `burst` requests may come at once,
after which one more is allowed every `interval`: the burst and the sustained rate
in one key, exact Retry-After, no edge effects of fixed windows, O(1) state.
"""
from __future__ import annotations

import math
import re
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

UNITS_S = {"s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1, "m": 60, "min": 60, "mins": 60,
           "minute": 60, "minutes": 60, "h": 3600, "hour": 3600, "hours": 3600, "d": 86400, "day": 86400,
           "days": 86400}
SPEC_RE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([a-z]+)\s*(?:burst\s+(\d+))?\s*$")


@dataclass(frozen=True)
class Limit:
    """`count` requests per `period_s` sustained, of which `burst` may come at once."""

    name: str
    count: int
    period_s: int
    burst: int

    @property
    def interval_ms(self) -> int:
        return max(1, math.ceil(self.period_s * 1000 / self.count))


def parse_limit(name: str, spec: str | None) -> Limit | None:
    """Read "30/hour", "60/min burst 20" or "5/10s"; None for "off", "" or None (the limit is disabled)."""
    if spec is None or spec.strip().lower() in ("", "off", "0", "none"):
        return None
    match = SPEC_RE.match(spec.lower())
    if match and match.group(3) in UNITS_S:
        count, multiple, unit, burst = match.groups()
        limit = Limit(name=name, count=int(count), period_s=int(multiple or 1) * UNITS_S[unit],
                      burst=int(burst) if burst else int(count))
        if min(limit.count, limit.period_s, limit.burst) >= 1:
            return limit
    raise ValueError(f"rate limit {name}: {spec!r} is not like '30/hour' or '60/min burst 20'")


Check = tuple[Limit, str]  # a limit and the key it counts (e.g. "send:42")


class RateLimiter(ABC):
    """Counts requests against limits; `hit` is atomic over all the checks it is given."""

    @abstractmethod
    def hit(self, checks: Sequence[Check]) -> tuple[int, Limit | None]:
        """Take one request from every check if each has room, else from none.

        Returns (0, None) when allowed, or (ms to wait, the limit that refused)."""

    @abstractmethod
    def refund(self, checks: Sequence[Check]) -> None:
        """Give back one request taken by `hit` (a login that succeeded is not a failed attempt)."""

    def close(self) -> None:
        """Release connections (nothing to do in memory)."""


def gcra(tat: int | None, now: int, limit: Limit) -> tuple[int, int]:
    """(the new tat if this request is taken, ms to wait before it may be: 0 = now)."""
    new_tat = max(tat or 0, now) + limit.interval_ms
    return new_tat, max(0, new_tat - limit.burst * limit.interval_ms - now)
