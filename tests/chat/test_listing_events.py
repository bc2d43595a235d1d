"""Listing status changes post system messages into item groups; every event is published after commit."""
from __future__ import annotations

import pytest

from chat.listing_events import REMOVED, RESERVED, RESTORED, system_notice
from tests.chat.helpers import API




def _last(chat, actor, group_id) -> dict:
    return chat.history(actor, group_id)["items"][-1]


def test_reserving_posts_a_system_message_in_every_item_group_of_the_listing(client, factory, chat):
    seller, a, b = factory.user(), factory.user(), factory.user()
    listing_id = chat.listing(seller)
    other_listing_group = chat.item_group(a, seller)
    groups = [chat.inquiry(a, listing_id)["id"], chat.inquiry(b, listing_id)["id"]]
    chat.send(a, groups[0], "我要了")
    chat.set_status(listing_id, "reserved")
    for group_id, buyer in zip(groups, (a, b)):
        message = _last(chat, buyer, group_id)
        assert message["type"] == "system" and message["sender"] is None and message["client_id"] is None
        assert message["body"] == {"text": RESERVED}
    assert _last(chat, a, groups[0])["seq"] == 2
    assert chat.history(a, other_listing_group)["items"] == []
    # System messages count as unread for everyone, and land in both inboxes.
    detail = client.get(f"{API}/groups/{groups[0]}", headers=a.headers).get_json()
    assert detail["unread_count"] == 1 and detail["read_only"] is False


@pytest.mark.parametrize("steps,expected", [
    (["reserved", "active"], "卖家已取消预订,商品重新开放"),
    (["reserved", "sold"], "商品已售出"),
    (["withdrawn"], "卖家已下架该商品"),
])
def test_each_status_change_has_its_notice(factory, chat, steps, expected):
    seller, buyer = factory.user(), factory.user()
    listing_id = chat.listing(seller)
    group_id = chat.inquiry(buyer, listing_id)["id"]
    for status in steps:
        chat.set_status(listing_id, status)
    items = chat.history(buyer, group_id)["items"]
    assert len(items) == len(steps) and items[-1]["body"]["text"] == expected


def test_given_donation_notice(factory, chat):
    giver, taker = factory.user(), factory.user()
    listing_id = chat.listing(giver, kind="donation")
    group_id = chat.inquiry(taker, listing_id)["id"]
    chat.set_status(listing_id, "reserved")
    chat.set_status(listing_id, "given")
    assert _last(chat, taker, group_id)["body"]["text"] == "物品已送出"


def test_removed_listing_makes_its_groups_read_only(client, factory, chat):
    seller, buyer = factory.user(), factory.user()
    listing_id = chat.listing(seller)
    group_id = chat.inquiry(buyer, listing_id)["id"]
    chat.set_status(listing_id, "removed")
    assert _last(chat, buyer, group_id)["body"]["text"] == REMOVED
    assert client.get(f"{API}/groups/{group_id}", headers=seller.headers).get_json()["read_only"] is True
    for actor in (buyer, seller):
        r = chat.send_raw(actor, group_id, {"client_id": "late", "type": "txt", "body": {"text": "还在吗"}})
        assert r.status_code == 403 and r.get_json()["error"]["code"] == "read_only"
    # The buyer still gets the (read-only) group back, and the history stays readable.
    assert client.post(f"{API}/listings/{listing_id}/inquiries", headers=buyer.headers).status_code == 200
    chat.set_status(listing_id, "active")  # an admin restores it
    assert _last(chat, buyer, group_id)["body"]["text"] == RESTORED
    assert chat.send(buyer, group_id, "又能聊了")["seq"] == 3


def test_changes_without_a_notice_post_nothing(factory, chat):
    assert system_notice("pending_review", "active") is None
    assert system_notice("active", "pending_review") is None
    seller, buyer = factory.user(), factory.user()
    listing_id = chat.listing(seller)
    group_id = chat.inquiry(buyer, listing_id)["id"]
    chat.set_status(listing_id, "pending_review")
    assert chat.history(buyer, group_id)["items"] == []


def test_message_read_and_recall_events_are_published_after_commit(client, factory, chat, recorded):
    buyer, seller = factory.user(), factory.user()
    listing_id = chat.listing(seller)
    group_id = chat.inquiry(buyer, listing_id)["id"]
    message = chat.send(buyer, group_id, "你好", client_id="h1")
    chat.send(buyer, group_id, "你好", client_id="h1", status=200)  # a replay publishes nothing
    assert client.post(f"{API}/groups/{group_id}/read", json={"seq": 1}, headers=seller.headers).status_code == 204
    client.post(f"{API}/groups/{group_id}/read", json={"seq": 1}, headers=seller.headers)  # no move, no event
    client.post(f"{API}/groups/{group_id}/messages/{message['id']}/recall", headers=buyer.headers)
    client.post(f"{API}/groups/{group_id}/messages/{message['id']}/recall", headers=buyer.headers)
    chat.set_status(listing_id, "reserved")
    chat_events = [e for e in recorded if e["type"] != "unread"]  # the seller's badge moved when they read
    assert [e["type"] for e in chat_events] == ["message", "read", "recall", "message"]
    sent, read, recall, system = chat_events
    assert sent["message"] == message and sent["group_kind"] == "item"
    assert sent["cursors"] == {buyer.id: 1, seller.id: 1}
    assert sorted(sent["recipients"]) == sorted([buyer.id, seller.id])
    assert (read["group_id"], read["user_id"], read["seq"]) == (group_id, seller.id, 1)
    assert recall["message"]["recalled"] is True and recall["by"] == buyer.id
    assert system["message"]["type"] == "system" and system["cursors"] == {buyer.id: 2, seller.id: 2}


def test_a_failing_publisher_does_not_fail_the_send(client, factory, chat, monkeypatch):
    def broken(_events):
        raise RuntimeError("broker down")
    buyer, seller = factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    monkeypatch.setattr(client.application.extensions["db"], "publish", broken)
    assert chat.send(buyer, group_id, "照样发出")["seq"] == 1
    assert chat.history(seller, group_id)["items"][0]["body"] == {"text": "照样发出"}


def test_the_sellers_status_change_through_the_listing_api_reaches_the_chat(client, factory, chat):
    seller, buyer = factory.user(), factory.user()
    listing_id = factory.listing(seller)["id"]
    group_id = chat.inquiry(buyer, listing_id)["id"]
    r = client.post(f"{API}/listings/{listing_id}/status", json={"status": "reserved"}, headers=seller.headers)
    assert r.status_code == 200, r.get_json()
    message = _last(chat, buyer, group_id)
    assert (message["type"], message["body"]) == ("system", {"text": RESERVED})


@pytest.mark.parametrize("restored_to", ["active", "sold", "withdrawn", "pending_review"])
def test_a_restore_to_any_status_reopens_the_chat_with_the_restore_notice(restored_to):
    assert system_notice("removed", restored_to) == (RESTORED, False)
