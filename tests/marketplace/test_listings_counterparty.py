"""The buyer a seller names (reserve, sell, give) must have dealt with them about the listing: a member of
an item chat about it, the buyer of an accepted offer, or the claimant of an accepted claim; never
someone in a block relation with the seller. Reviews follow the deal."""
from __future__ import annotations

import pytest
from sqlalchemy import delete

from chat.models import ChatMember
from core.db import db
from tests.marketplace.test_listings import API


def move(client, actor, listing_id, status, **extra):
    return client.post(f"{API}/listings/{listing_id}/status", json={"status": status, **extra},
                       headers=actor.headers)


def status_of(client, listing_id) -> dict:
    return client.get(f"{API}/listings/{listing_id}").get_json()


def block(client, who, whom) -> None:
    assert client.put(f"{API}/me/blocks/{whom.id}", headers=who.headers).status_code == 204


@pytest.mark.parametrize("kind, target", [("sale", "reserved"), ("sale", "sold"), ("donation", "reserved"),
                                          ("donation", "given")])
def test_a_stranger_cannot_be_named_as_buyer(client, factory, kind, target):
    seller, stranger = factory.user(), factory.user()
    listing = factory.listing(seller, kind=kind)
    if target != "reserved":
        assert move(client, seller, listing["id"], "reserved").status_code == 200
    before = status_of(client, listing["id"])
    r = move(client, seller, listing["id"], target, buyer_id=stranger.id)
    assert r.status_code == 400, r.get_json()
    assert "buyer_id" in r.get_json()["error"]["details"]["fields"]
    assert status_of(client, listing["id"])["status"] == before["status"]
    assert status_of(client, listing["id"])["buyer_id"] is None


@pytest.mark.parametrize("kind, final", [("sale", "sold"), ("donation", "given")])
def test_a_member_of_an_item_chat_about_the_listing_can_be_named(client, factory, kind, final):
    seller, buyer = factory.user(), factory.user()
    listing = factory.listing(seller, kind=kind)
    factory.inquiry(buyer, listing["id"])
    r = move(client, seller, listing["id"], "reserved", buyer_id=buyer.id)
    assert r.status_code == 200 and r.get_json()["buyer_id"] == buyer.id
    r = move(client, seller, listing["id"], final, buyer_id=buyer.id)
    assert r.status_code == 200 and r.get_json()["buyer_id"] == buyer.id


def test_a_chat_about_another_listing_does_not_count(client, factory):
    seller, buyer = factory.user(), factory.user()
    asked, other = factory.listing(seller), factory.listing(seller, title="另一件")
    factory.inquiry(buyer, asked["id"])
    r = move(client, seller, other["id"], "reserved", buyer_id=buyer.id)
    assert r.status_code == 400


def test_the_buyer_of_an_accepted_offer_can_be_named(client, factory):
    seller, buyer = factory.user(), factory.user()
    listing = factory.listing(seller)
    group_id = factory.inquiry(buyer, listing["id"])
    offer = client.post(f"{API}/groups/{group_id}/offers", json={"price_cents": 200000}, headers=buyer.headers)
    assert offer.status_code == 201, offer.get_json()
    assert client.post(f"{API}/offers/{offer.get_json()['id']}/accept", headers=seller.headers).status_code == 200
    assert status_of(client, listing["id"])["buyer_id"] == buyer.id
    with client.application.app_context(), db.transaction() as s:
        # Out of the chat (e.g. removed by an admin): the accepted offer alone still makes them the buyer.
        s.execute(delete(ChatMember).where(ChatMember.group_id == group_id, ChatMember.user_id == buyer.id))
    assert move(client, seller, listing["id"], "active").status_code == 200
    r = move(client, seller, listing["id"], "reserved", buyer_id=buyer.id)
    assert r.status_code == 200 and r.get_json()["buyer_id"] == buyer.id


def test_the_claimant_of_an_accepted_claim_can_be_named_but_not_a_pending_one(client, factory):
    giver, taker, hopeful = factory.user(), factory.user(), factory.user()
    listing = factory.donation(giver)
    claims = {}
    for who in (taker, hopeful):
        r = client.post(f"{API}/listings/{listing['id']}/claims", json={"message": "想要"}, headers=who.headers)
        assert r.status_code == 201, r.get_json()
        claims[who.id] = r.get_json()["id"]
    assert client.post(f"{API}/claims/{claims[taker.id]}/accept", headers=giver.headers).status_code == 200
    assert move(client, giver, listing["id"], "given", buyer_id=hopeful.id).status_code == 400
    r = move(client, giver, listing["id"], "given", buyer_id=taker.id)
    assert r.status_code == 200 and r.get_json()["buyer_id"] == taker.id


@pytest.mark.parametrize("who_blocks", ["buyer", "seller"])
def test_nobody_in_a_block_relation_with_the_seller_can_be_named(client, factory, who_blocks):
    seller, buyer = factory.user(), factory.user()
    listing = factory.listing(seller)
    factory.inquiry(buyer, listing["id"])
    blocker, blocked = (buyer, seller) if who_blocks == "buyer" else (seller, buyer)
    block(client, blocker, blocked)
    r = move(client, seller, listing["id"], "reserved", buyer_id=buyer.id)
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "blocked"
    assert status_of(client, listing["id"])["status"] == "active"


def test_seller_cannot_review_a_buyer_who_blocked_them_after_the_deal(client, factory):
    seller, buyer = factory.user(), factory.user()
    listing = factory.listing(seller)
    factory.inquiry(buyer, listing["id"])
    assert move(client, seller, listing["id"], "reserved", buyer_id=buyer.id).status_code == 200
    assert move(client, seller, listing["id"], "sold").status_code == 200
    block(client, buyer, seller)
    r = client.post(f"{API}/listings/{listing['id']}/reviews", json={"rating": 1, "text": "骗子!"},
                    headers=seller.headers)
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "blocked"
    profile = client.get(f"{API}/users/{buyer.id}", headers=buyer.headers).get_json()
    assert profile["rating_count"] == 0


def test_a_sock_puppet_without_a_deal_cannot_review_the_seller(client, factory):
    seller, puppet = factory.user(), factory.user()
    listing = factory.listing(seller)
    assert move(client, seller, listing["id"], "reserved", buyer_id=puppet.id).status_code == 400
    assert move(client, seller, listing["id"], "reserved").status_code == 200
    assert move(client, seller, listing["id"], "sold").status_code == 200
    r = client.post(f"{API}/listings/{listing['id']}/reviews", json={"rating": 5}, headers=puppet.headers)
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "not_a_party"
