"""Chat fixtures: `chat`, the ChatHelper of tests/chat/helpers.py bound to the test client."""
from __future__ import annotations

import pytest

from chat import events
from tests.chat.helpers import ChatHelper


@pytest.fixture
def chat(client, factory) -> ChatHelper:
    return ChatHelper(client, factory)


@pytest.fixture
def recorded():
    """Events handed to the after-commit hooks during the test."""
    seen: list[dict] = []
    events.after_commit_hooks.append(seen.append)
    yield seen
    events.after_commit_hooks.remove(seen.append)
