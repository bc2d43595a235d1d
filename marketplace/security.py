"""Password hashing (argon2id) and opaque access tokens stored only as digests."""
from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

_DUMMY_PASSWORD = secrets.token_urlsafe(16)


def _hasher() -> PasswordHasher:
    cfg = current_app.config
    key = ("argon2", cfg["ARGON2_TIME_COST"], cfg["ARGON2_MEMORY_COST"])
    hasher = current_app.extensions.get(key)  # type: ignore[call-overload]
    if hasher is None:
        hasher = PasswordHasher(time_cost=cfg["ARGON2_TIME_COST"], memory_cost=cfg["ARGON2_MEMORY_COST"])
        current_app.extensions[key] = hasher  # type: ignore[index]
    return hasher


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def _dummy_hash() -> str:
    """A hash with the app's cost, made once per process: an unknown user's login verifies against it."""
    cfg = current_app.config
    key = ("argon2-dummy", cfg["ARGON2_TIME_COST"], cfg["ARGON2_MEMORY_COST"])
    dummy = current_app.extensions.get(key)  # type: ignore[call-overload]
    if dummy is None:  # two first calls at once both hash: harmless
        dummy = current_app.extensions[key] = _hasher().hash(_DUMMY_PASSWORD)  # type: ignore[index]
    return dummy


def verify_password(password_hash: str | None, password: str) -> bool:
    """Check a password; with no hash (unknown user) do the same one verify, against a dummy hash, and fail.

    Both paths cost exactly one argon2 verify, so response times do not tell which usernames exist."""
    hasher = _hasher()
    try:
        if password_hash is None:
            hasher.verify(_dummy_hash(), password)
            return False
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def warm_up() -> None:
    """Make the dummy hash now (at start-up), not during someone's first login."""
    _dummy_hash()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
