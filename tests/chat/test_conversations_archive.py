"""Item chats whose listing has been final for CHAT_ARCHIVE_AFTER_DAYS are archived: read-only, out of the list."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from chat.models import ChatGroup
from core.db import db, utcnow
from tests.chat.helpers import API


def ids(client, actor, **params) -> list[int]:
    r = client.get(f"{API}/conversations", query_string=params, headers=actor.headers)
    assert r.status_code == 200, r.get_json()
    return [item["group_id"] for item in r.get_json()["items"]]


def final_stamp(app, group_id: int):
    with app.app_context():
        return db.session.scalar(select(ChatGroup.listing_final_at).where(ChatGroup.id == group_id))


def age_stamp(app, group_id: int, days: float) -> None:
    """Pretend the listing became final `days` ago."""
    with app.app_context(), db.transaction() as s:
        s.execute(update(ChatGroup).where(ChatGroup.id == group_id)
                  .values(listing_final_at=utcnow() - timedelta(days=days)))


def listing_of(client, group_id: int) -> int:
    with client.application.app_context():
        return db.session.scalar(select(ChatGroup.listing_id).where(ChatGroup.id == group_id))


@pytest.fixture
def sold(client, factory, chat):
    """A buyer's item chat about a listing the seller has just sold (through the API), and an active one."""
    seller, buyer = factory.user(), factory.user()
    listing = factory.listing(seller)
    group_id = chat.inquiry(buyer, listing["id"])["id"]
    chat.send(buyer, group_id, "成交")
    for status in ("reserved", "sold"):
        r = client.post(f"{API}/listings/{listing['id']}/status", json={"status": status}, headers=seller.headers)
        assert r.status_code == 200, r.get_json()
    active = chat.item_group(buyer, seller)
    return seller, buyer, group_id, active


def test_a_final_status_stamps_the_chat_and_recent_ones_stay_listed(client, sold):
    seller, buyer, group_id, active = sold
    stamp = final_stamp(client.application, group_id)
    assert stamp is not None and utcnow() - stamp < timedelta(minutes=1)
    assert final_stamp(client.application, active) is None
    age_stamp(client.application, group_id, 29)
    assert ids(client, buyer) == [active, group_id] and ids(client, buyer, archived="true") == []


def test_after_the_period_the_chat_is_archived_read_only_and_still_readable(client, chat, sold):
    seller, buyer, group_id, active = sold
    age_stamp(client.application, group_id, 31)
    for actor in (buyer, seller):
        assert group_id not in ids(client, actor)
    r = client.get(f"{API}/conversations", query_string={"archived": "true"}, headers=seller.headers)
    (item,) = r.get_json()["items"]
    assert item["group_id"] == group_id and item["read_only"] is True and item["listing"]["status"] == "sold"
    assert item["last_message"]["preview"] == "商品已售出"
    texts = [m["body"]["text"] for m in chat.history(buyer, group_id)["items"]]
    assert texts == ["成交", "卖家已将商品标记为已预订", "商品已售出"]
    r = client.post(f"{API}/groups/{group_id}/read", json={"seq": 3}, headers=buyer.headers)
    assert r.status_code == 204 and ids(client, buyer) == [active]


def test_the_period_comes_from_the_configuration(client, monkeypatch, sold):
    _, buyer, group_id, active = sold
    monkeypatch.setitem(client.application.config, "CHAT_ARCHIVE_AFTER_DAYS", 0)
    assert ids(client, buyer, archived="true") == [group_id]
    monkeypatch.setitem(client.application.config, "CHAT_ARCHIVE_AFTER_DAYS", 60)
    age_stamp(client.application, group_id, 45)
    assert ids(client, buyer) == [active, group_id]


def test_the_first_final_status_starts_the_clock(client, chat, sold):
    _, _, group_id, _ = sold
    age_stamp(client.application, group_id, 20)
    first = final_stamp(client.application, group_id)
    chat.set_status(listing_of(client, group_id), "removed")  # an admin takes the sold listing down later
    assert final_stamp(client.application, group_id) == first


def test_a_listing_back_on_the_market_clears_the_stamp(client, factory, chat):
    seller, buyer = factory.user(), factory.user()
    listing_id = chat.listing(seller)
    group_id = chat.inquiry(buyer, listing_id)["id"]
    chat.set_status(listing_id, "removed")
    age_stamp(client.application, group_id, 40)
    assert ids(client, buyer, archived="true") == [group_id]
    chat.set_status(listing_id, "active")  # an admin restores it
    assert final_stamp(client.application, group_id) is None
    assert ids(client, buyer) == [group_id] and ids(client, buyer, archived="true") == []


def test_a_stamp_never_archives_a_listing_that_is_not_final(client, factory, chat):
    seller, buyer = factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    age_stamp(client.application, group_id, 90)  # e.g. left behind by a failed receiver
    assert ids(client, buyer) == [group_id] and ids(client, buyer, archived="true") == []


def test_withdrawn_and_given_listings_archive_their_chats_too(client, factory, chat):
    seller, buyer = factory.user(), factory.user()
    groups = []
    for kind, steps in (("sale", ["withdrawn"]), ("donation", ["reserved", "given"])):
        listing_id = chat.listing(seller, kind=kind)
        groups.append(chat.inquiry(buyer, listing_id)["id"])
        for status in steps:
            chat.set_status(listing_id, status)
        age_stamp(client.application, groups[-1], 31)
    assert sorted(ids(client, seller, archived="true")) == sorted(groups) and ids(client, seller) == []


def test_only_item_chats_are_ever_archived(client, factory, chat, sold):
    seller, buyer, group_id, active = sold
    direct, room = chat.direct(buyer, seller), chat.room(buyer)
    age_stamp(client.application, group_id, 31)
    assert ids(client, buyer, archived="true") == [group_id]
    assert ids(client, buyer, archived="true", kind="direct") == []
    assert ids(client, buyer, archived="true", kind="room") == []
    assert ids(client, buyer) == [room, direct, active]


def test_archived_chats_page_like_the_others(client, factory, chat):
    seller, buyer = factory.user(), factory.user()
    groups = []
    for i in range(5):
        listing_id = chat.listing(seller, title=f"旧物{i}")
        groups.append(chat.inquiry(buyer, listing_id)["id"])
        chat.set_status(listing_id, "withdrawn")
        age_stamp(client.application, groups[-1], 40)
    seen, cursor = [], None
    while True:
        params = {"archived": "true", "limit": 2, **({"cursor": cursor} if cursor else {})}
        body = client.get(f"{API}/conversations", query_string=params, headers=buyer.headers).get_json()
        seen += [item["group_id"] for item in body["items"]]
        if not (cursor := body["next_cursor"]):
            break
    assert seen == groups[::-1]


def test_sending_into_an_archived_chat_is_403_archived(client, chat, sold):
    seller, buyer, group_id, active = sold
    assert chat.send_raw(buyer, group_id, {"client_id": "early", "type": "txt", "body": {"text": "谢谢"}}).status_code == 201
    age_stamp(client.application, group_id, 31)
    for actor in (buyer, seller):
        r = chat.send_raw(actor, group_id, {"client_id": f"late-{actor.id}", "type": "txt", "body": {"text": "在吗"}})
        assert r.status_code == 403 and r.get_json()["error"]["code"] == "archived"
    assert chat.send_raw(buyer, active, {"client_id": "other", "type": "txt", "body": {"text": "在吗"}}).status_code == 201
