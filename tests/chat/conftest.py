"""Chat fixtures: `chat`, the ChatHelper of tests/chat/helpers.py bound to the test client."""
from __future__ import annotations

from contextlib import ExitStack

import pytest

from chat import events
from tests.chat.helpers import ChatHelper
from tests.support.wsclient import WsClient


@pytest.fixture
def chat(client, factory) -> ChatHelper:
    return ChatHelper(client, factory)


@pytest.fixture
def inquiry_pair(factory, client):
    """(seller, buyer, group_id): a listing of the seller's and the buyer's inquiry about it, made through the API."""
    seller, buyer = factory.user(), factory.user()
    listing = factory.listing(seller)
    r = client.post(f"/api/v1/listings/{listing['id']}/inquiries", headers=buyer.headers)
    assert r.status_code == 201, r.get_json()
    return seller, buyer, r.get_json()["id"]


@pytest.fixture
def recorded():
    """Events handed to the after-commit hooks during the test."""
    seen: list[dict] = []
    events.after_commit_hooks.append(seen.append)
    yield seen
    events.after_commit_hooks.remove(seen.append)


@pytest.fixture
def ws_ready(live_server):
    """Open ready (hello + sync) sockets of actors on the live server; all closed after the test."""
    with ExitStack() as stack:
        def open_socket(actor) -> WsClient:
            ws = WsClient(live_server.ws_url, actor.token)
            stack.callback(ws.close)
            ws.ready()
            return ws
        yield open_socket
