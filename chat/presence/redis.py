"""Presence across processes through Redis: a heartbeat key per process, a set of processes per user.

`<prefix>proc:<process id>` lives `ttl_s` and is refreshed every `beat_s` by the worker thread;
`<prefix>user:<id>` is the set of process ids holding a socket of that user (and `<prefix>held:<process
id>` the reverse, `<prefix>procs` every process). A user is online when
any process in their set still has its heartbeat key, so the users of a process that died (or
stopped beating) go offline within `ttl_s` without anyone cleaning up; dead entries are pruned the
next time the user's set is written. Each beat also re-adds this process's users (their sets
survive a Redis restart that way) and extends their sets' expiry, so abandoned sets vanish; then it
reaps dead processes: the one beat that claims a dead process reports its users that no live process
holds as gone offline, so their peers get the `presence` event within about ttl + beat.
Scripts make "add me and count the others alive" atomic: two processes taking a user's first
sockets at once publish exactly one `online`.
"""
from __future__ import annotations

import logging
import os
import secrets
import socket
from typing import Iterable

import redis

from chat.presence.base import Presence

log = logging.getLogger(__name__)

# KEYS: the user's set, this process's key, its held set, the process registry.
# ARGV: process id, process key prefix, ttl ms, user id, held set ttl ms.
ARRIVE = """
redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
redis.call('SADD', KEYS[4], ARGV[1])
redis.call('SADD', KEYS[3], ARGV[4])
redis.call('PEXPIRE', KEYS[3], ARGV[5])
local others = 0
for _, p in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if p ~= ARGV[1] then
    if redis.call('EXISTS', ARGV[2] .. p) == 1 then others = others + 1
    else redis.call('SREM', KEYS[1], p) end
  end
end
redis.call('SADD', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[3]) then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
return others
"""
# KEYS: the user's set, this process's held set. ARGV: process id, process key prefix, user id.
LEAVE = """
redis.call('SREM', KEYS[1], ARGV[1])
redis.call('SREM', KEYS[2], ARGV[3])
local others = 0
for _, p in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if redis.call('EXISTS', ARGV[2] .. p) == 1 then others = others + 1
  else redis.call('SREM', KEYS[1], p) end
end
return others
"""
# KEYS: this process's key, its held set, the registry, then the sets of the users it holds.
# ARGV: process id, ttl ms, held set ttl ms, then those users' ids (in KEYS order).
BEAT = """
redis.call('SET', KEYS[1], '1', 'PX', ARGV[2])
redis.call('SADD', KEYS[3], ARGV[1])
for i = 4, #KEYS do
  redis.call('SADD', KEYS[i], ARGV[1])
  if redis.call('PTTL', KEYS[i]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[i], ARGV[2]) end
  redis.call('SADD', KEYS[2], ARGV[i])
end
if #KEYS > 3 then redis.call('PEXPIRE', KEYS[2], ARGV[3]) end
return #KEYS - 3
"""
# KEYS: the registry. ARGV: process key prefix, user set prefix, held set prefix.
# Claims each dead process (one reaper wins), drops it from its users' sets and returns the ids
# of those users no live process holds any more.
REAP = """
local gone = {}
for _, p in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if redis.call('EXISTS', ARGV[1] .. p) == 0 then
    redis.call('SREM', KEYS[1], p)
    local held = ARGV[3] .. p
    for _, uid in ipairs(redis.call('SMEMBERS', held)) do
      local key = ARGV[2] .. uid
      redis.call('SREM', key, p)
      local alive = false
      for _, q in ipairs(redis.call('SMEMBERS', key)) do
        if redis.call('EXISTS', ARGV[1] .. q) == 1 then alive = true break end
      end
      if not alive then table.insert(gone, uid) end
    end
    redis.call('DEL', held)
  end
end
return gone
"""
# KEYS: users' sets. ARGV: process key prefix, a process id to ignore. One flag per key.
LOOKUP = """
local out = {}
for i, key in ipairs(KEYS) do
  out[i] = 0
  for _, p in ipairs(redis.call('SMEMBERS', key)) do
    if p ~= ARGV[2] and redis.call('EXISTS', ARGV[1] .. p) == 1 then out[i] = 1 break end
  end
end
return out
"""


def default_process_id() -> str:
    """Unique per process and per app instance (two apps in one test process differ)."""
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(4)}"


class RedisPresence(Presence):
    """Presence shared by every process on one Redis."""

    def __init__(self, url: str, *, prefix: str = "presence:", ttl_s: float = 45.0, beat_s: float | None = None,
                 process_id: str | None = None, socket_timeout: float = 1.0) -> None:
        super().__init__(beat_s=beat_s if beat_s is not None else ttl_s / 3)
        self.prefix = prefix
        self.process_id = process_id or default_process_id()
        self.ttl_ms = max(int(ttl_s * 1000), 1)
        self._proc_prefix = f"{prefix}proc:"
        self._registry = f"{prefix}procs"
        self._held = f"{prefix}held:{self.process_id}"
        self._client = redis.Redis.from_url(url, decode_responses=True, protocol=2, socket_timeout=socket_timeout,
                                            socket_connect_timeout=socket_timeout,
                                            client_name=f"paipai-presence-{os.getpid()}")
        self._arrive = self._client.register_script(ARRIVE)
        self._leave = self._client.register_script(LEAVE)
        self._beat_script = self._client.register_script(BEAT)
        self._lookup = self._client.register_script(LOOKUP)
        self._reap = self._client.register_script(REAP)

    def user_key(self, user_id: int) -> str:
        return f"{self.prefix}user:{user_id}"

    @property
    def process_key(self) -> str:
        return f"{self._proc_prefix}{self.process_id}"

    @property
    def process_key_prefix(self) -> str:
        """Followed by a process id: that process's heartbeat key (alive while it exists)."""
        return self._proc_prefix

    @property
    def client(self) -> redis.Redis:
        """This presence's Redis client (string replies), for data kept alongside it (e.g. the socket cap)."""
        return self._client

    def online(self, user_ids: Iterable[int]) -> set[int]:
        """This process's own users from memory, everyone else's in one script call (one round trip);
        only the local ones when Redis does not answer."""
        wanted = list(dict.fromkeys(user_ids))
        found = self.here(wanted)
        elsewhere = [uid for uid in wanted if uid not in found]
        if not elsewhere:
            return found
        try:
            flags = self._lookup(keys=[self.user_key(uid) for uid in elsewhere],
                                 args=[self._proc_prefix, self.process_id])
        except (redis.RedisError, OSError) as exc:
            log.warning("presence: lookup in Redis failed (%s); only this process's users are online", exc)
            return found
        return found | {uid for uid, flag in zip(elsewhere, flags) if flag}

    def _write(self, user_id: int, here: bool) -> bool:
        if here:
            others = self._arrive(keys=[self.user_key(user_id), self.process_key, self._held, self._registry],
                                  args=[self.process_id, self._proc_prefix, self.ttl_ms, user_id, 4 * self.ttl_ms])
        else:
            others = self._leave(keys=[self.user_key(user_id), self._held],
                                 args=[self.process_id, self._proc_prefix, user_id])
        return int(others) == 0

    def _beat(self) -> list[int]:
        held = sorted(self._written)
        self._beat_script(keys=[self.process_key, self._held, self._registry] + [self.user_key(u) for u in held],
                          args=[self.process_id, self.ttl_ms, 4 * self.ttl_ms] + held)  # type: ignore[arg-type]
        gone = self._reap(keys=[self._registry], args=[self._proc_prefix, f"{self.prefix}user:", f"{self.prefix}held:"])
        return [int(uid) for uid in gone]

    def _closed(self, *, forget: bool) -> None:
        if forget:
            try:
                with self._client.pipeline(transaction=False) as pipe:
                    pipe.delete(self.process_key, self._held)
                    pipe.srem(self._registry, self.process_id)
                    for uid in self._written:
                        pipe.srem(self.user_key(uid), self.process_id)
                    pipe.execute()
            except (redis.RedisError, OSError):
                log.debug("presence: withdrawing this process's users failed", exc_info=True)
        self._client.close()
