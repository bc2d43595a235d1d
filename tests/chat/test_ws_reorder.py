"""Live frames that arrive out of order (two processes publish in the order their commits finish, not
in position order) are delivered in position order, once each, without a database read; a position
the broker really lost is read from the database after a short wait."""
from __future__ import annotations

import pytest

from chat import events
from chat.cursors import decode_cursor
from chat.messages.views import encode_message
from chat.ws import store
from chat.ws.hub import positioned_payload, user_channel
from chat.ws.publish import publish_events
from tests.support.wsclient import WsClient

API = "/api/v1"


@pytest.fixture
def unpublished():
    """Messages committed meanwhile are not published (the test publishes them by hand)."""
    events.after_commit_batch_hooks.remove(publish_events)
    yield
    events.after_commit_batch_hooks.append(publish_events)


@pytest.fixture
def replays(monkeypatch):
    """How many times a socket's writer read its inbox from the database."""
    calls = []
    original = store.Store.replay

    def counted(self, *args, **kwargs):
        calls.append(args)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(store.Store, "replay", counted)
    return calls


def stored(client, chat_pair, n: int) -> list[dict]:
    seller, buyer, group_id = chat_pair
    out = []
    for i in range(n):
        r = client.post(f"{API}/groups/{group_id}/messages", headers=buyer.headers,
                        json={"client_id": f"m{i}", "type": "txt", "body": {"text": f"第{i}条"}})
        assert r.status_code == 201, r.get_json()
        out.append(r.get_json())
    return out


@pytest.fixture
def chat_pair(factory, client):
    seller, buyer = factory.user(), factory.user()
    listing = factory.listing(seller)
    r = client.post(f"{API}/listings/{listing['id']}/inquiries", headers=buyer.headers)
    assert r.status_code == 201, r.get_json()
    return seller, buyer, r.get_json()["id"]


def publish(app, user_id: int, pos: int, message: dict) -> None:
    payload = positioned_payload(pos, message["sender"]["id"], message["client_id"], encode_message(message))
    app.extensions["broker"].publish(user_channel(user_id), payload)


def test_frames_published_out_of_order_go_out_in_order_without_a_read(live_server, client, chat_pair, unpublished,
                                                                      replays):
    seller = chat_pair[0]
    ws = WsClient(live_server.ws_url, seller.token)
    try:
        ws.ready()
        before = len(replays)
        messages = stored(client, chat_pair, 3)
        for pos in (3, 1, 2):
            publish(live_server.app, seller.id, pos, messages[pos - 1])
        frames = [ws.op("message") for _ in range(3)]
        assert len(replays) == before, "an out-of-order frame made the writer read the database"
    finally:
        ws.close()
    assert [f["message"]["client_id"] for f in frames] == ["m0", "m1", "m2"]
    assert [decode_cursor(f["cursor"]) for f in frames] == [1, 2, 3]


def test_a_position_the_broker_lost_is_read_after_a_short_wait(live_server, client, chat_pair, unpublished,
                                                               replays):
    seller = chat_pair[0]
    ws = WsClient(live_server.ws_url, seller.token)
    try:
        ws.ready()
        messages = stored(client, chat_pair, 2)
        publish(live_server.app, seller.id, 2, messages[1])  # position 1 was never published
        frames = [ws.op("message") for _ in range(2)]
    finally:
        ws.close()
    assert [f["message"]["client_id"] for f in frames] == ["m0", "m1"]
    assert [decode_cursor(f["cursor"]) for f in frames] == [1, 2]
    assert replays, "the lost position was not read from the database"
