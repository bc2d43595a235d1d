"""No login timing oracle: an unknown username and a wrong password cost the same, one argon2 verify each,
and no hashing (the dummy hash an unknown user is checked against is made once)."""
from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from marketplace.security import _hasher

API = "/api/v1"


class CountingHasher(PasswordHasher):
    """A real argon2 hasher that counts its work."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.verifies = self.hashes = 0

    def verify(self, hash, password) -> bool:  # noqa: A002 - argon2's own parameter name
        self.verifies += 1
        return super().verify(hash, password)

    def hash(self, password, *, salt=None) -> str:
        self.hashes += 1
        return super().hash(password, salt=salt)


@pytest.fixture
def counting(client):
    app = client.application
    cfg = app.config
    key = ("argon2", cfg["ARGON2_TIME_COST"], cfg["ARGON2_MEMORY_COST"])
    with app.app_context():
        original = _hasher()
    counter = CountingHasher(time_cost=cfg["ARGON2_TIME_COST"], memory_cost=cfg["ARGON2_MEMORY_COST"])
    app.extensions[key] = counter
    yield counter
    app.extensions[key] = original


def _login(client, username: str, password: str) -> int:
    return client.post(f"{API}/token", json={"grant_type": "password", "username": username,
                                             "password": password}).status_code


def test_unknown_user_and_wrong_password_each_do_exactly_one_verify(client, factory, counting):
    user = factory.user()
    assert _login(client, "nobody-here", "whatever-123") == 401  # the process's first: may make the dummy
    counting.verifies = counting.hashes = 0
    for path in ("unknown", "wrong"):
        for _ in range(3):
            before = counting.verifies
            name = "nobody-here" if path == "unknown" else user.username
            assert _login(client, name, "wrong-password-1") == 401
            assert counting.verifies - before == 1, path
    assert counting.hashes == 0  # the dummy hash is not recomputed per call
