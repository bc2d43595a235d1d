"""Presence: whether a user has a socket open in any process, and `presence` events when that changes.

Built like the broker: `make_presence(REDIS_URL)` is a RedisPresence (heartbeat key per process,
set of processes per user, expiry so a crashed process's users go offline within PRESENCE_TTL_S)
or, without Redis, a MemoryPresence counting this process's sockets. The WebSocket hub reports
each user's first and last local socket; `app.extensions["presence"].online(user_ids)` answers in
one round trip. Settings: PRESENCE_TTL_S (45), PRESENCE_BEAT_S (TTL/3), PRESENCE_PREFIX ("presence:").
"""
from __future__ import annotations

from flask import Flask

from chat.presence.base import ChangeCallback, Presence

__all__ = ["ChangeCallback", "Presence", "get_presence", "init_app", "make_presence"]

DEFAULT_TTL_S = 45.0


def make_presence(redis_url: str | None, *, ttl_s: float = DEFAULT_TTL_S, beat_s: float | None = None,
                  prefix: str = "presence:") -> Presence:
    """A RedisPresence when `redis_url` is given, else an in-process MemoryPresence."""
    if redis_url:
        from chat.presence.redis import RedisPresence
        return RedisPresence(redis_url, prefix=prefix, ttl_s=ttl_s, beat_s=beat_s)
    from chat.presence.memory import MemoryPresence
    return MemoryPresence(beat_s=beat_s if beat_s is not None else ttl_s / 3)


def init_app(app: Flask) -> Presence:
    """Build the presence from config into `app.extensions["presence"]` (closing any previous one);
    its changes publish `presence` events through the app's broker."""
    from chat.presence.events import publish_presence

    previous = app.extensions.get("presence")
    if previous is not None:
        previous.close()
    cfg = app.config
    presence = make_presence(cfg.get("REDIS_URL"), ttl_s=float(cfg.get("PRESENCE_TTL_S", DEFAULT_TTL_S)),
                             beat_s=cfg.get("PRESENCE_BEAT_S"), prefix=cfg.get("PRESENCE_PREFIX", "presence:"))
    presence.on_change = lambda user_id, online: publish_presence(app, user_id, online)  # type: ignore[assignment]
    app.extensions["presence"] = presence
    return presence


def get_presence(app: Flask) -> Presence:
    """The app's presence (init_app must have run)."""
    try:
        return app.extensions["presence"]
    except KeyError:
        raise RuntimeError("chat.presence.init_app(app) has not been called") from None
