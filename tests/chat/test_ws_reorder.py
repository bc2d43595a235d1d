"""Live frames that arrive out of order (two processes publish in the order their commits finish, not
in position order) are delivered in position order, once each, without a database read; a position
the broker really lost is read from the database after a short wait."""
from __future__ import annotations

import time

import pytest
from sqlalchemy.exc import OperationalError

from chat.cursors import decode_cursor
from chat.ws import store
from chat.ws.hub import positioned_text, user_channel
from tests.support.wsclient import WsClient


@pytest.fixture
def unpublished(clean_app, monkeypatch):
    """Messages committed meanwhile are not published (the test publishes them by hand)."""
    monkeypatch.setattr(clean_app.extensions["db"], "publish", None)


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


def delivered(live_server, chat, inquiry_pair, count: int, published: list[int]) -> list[dict]:
    """The seller's socket's message frames after the buyer sent `count` messages (REST) and only the
    seller's positions `published` were published, in that order."""
    seller, buyer, group_id = inquiry_pair
    ws = WsClient(live_server.ws_url, seller.token)
    try:
        ws.ready()
        messages = [chat.send(buyer, group_id, f"第{i}条", client_id=f"m{i}") for i in range(count)]
        for pos in published:
            message = messages[pos - 1]
            live_server.app.extensions["broker"].publish(user_channel(seller.id), positioned_text(
                store.positioned(pos, message)))  # as Redis would carry it
        return [ws.op("message") for _ in range(count)]
    finally:
        ws.close()


def test_frames_published_out_of_order_go_out_in_order_without_a_read(live_server, chat, inquiry_pair,
                                                                      unpublished, replays):
    frames = delivered(live_server, chat, inquiry_pair, 3, published=[3, 1, 2])
    assert [f["message"]["client_id"] for f in frames] == ["m0", "m1", "m2"]
    assert [decode_cursor(f["cursor"]) for f in frames] == [1, 2, 3]
    assert len(replays) == 1, "an out-of-order frame made the writer read the database"  # the sync's only


def test_a_position_the_broker_lost_is_read_after_a_short_wait(live_server, chat, inquiry_pair, unpublished,
                                                               replays):
    frames = delivered(live_server, chat, inquiry_pair, 2, published=[2])  # position 1 never published
    assert [f["message"]["client_id"] for f in frames] == ["m0", "m1"]
    assert [decode_cursor(f["cursor"]) for f in frames] == [1, 2]
    assert len(replays) == 2, "the lost position was not read from the database"  # the sync's, then the fill


def test_a_failed_read_of_a_lost_position_is_tried_again_soon(live_server, chat, inquiry_pair, unpublished,
                                                              replays, monkeypatch):
    """A database blip during the read (the guarantee test's failure window) delays the frames behind the gap
    by a short retry, not by a heartbeat (25 s)."""
    original = store.Store.replay
    failures = []

    def failing_once(self, *args, **kwargs):
        if len(replays) == 1 and not failures:  # the fill, after the sync's read
            failures.append(args)
            raise OperationalError("SELECT ...", {}, Exception("server closed the connection unexpectedly"))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(store.Store, "replay", failing_once)
    started = time.monotonic()
    frames = delivered(live_server, chat, inquiry_pair, 2, published=[2])  # position 1 never published
    assert [f["message"]["client_id"] for f in frames] == ["m0", "m1"]
    assert failures, "the read did not fail"
    assert time.monotonic() - started < live_server.app.config["WS_HEARTBEAT_S"] / 2
