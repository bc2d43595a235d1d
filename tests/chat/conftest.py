"""Chat fixtures: `chat`, the ChatHelper of tests/chat/helpers.py bound to the test client."""
from __future__ import annotations

from contextlib import ExitStack

import pytest

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


def wrap_publisher(app, monkeypatch, before) -> None:
    """Run `before(events)` on every commit's events, then publish them as the app does."""
    state = app.extensions["db"]
    publish = state.publish

    def wrapped(events: list[dict]) -> None:
        before(events)
        if publish is not None:
            publish(events)
    monkeypatch.setattr(state, "publish", wrapped)


@pytest.fixture
def recorded(clean_app, monkeypatch):
    """Events the app published after commit during the test (published as usual too)."""
    seen: list[dict] = []
    wrap_publisher(clean_app, monkeypatch, seen.extend)
    return seen


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
