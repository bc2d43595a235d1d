"""The per-user socket cap (WS_MAX_SOCKETS_PER_USER): which of a user's sockets close when they open one too many.

`SocketCap` counts the sockets of this process only (no REDIS_URL: one process is the whole service).
`RedisSocketCap` counts them in every process sharing the Redis of the presence: `presence:sockets:<user id>`
(after the presence's prefix) is a sorted set of `<process id>|<socket id>`, scored by when each socket opened
(Redis's clock, in µs). One script per new socket, atomic in Redis, drops the entries of processes whose
presence heartbeat key is gone (so a killed process's sockets stop counting within PRESENCE_TTL_S), adds the new
one and takes out the oldest beyond the cap wherever they live: the hub closes this process's ones itself and
publishes a control `{"close": 4429, "socket": "<id>"}` on the user's channel for the others. The presence
worker's beat re-adds this process's sockets (after a Redis restart or outage) and keeps the set alive while a
process holds the user; held by no live process, it expires. If Redis does not answer, the cap counts this
process's sockets only.
"""
from __future__ import annotations

import logging
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import redis

from chat.ws.connection import Connection

if TYPE_CHECKING:
    from chat.presence import Presence
    from chat.presence.redis import RedisPresence

log = logging.getLogger(__name__)

# KEYS: the user's set, this process's heartbeat key.
# ARGV: the new member, the cap, the heartbeat key prefix, ttl ms, this process id.
# Returns the new socket's score (Redis's TIME: seconds, µs), then the members taken out (the oldest beyond the cap).
OPEN = """
redis.call('SET', KEYS[2], '1', 'PX', ARGV[4])
local t = redis.call('TIME')
local score = tonumber(t[1]) * 1000000 + tonumber(t[2])
for _, m in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local p = string.match(m, '^(.*)|')
  if p ~= ARGV[5] and redis.call('EXISTS', ARGV[3] .. p) == 0 then redis.call('ZREM', KEYS[1], m) end
end
redis.call('ZADD', KEYS[1], score, ARGV[1])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[4]) then redis.call('PEXPIRE', KEYS[1], ARGV[4]) end
local out = {t[1], t[2]}
local excess = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[2])
if excess > 0 then
  for _, m in ipairs(redis.call('ZRANGE', KEYS[1], 0, excess - 1)) do
    redis.call('ZREM', KEYS[1], m)
    table.insert(out, m)
  end
end
return out
"""
# KEYS: one user's set per socket of this process. ARGV: ttl ms, then each socket's score and member.
BEAT = """
for i = 1, #KEYS do
  redis.call('ZADD', KEYS[i], 'NX', ARGV[2 * i], ARGV[2 * i + 1])
  if redis.call('PTTL', KEYS[i]) < tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[i], ARGV[1]) end
end
return #KEYS
"""


@dataclass
class Eviction:
    """The sockets to close because their user opened one too many."""

    here: list[Connection] = field(default_factory=list)  # this process's: closed by the hub
    elsewhere: list[str] = field(default_factory=list)  # socket ids in other processes: a control on the channel


class SocketCap:
    """At most `limit` sockets per user (falsy: no cap), counted in this process."""

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._ids: dict[Connection, str] = {}

    def socket_id(self, conn: Connection) -> str | None:
        """The id a `socket` control names this connection by (None once it closed)."""
        with self._lock:
            return self._ids.get(conn)

    def opened(self, conn: Connection, here: list[Connection]) -> Eviction:
        """`conn` registered; `here` is its user's sockets in this process, oldest first (with `conn`)."""
        with self._lock:
            self._ids[conn] = secrets.token_hex(8)
        return self._local(here)

    def closed(self, conn: Connection) -> None:
        """`conn` unregistered (called once per connection)."""
        with self._lock:
            self._ids.pop(conn, None)

    def _local(self, here: list[Connection]) -> Eviction:
        excess = len(here) - self.limit if self.limit else 0
        return Eviction(here=here[:excess] if excess > 0 else [])


class RedisSocketCap(SocketCap):
    """At most `limit` sockets per user across every process sharing the presence's Redis."""

    def __init__(self, limit: int, presence: RedisPresence) -> None:
        super().__init__(limit)
        self._max = limit
        self._redis = presence.client
        self._prefix = f"{presence.prefix}sockets:"
        self._process_id = presence.process_id
        self._process_key = presence.process_key
        self._process_key_prefix = presence.process_key_prefix
        self._ttl_ms = presence.ttl_ms
        self._open = self._redis.register_script(OPEN)
        self._beat_script = self._redis.register_script(BEAT)
        # socket id -> (user id, score, connection), this process's sockets still counted in Redis
        self._entries: dict[str, tuple[int, int, Connection]] = {}
        presence.beat_hooks.append(self.beat)

    def user_key(self, user_id: int) -> str:
        return f"{self._prefix}{user_id}"

    def opened(self, conn: Connection, here: list[Connection]) -> Eviction:
        socket_id = secrets.token_hex(8)
        with self._lock:
            self._ids[conn] = socket_id
        try:
            seconds, micros, *taken = self._open(
                keys=[self.user_key(conn.user_id), self._process_key],
                args=[self._member(socket_id), self._max, self._process_key_prefix, self._ttl_ms, self._process_id])
        except (redis.RedisError, OSError) as exc:
            log.warning("socket cap: Redis failed (%s); counting this process's sockets only", exc)
            with self._lock:
                if conn in self._ids:  # re-added to Redis by a later beat
                    self._entries[socket_id] = (conn.user_id, int(time.time() * 1_000_000), conn)
            return self._local(here)
        eviction = Eviction()
        with self._lock:
            if conn in self._ids:  # not already closed again
                self._entries[socket_id] = (conn.user_id, int(seconds) * 1_000_000 + int(micros), conn)
            for member in taken:
                process_id, _, sid = member.rpartition("|")
                if process_id != self._process_id:
                    eviction.elsewhere.append(sid)
                elif (entry := self._entries.pop(sid, None)) is not None:
                    eviction.here.append(entry[2])
        return eviction

    def closed(self, conn: Connection) -> None:
        with self._lock:
            socket_id = self._ids.pop(conn, None)
            entry = self._entries.pop(socket_id, None) if socket_id is not None else None
        if entry is None:
            return
        try:
            self._redis.zrem(self.user_key(conn.user_id), self._member(socket_id))  # type: ignore[arg-type]
        except (redis.RedisError, OSError):
            # It stays counted until it is the oldest and taken out (closing nothing) or its set expires.
            log.debug("socket cap: removing a closed socket from Redis failed", exc_info=True)

    def beat(self) -> None:
        """On the presence worker's beat: re-add this process's sockets and keep their users' sets alive."""
        with self._lock:
            entries = [(sid, uid, score) for sid, (uid, score, _conn) in self._entries.items()]
        if not entries:
            return
        args: list[str | int] = [self._ttl_ms]
        for sid, _uid, score in entries:
            args += [score, self._member(sid)]
        self._beat_script(keys=[self.user_key(uid) for _sid, uid, _score in entries], args=args)

    def _member(self, socket_id: str) -> str:
        return f"{self._process_id}|{socket_id}"


def make_socket_cap(limit: int | None, presence: Presence | None) -> SocketCap:
    """Across processes when the presence is shared through Redis; in this process otherwise."""
    from chat.presence.redis import RedisPresence

    if limit and isinstance(presence, RedisPresence):
        return RedisSocketCap(limit, presence)
    return SocketCap(limit)
