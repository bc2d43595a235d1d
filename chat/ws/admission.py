"""Who may start a /ws handshake: two per-address limits, both checked before any database work.

- The rate of failed handshakes: each one counts against `RATE_LIMIT_WS_HANDSHAKE_IP` for its address and is
  given back once the socket authenticates, so only handshakes that fail to authenticate stay counted.
- Handshakes in flight: at most `WS_MAX_PENDING_HANDSHAKES_PER_ADDRESS` per address not yet authenticated (the
  upgrade and the token or ticket look-up, however long a busy database makes them), counted in this process.
  A slot is given back once the socket authenticates or is refused (it may linger, closing, for
  WS_CLOSE_LINGER_S), or when its request ends, however it ends.

Past either limit the upgrade is refused with HTTP 429 (Retry-After).
"""
from __future__ import annotations

import threading

from flask import Flask, current_app, g, request

from core.errors import ApiError
from core.ratelimit import by_ip, give_back, hit_attempt

WS_PATH = "/ws"
PENDING_KEY = "ws_pending_handshakes"
RETRY_AFTER_SECONDS = 2


class TooManyHandshakes(ApiError):
    status, code = 429, "too_many_handshakes"
    message = "Too many connections from this address are still being set up; try again shortly."


class PendingHandshakes:
    """Handshakes per address in this process that have not authenticated yet, at most `limit` each."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._count: dict[str, int] = {}

    def take(self, address: str) -> bool:
        with self._lock:
            held = self._count.get(address, 0)
            if held >= self.limit:
                return False
            self._count[address] = held + 1
            return True

    def give_back(self, address: str) -> None:
        with self._lock:
            held = self._count.get(address, 0) - 1
            if held > 0:
                self._count[address] = held
            else:
                self._count.pop(address, None)


def _count_handshake() -> None:
    if request.path != WS_PATH:
        return
    address = by_ip()
    if not current_app.extensions[PENDING_KEY].take(address):
        raise TooManyHandshakes(details={"retry_after": RETRY_AFTER_SECONDS},
                                headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
    g.ws_pending_address = address  # from here on, _release gives the slot back whatever happens
    g.ws_handshake_checks = hit_attempt(("ws_handshake_ip", address))  # RateLimited: a 429 answer


def _release() -> None:
    address = g.pop("ws_pending_address", None)
    if address is not None:
        current_app.extensions[PENDING_KEY].give_back(address)


def authenticated() -> None:
    """The handshake's socket authenticated: it no longer counts against its address."""
    give_back(g.pop("ws_handshake_checks", []))
    _release()


def refused() -> None:
    """The handshake's socket was refused: no longer in flight (its failure stays counted against the rate)."""
    _release()


def init_app(app: Flask) -> None:
    app.extensions[PENDING_KEY] = PendingHandshakes(app.config["WS_MAX_PENDING_HANDSHAKES_PER_ADDRESS"])
    app.before_request(_count_handshake)
    app.teardown_request(lambda _exc: _release())
