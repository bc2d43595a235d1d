"""Presence on one process, in-process and through Redis: `peer.online` in the conversation list
follows a user's devices, and peers in a shared item or direct chat get `presence` events."""
from __future__ import annotations

import pytest

from tests.chat.helpers import API
from tests.chat.test_presence_support import (
    connect,
    instance,
    is_presence,
    peer_online,
    private_prefix,
)
from tests.support.wsclient import wait_until


@pytest.fixture(params=["memory", "redis"])
def server(request, clean_app, tmp_path):
    """The app served with in-process presence, or a Redis-backed instance on the same database."""
    if request.param == "memory":
        from tests.support.wsclient import serve
        with serve(clean_app) as live:
            yield live
        return
    redis_url = request.getfixturevalue("redis_url")
    with instance(clean_app, tmp_path, REDIS_URL=redis_url, PRESENCE_PREFIX=private_prefix()) as live:
        yield live


def presence_events(ws, seconds: float = 0.3) -> list[dict]:
    return [f for f in ws.frames_for(seconds) if f.get("type") == "presence"]


def test_peer_is_online_from_the_first_device_until_the_last_one_closes(server, chat, factory):
    seller, buyer = factory.user(nickname="卖家"), factory.user(nickname="买家")
    group_id = chat.item_group(buyer, seller)
    hub = server.app.extensions["chat_hub"]
    assert peer_online(server.app, buyer, group_id) is False
    phone = connect(server, seller)
    try:
        assert peer_online(server.app, buyer, group_id) is True
        assert peer_online(server.app, seller, group_id) is False  # the buyer has no socket
        tablet = connect(server, seller)
        try:
            phone.close()
            assert wait_until(lambda: len(hub.connections(seller.id)) == 1, timeout=3)
            assert peer_online(server.app, buyer, group_id) is True
        finally:
            tablet.close()
        assert wait_until(lambda: not peer_online(server.app, buyer, group_id), timeout=3)
    finally:
        phone.close()


def test_presence_events_reach_peers_of_shared_chats_only(server, chat, factory):
    seller, buyer, friend = factory.user(), factory.user(), factory.user()
    stranger, roommate, blocker = factory.user(), factory.user(), factory.user()
    chat.item_group(buyer, seller)
    chat.direct(friend, seller)
    chat.direct(blocker, seller)
    chat.block(blocker, seller)
    room_id = chat.room(roommate)
    for member in (seller, roommate):
        r = chat.client.post(f"{API}/rooms/{room_id}/join", headers=member.headers)
        assert r.status_code in (200, 201, 204), r.get_json()
    watchers = {actor.id: connect(server, actor) for actor in (buyer, friend, stranger, roommate, blocker)}
    try:
        device = connect(server, seller)
        for peer in (buyer, friend):
            watchers[peer.id].recv_until(is_presence(seller.id, True), timeout=3)
        device.close()
        for peer in (buyer, friend):
            watchers[peer.id].recv_until(is_presence(seller.id, False), timeout=3)
        for outsider in (stranger, roommate, blocker):
            assert presence_events(watchers[outsider.id]) == []
            assert not [f for f in watchers[outsider.id].seen if f.get("type") == "presence"]
    finally:
        for ws in watchers.values():
            ws.close()


def test_presence_is_not_shared_across_a_block(server, chat, factory):
    seller, buyer, friend = factory.user(), factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    chat.direct(friend, seller)
    device = connect(server, seller)
    try:
        assert peer_online(server.app, buyer, group_id) is True
        chat.block(buyer, seller)
        assert peer_online(server.app, buyer, group_id) is False
        assert peer_online(server.app, seller, group_id) is False
    finally:
        device.close()
    buyer_ws, friend_ws = connect(server, buyer), connect(server, friend)
    try:
        assert wait_until(lambda: not server.app.extensions["presence"].is_online(seller.id), timeout=3)
        again = connect(server, seller)
        friend_ws.recv_until(is_presence(seller.id, True), timeout=3)
        again.close()
        friend_ws.recv_until(is_presence(seller.id, False), timeout=3)
        assert presence_events(buyer_ws, 0.2) == []
        assert [f for f in buyer_ws.seen if f.get("type") == "presence"] == []
    finally:
        buyer_ws.close()
        friend_ws.close()
