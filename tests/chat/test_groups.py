"""Item inquiries, direct chats, the caller's group list and group detail."""
from __future__ import annotations

import pytest

from tests.chat.helpers import API


def test_inquiry_creates_item_group_with_seller_buyer_and_listing_summary(client, factory, chat):
    seller, buyer = factory.user(nickname="卖家小王"), factory.user(nickname="买家小李")
    cover = chat.upload(seller)
    listing_id = chat.listing(seller, images=[cover, chat.upload(seller)])
    r = client.post(f"{API}/listings/{listing_id}/inquiries", headers=buyer.headers)
    assert r.status_code == 201
    group = r.get_json()
    assert group["kind"] == "item" and group["read_only"] is False and group["last_seq"] == 0
    assert group["listing"] == {"id": listing_id, "title": "九成新 iPhone 13 128G", "price_cents": 250000,
                                "kind": "sale", "status": "active", "cover_url": cover}
    members = {m["user"]["id"]: m for m in group["members"]}
    assert set(members) == {seller.id, buyer.id} and group["member_count"] == 2
    assert members[seller.id]["user"]["nickname"] == "卖家小王"
    assert set(members[buyer.id]) == {"user", "role", "joined_at", "muted_until"}


def test_inquiry_is_idempotent_per_buyer(client, factory, chat):
    seller, buyer, other = factory.user(), factory.user(), factory.user()
    listing_id = chat.listing(seller)
    first = client.post(f"{API}/listings/{listing_id}/inquiries", headers=buyer.headers)
    again = client.post(f"{API}/listings/{listing_id}/inquiries", headers=buyer.headers)
    someone_else = client.post(f"{API}/listings/{listing_id}/inquiries", headers=other.headers)
    assert (first.status_code, again.status_code, someone_else.status_code) == (201, 200, 201)
    assert first.get_json()["id"] == again.get_json()["id"] != someone_else.get_json()["id"]


def test_seller_cannot_inquire_about_own_listing(client, factory, chat):
    seller = factory.user()
    r = client.post(f"{API}/listings/{chat.listing(seller)}/inquiries", headers=seller.headers)
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "own_listing"


@pytest.mark.parametrize("who_blocks", ["seller", "buyer"])
def test_blocked_pair_cannot_open_an_inquiry(client, factory, chat, who_blocks):
    seller, buyer = factory.user(), factory.user()
    if who_blocks == "seller":
        chat.block(seller, buyer)
    else:
        chat.block(buyer, seller)
    r = client.post(f"{API}/listings/{chat.listing(seller)}/inquiries", headers=buyer.headers)
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "blocked"


def test_new_inquiry_on_inactive_listing_conflicts_but_existing_group_is_returned(client, factory, chat):
    seller, early, late = factory.user(), factory.user(), factory.user()
    listing_id = chat.listing(seller)
    group_id = chat.inquiry(early, listing_id)["id"]
    chat.set_status(listing_id, "reserved")
    r = client.post(f"{API}/listings/{listing_id}/inquiries", headers=late.headers)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "listing_not_active"
    r = client.post(f"{API}/listings/{listing_id}/inquiries", headers=early.headers)
    assert r.status_code == 200 and r.get_json()["id"] == group_id
    assert r.get_json()["listing"]["status"] == "reserved"


@pytest.mark.parametrize("status", ["removed", "pending_review"])
def test_inquiry_on_hidden_listing_is_404(client, factory, chat, status):
    seller, buyer = factory.user(), factory.user()
    r = client.post(f"{API}/listings/{chat.listing(seller, status=status)}/inquiries", headers=buyer.headers)
    assert r.status_code == 404


def test_inquiry_on_missing_listing_is_404_and_needs_auth(client, factory):
    buyer = factory.user()
    assert client.post(f"{API}/listings/999999/inquiries", headers=buyer.headers).status_code == 404
    assert client.post(f"{API}/listings/1/inquiries").status_code == 401


def test_direct_group_is_one_per_pair_in_both_directions(client, factory):
    a, b = factory.user(), factory.user()
    first = client.post(f"{API}/users/{b.id}/direct", headers=a.headers)
    again = client.post(f"{API}/users/{b.id}/direct", headers=a.headers)
    reverse = client.post(f"{API}/users/{a.id}/direct", headers=b.headers)
    assert (first.status_code, again.status_code, reverse.status_code) == (201, 200, 200)
    assert first.get_json()["id"] == again.get_json()["id"] == reverse.get_json()["id"]
    body = first.get_json()
    assert body["kind"] == "direct" and body["listing"] is None
    assert {m["user"]["id"] for m in body["members"]} == {a.id, b.id}


def test_direct_with_self_is_400_unknown_user_404_blocked_403(client, factory, chat):
    a, b = factory.user(), factory.user()
    r = client.post(f"{API}/users/{a.id}/direct", headers=a.headers)
    assert r.status_code == 400 and "user_id" in r.get_json()["error"]["details"]["fields"]
    assert client.post(f"{API}/users/999999/direct", headers=a.headers).status_code == 404
    chat.block(b, a)
    r = client.post(f"{API}/users/{b.id}/direct", headers=a.headers)
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "blocked"


def test_group_list_holds_only_the_callers_groups_newest_activity_first(client, factory, chat):
    me, seller, friend, stranger = factory.user(), factory.user(), factory.user(), factory.user()
    older = chat.item_group(me, seller)
    direct = chat.direct(me, friend)
    chat.direct(stranger, friend)
    chat.send(me, older, "还在吗?")  # activity moves the older group to the top
    r = client.get(f"{API}/groups", headers=me.headers)
    body = r.get_json()
    assert r.status_code == 200 and body["total"] == 2
    assert [g["id"] for g in body["items"]] == [older, direct]
    top = body["items"][0]
    assert top["last_seq"] == 1 and top["last_read_seq"] == 1 and top["unread_count"] == 0
    seller_view = client.get(f"{API}/groups", headers=seller.headers).get_json()["items"][0]
    assert seller_view["id"] == older and seller_view["unread_count"] == 1
    only_direct = client.get(f"{API}/groups?kind=direct", headers=me.headers).get_json()
    assert [g["id"] for g in only_direct["items"]] == [direct]


def test_group_list_pages_with_aliases_and_rejects_bad_kind(client, factory, chat):
    me = factory.user()
    for _ in range(3):
        chat.direct(me, factory.user())
    body = client.get(f"{API}/groups?pagenum=2&pagesize=2", headers=me.headers).get_json()
    assert (body["page"], body["page_size"], body["total"], len(body["items"])) == (2, 2, 3, 1)
    r = client.get(f"{API}/groups?kind=channel", headers=me.headers)
    assert r.status_code == 400 and "kind" in r.get_json()["error"]["details"]["fields"]


def test_group_detail_is_for_members_only(client, factory, chat):
    buyer, seller, outsider = factory.user(), factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    assert client.get(f"{API}/groups/{group_id}", headers=seller.headers).status_code == 200
    r = client.get(f"{API}/groups/{group_id}", headers=outsider.headers)
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found"
    assert client.get(f"{API}/groups/{group_id + 1000}", headers=buyer.headers).status_code == 404
