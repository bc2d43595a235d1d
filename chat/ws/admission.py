"""Who may start a /ws handshake: each one counts against `RATE_LIMIT_WS_HANDSHAKE_IP` for its address
before any database work, and is given back once the socket authenticates, so only handshakes that
fail to authenticate stay counted. Past the limit the upgrade is refused with HTTP 429 (Retry-After).
"""
from __future__ import annotations

from flask import Flask, g, request

from core.ratelimit import by_ip, give_back, hit_attempt

WS_PATH = "/ws"


def _count_handshake() -> None:
    if request.path == WS_PATH:
        g.ws_handshake_checks = hit_attempt(("ws_handshake_ip", by_ip()))  # RateLimited: a 429 answer


def authenticated() -> None:
    """The handshake's socket authenticated: it no longer counts against its address."""
    give_back(g.pop("ws_handshake_checks", []))


def init_app(app: Flask) -> None:
    app.before_request(_count_handshake)
