"""Typing and read frames without a database query per frame: a process-wide cache of who is in each
group, typing coalesced per user and group, and per-user rate limits.

A flood of `typing` frames costs dictionary lookups: the first frame about a group reads its kind
and members once (then they stay cached), each user's typing in a group is relayed at most once
per `WS_TYPING_INTERVAL_S`, and what is relayed counts against `RATE_LIMIT_TYPING` (over it,
typing is dropped without a word: it is only a hint). A `read` that moves nothing (the socket
already sent that far) is answered from memory; the others count against `RATE_LIMIT_READ`
(over it, an `error` frame `rate_limited`) before they touch the database.

Item and direct chats keep their two parties for life, and their member lists are the only ones
cached: rooms and user groups change members (and relay no typing), so reads there ask the
database; still, any `member` or `group` event the hub routes drops that group from the cache.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from flask import Flask, current_app
from sqlalchemy import select

from chat.groups.access import member_ids, not_found
from chat.models import ChatGroup
from core.db import db
from core.ratelimit import RateLimited, enforce

EXTENSION_KEY = "chat_group_facts"
GATE_KEY = "chat_typing_gate"
MAX_GROUPS = 100_000  # cached groups per process; beyond, the cache starts over
#: kinds whose members change: never cached
CHANGING_KINDS = frozenset({"room", "group"})


@dataclass(frozen=True)
class GroupFacts:
    """What typing and reads need to know of a group: its kind and (item, direct) its members."""

    kind: str
    #: None for rooms and user groups: their members change, and typing is not relayed there
    members: frozenset[int] | None

    def admits(self, user_id: int) -> bool | None:
        """True/False for item and direct groups; None for rooms and user groups (ask the database)."""
        return None if self.members is None else user_id in self.members


class GroupCache:
    """group id -> GroupFacts, loaded on first use; thread-safe, dropped per group on membership events."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._facts: dict[int, GroupFacts] = {}
        self.loads = 0  # how many times the database was read (tests count them)

    def peek(self, group_id: int) -> GroupFacts | None:
        return self._facts.get(group_id)

    def load(self, group_id: int) -> GroupFacts | None:
        """Read the group from the database (None when it does not exist) and keep it."""
        s = db.session
        kind = s.scalar(select(ChatGroup.kind).where(ChatGroup.id == group_id))
        self.loads += 1
        if kind is None:
            return None  # not kept: the id may be taken later
        facts = GroupFacts(kind, None if kind in CHANGING_KINDS else frozenset(member_ids(s, group_id)))
        with self._lock:
            if len(self._facts) >= MAX_GROUPS:
                self._facts.clear()
            self._facts[group_id] = facts
        return facts

    def forget(self, group_id: int) -> None:
        with self._lock:
            self._facts.pop(group_id, None)

    def clear(self) -> None:
        with self._lock:
            self._facts.clear()


class TypingGate:
    """At most one relayed typing event per user and group per `interval_s`, in this process."""

    def __init__(self, interval_s: float) -> None:
        self.interval_s = interval_s
        self._lock = threading.Lock()
        self._last: dict[tuple[int, int], float] = {}

    def admit(self, user_id: int, group_id: int) -> bool:
        now = time.monotonic()
        key = (user_id, group_id)
        with self._lock:
            last = self._last.get(key)
            if last is not None and now - last < self.interval_s:
                return False
            if len(self._last) >= MAX_GROUPS:  # keep only what still gates anything
                self._last = {k: t for k, t in self._last.items() if now - t < self.interval_s}
            self._last[key] = now
            return True


def group_cache(app: Flask) -> GroupCache:
    return app.extensions[EXTENSION_KEY]


def typing_recipients(user_id: int, group_id: int) -> list[int]:
    """Who should see that `user_id` is typing in `group_id` now: nobody when it is a room, coalesced
    or over the user's limit; 404 when they are not in the group."""
    cache = group_cache(current_app)
    try:
        facts = cache.peek(group_id)
        counted = facts is None
        if facts is None:
            enforce("typing", subject=user_id)  # unknown ids cost a query each: only as many as the limit
            facts = cache.load(group_id)
        if facts is None or facts.admits(user_id) is False:
            raise not_found()
        if facts.members is None or not current_app.extensions[GATE_KEY].admit(user_id, group_id):
            return []
        if not counted:
            enforce("typing", subject=user_id)
    except RateLimited:
        return []
    return sorted(uid for uid in facts.members if uid != user_id)


def check_read(user_id: int, group_id: int) -> None:
    """Before a read touches the database: 404 for a group the cache knows they are not in, 429 past
    the user's read limit."""
    cache = group_cache(current_app)
    facts = cache.peek(group_id)
    if facts is not None and facts.admits(user_id) is False:
        raise not_found()
    enforce("read", subject=user_id)


def reset(app: Flask) -> None:
    """Forget every cached group and typing time (the tables were emptied, so ids start over)."""
    group_cache(app).clear()
    app.extensions[GATE_KEY] = TypingGate(app.extensions[GATE_KEY].interval_s)


def init_app(app: Flask) -> None:
    """The process's group cache and typing gate (WS_TYPING_INTERVAL_S)."""
    app.extensions[EXTENSION_KEY] = GroupCache()
    app.extensions[GATE_KEY] = TypingGate(float(app.config["WS_TYPING_INTERVAL_S"]))
