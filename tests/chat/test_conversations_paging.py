"""Paging GET /conversations: order, cursors in a snapshot of the list, filters and bad input."""
from __future__ import annotations

import base64
import json
import zlib

import pytest

from tests.chat.helpers import API


def page(client, actor, **params) -> dict:
    r = client.get(f"{API}/conversations", query_string=params, headers=actor.headers)
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def ids(body: dict) -> list[int]:
    return [item["group_id"] for item in body["items"]]


def walk(client, actor, limit: int, **params) -> list[list[int]]:
    """Every page's group ids, following next_cursor to the end."""
    pages, cursor = [], None
    while True:
        body = page(client, actor, limit=limit, **({"cursor": cursor} if cursor else {}), **params)
        pages.append(ids(body))
        cursor = body["next_cursor"]
        if cursor is None:
            return pages


def walk_from(client, actor, cursor: str, limit: int) -> list[list[int]]:
    pages = []
    while cursor:
        body = page(client, actor, limit=limit, cursor=cursor)
        pages.append(ids(body))
        cursor = body["next_cursor"]
    return pages


def item_chats(chat, buyer, seller, count: int) -> list[int]:
    """`count` item chats of the buyer with the seller, oldest first, each with one message."""
    groups = []
    for i in range(count):
        group_id = chat.inquiry(buyer, chat.listing(seller, title=f"物品{i}"))["id"]
        chat.send(buyer, group_id, f"问物品{i}")
        groups.append(group_id)
    return groups


def test_pages_walk_the_list_newest_activity_first(client, factory, chat):
    buyer, seller = factory.user(), factory.user()
    groups = item_chats(chat, buyer, seller, 12)
    for group_id in (groups[3], groups[0]):  # new activity moves these two to the top
        chat.send(seller, group_id, "还在")
    expected = [groups[0], groups[3]] + [g for g in reversed(groups) if g not in (groups[0], groups[3])]
    pages = walk(client, buyer, 5)
    assert [len(p) for p in pages] == [5, 5, 2] and sum(pages, []) == expected
    assert walk(client, buyer, 12) == [expected] and walk(client, buyer, 100) == [expected]
    first = page(client, buyer, limit=100)["items"]
    assert [item["updated_at"] for item in first] == sorted((item["updated_at"] for item in first), reverse=True)


def test_a_conversation_moving_up_between_pages_keeps_its_place_and_is_not_repeated(client, factory, chat):
    buyer, seller = factory.user(), factory.user()
    older = item_chats(chat, buyer, seller, 5)
    empty = chat.inquiry(buyer, chat.listing(seller))["id"]  # no message: ordered by when it was opened
    newer = item_chats(chat, buyer, seller, 5)
    first = page(client, buyer, limit=5)
    assert ids(first) == newer[::-1]
    chat.send(seller, newer[2], "page 1 again")  # already shown: must not come back on later pages
    chat.send(seller, older[1], "moved up")  # not shown yet: must not be skipped
    chat.send(seller, empty, "first message")
    brand_new = chat.inquiry(buyer, chat.listing(seller))["id"]
    second = page(client, buyer, limit=5, cursor=first["next_cursor"])
    assert ids(second) == [empty, older[4], older[3], older[2], older[1]]
    moved = second["items"][4]
    assert moved["last_message"]["preview"] == "moved up" and moved["unread_count"] == 1
    third = page(client, buyer, limit=5, cursor=second["next_cursor"])
    assert ids(third) == [older[0]] and third["next_cursor"] is None
    # A new first page shows today's order, the chat opened meanwhile included.
    assert ids(page(client, buyer, limit=4)) == [brand_new, empty, older[1], newer[2]]


def test_the_last_row_of_a_page_getting_its_first_message_is_not_shown_again(client, factory, chat):
    buyer, seller = factory.user(), factory.user()
    older = item_chats(chat, buyer, seller, 3)
    empty = chat.inquiry(buyer, chat.listing(seller))["id"]
    newer = item_chats(chat, buyer, seller, 2)
    first = page(client, buyer, limit=3)
    assert ids(first) == [newer[1], newer[0], empty]
    chat.send(seller, empty, "first message")
    chat.send(seller, older[0], "moved up")
    assert sum(walk_from(client, buyer, first["next_cursor"], 2), []) == [older[2], older[1], older[0]]


def test_rooms_keep_their_place_between_pages_too(client, factory, chat):
    me, other, seller = factory.user(), factory.user(), factory.user()
    old_room = chat.room(other, name="旧群")
    assert client.post(f"{API}/rooms/{old_room}/join", headers=me.headers).status_code == 200
    chat.send(other, old_room, "很久以前")
    chats = item_chats(chat, me, seller, 3)
    new_room = chat.room(me, name="新群")
    chat.send(me, new_room, "刚刚")
    first = page(client, me, limit=2)
    assert ids(first) == [new_room, chats[2]]
    chat.send(other, old_room, "又活跃了")
    chat.send(seller, chats[2], "page 1 again")
    rest = walk_from(client, me, first["next_cursor"], 2)
    assert sum(rest, []) == [chats[1], chats[0], old_room]
    assert ids(page(client, me, limit=2)) == [chats[2], old_room]


def test_listing_filter_shows_every_inquiry_about_one_item_with_each_buyer_as_peer(client, factory, chat):
    seller = factory.user()
    buyers = [factory.user(nickname=f"买家{i}") for i in range(3)]
    listing_id = chat.listing(seller)
    groups = [chat.inquiry(buyer, listing_id)["id"] for buyer in buyers]
    chat.item_group(buyers[0], seller)  # another listing of the same seller
    chat.direct(seller, buyers[1])
    body = page(client, seller, listing_id=listing_id)
    assert ids(body) == groups[::-1] and body["next_cursor"] is None
    assert [item["peer"]["id"] for item in body["items"]] == [b.id for b in reversed(buyers)]
    assert {item["role"] for item in body["items"]} == {"seller"}
    assert sum(walk(client, seller, 1, listing_id=listing_id), []) == groups[::-1]
    assert ids(page(client, buyers[2], listing_id=listing_id)) == [groups[2]]  # a buyer: their own chat only
    assert ids(page(client, seller, listing_id=listing_id, kind="direct")) == []
    assert ids(page(client, seller, listing_id=999999)) == []


def test_kind_filter(client, factory, chat):
    a, b = factory.user(), factory.user()
    item, direct, room = chat.item_group(a, b), chat.direct(a, b), chat.room(a)
    assert ids(page(client, a, kind="item")) == [item]
    assert ids(page(client, a, kind="direct")) == [direct]
    assert ids(page(client, a, kind="room")) == [room]
    assert ids(page(client, a)) == [room, direct, item]


@pytest.mark.parametrize("query", [
    "limit=0", "limit=101", "limit=abc", "limit=1.5", "kind=club", "kind=", "listing_id=abc", "listing_id=0",
    "archived=maybe", "cursor=",
])
def test_bad_arguments_are_400(client, factory, query):
    r = client.get(f"{API}/conversations?{query}", headers=factory.user().headers)
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "validation_error", r.get_json()


def _forge(data) -> str:
    raw = zlib.compress(json.dumps(data).encode())
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize("cursor", [
    "not a cursor", "eNqrVipVsjLSUUpTsorOK83J0QETaYk5", "AAAA", "x" * 9000,
    base64.urlsafe_b64encode(b"plain bytes, not deflated").decode(),
    _forge(["a", "list"]), _forge({"u": 1}), _forge({"u": 1, "f": [None, None, False], "p": 0, "t": 0, "k": 0,
                                                     "g": "7", "r": []}),
    _forge({"u": 1, "f": [None, None, False], "p": 0, "t": 0, "k": 10 ** 30, "g": 7, "r": []}),
    _forge({"u": 1, "f": [None, None, False], "p": 0, "t": 0, "k": 0, "g": 7, "r": [[1]]}),
])
def test_malformed_cursors_are_400(client, factory, cursor):
    r = client.get(f"{API}/conversations", query_string={"cursor": cursor}, headers=factory.user().headers)
    assert r.status_code == 400 and r.get_json()["error"]["code"] in ("invalid_cursor", "validation_error")


def test_a_cursor_only_works_for_its_user_and_filters(client, factory, chat):
    a, b = factory.user(), factory.user()
    item_chats(chat, a, b, 3)
    cursor = page(client, a, limit=1)["next_cursor"]
    assert cursor and len(ids(page(client, a, limit=1, cursor=cursor))) == 1
    for actor, params in ((b, {}), (a, {"kind": "item"}), (a, {"archived": "true"})):
        r = client.get(f"{API}/conversations", query_string={"cursor": cursor, **params}, headers=actor.headers)
        assert r.status_code == 400 and r.get_json()["error"]["code"] == "invalid_cursor"
        assert r.get_json()["error"]["details"]["fields"]["cursor"]
