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


def verify_password(password_hash: str | None, password: str) -> bool:
    """Check a password; with no hash (unknown user) spend the same time and fail."""
    hasher = _hasher()
    try:
        if password_hash is None:
            hasher.verify(hasher.hash(_DUMMY_PASSWORD), password)
            return False
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
