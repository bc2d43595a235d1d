"""Chat fixtures: `chat`, the ChatHelper of tests/chat/helpers.py bound to the test client."""
from __future__ import annotations

import pytest

from tests.chat.helpers import ChatHelper


@pytest.fixture
def chat(client, factory) -> ChatHelper:
    return ChatHelper(client, factory)
