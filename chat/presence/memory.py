"""In-process presence: one process, so a user is online while they have a socket here."""
from __future__ import annotations

from typing import Iterable

from chat.presence.base import Presence


class MemoryPresence(Presence):
    """Development and single-process deployments (no REDIS_URL)."""

    def __init__(self, *, beat_s: float = 15.0) -> None:
        super().__init__(beat_s=beat_s)

    def online(self, user_ids: Iterable[int]) -> set[int]:
        return self.here(user_ids)

    def _write(self, user_id: int, here: bool) -> bool:
        return True  # this process is everywhere: its first and last sockets are the user's
