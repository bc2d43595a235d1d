"""POST/GET /groups/{id}/offers: who may offer, on which listings, one pending offer each, strict input."""
from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select, update

from chat.models import ChatMessage, Offer
from core.db import db
from tests.chat.conftest import wrap_publisher
from tests.chat.helpers import API

PRICE = 230000


# Helpers shared with test_offers_transitions.py ----------------------------------------------------------

def make_offer(client, actor, group_id: int, price_cents: Any = PRICE, *, status: int = 201) -> dict:
    r = client.post(f"{API}/groups/{group_id}/offers", json={"price_cents": price_cents}, headers=actor.headers)
    assert r.status_code == status, r.get_json()
    return r.get_json()


def act(client, actor, offer_id: int, action: str):
    return client.post(f"{API}/offers/{offer_id}/{action}", headers=actor.headers)


def offer_messages(chat, actor, group_id: int) -> list[dict]:
    return [m for m in chat.history(actor, group_id, limit=100)["items"] if m["type"] == "offer"]


def set_offer_status(app, offer_id: int, status: str) -> None:
    with app.app_context(), db.transaction() as s:
        s.execute(update(Offer).where(Offer.id == offer_id).values(status=status))


def error_code(response) -> str:
    return response.get_json()["error"]["code"]


def count_rows(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))




# Making an offer --------------------------------------------------------------------------------------------

def test_buyer_offer_is_pending_and_shown_as_an_offer_message_from_the_buyer(client, factory, chat):
    seller, buyer = factory.user(), factory.user(nickname="小王")
    listing_id = chat.listing(seller)
    group_id = chat.inquiry(buyer, listing_id)["id"]
    chat.send(buyer, group_id, "能便宜点吗?")
    offer = make_offer(client, buyer, group_id, 199900)
    assert offer["group_id"] == group_id and offer["listing_id"] == listing_id
    assert offer["buyer"] == {"id": buyer.id, "nickname": "小王", "avatar_url": None}
    assert offer["price_cents"] == 199900 and offer["status"] == "pending"
    assert offer["created_at"] and offer["updated_at"] and isinstance(offer["id"], int)
    for viewer in (buyer, seller):
        last = chat.history(viewer, group_id)["items"][-1]
        assert last["seq"] == 2 and last["type"] == "offer" and last["client_id"] is None
        assert last["sender"]["id"] == buyer.id
        assert last["body"] == {"offer_id": offer["id"], "price_cents": 199900, "status": "pending"}
    # The offer counts as the buyer's own message: read for them, unread for the seller.
    groups = {v.id: client.get(f"{API}/groups/{group_id}", headers=v.headers).get_json() for v in (buyer, seller)}
    assert groups[buyer.id]["unread_count"] == 0 and groups[seller.id]["unread_count"] == 2


def test_offer_message_is_published_after_commit_to_both_parties(client, factory, chat, recorded, monkeypatch):
    seller, buyer = factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    seen_committed = []

    def check(_events):
        with db.engine.connect() as conn:  # another connection: only committed rows are visible
            seen_committed.append(conn.scalar(select(func.count()).select_from(Offer)))

    wrap_publisher(client.application, monkeypatch, check)
    offer = make_offer(client, buyer, group_id)
    (event,) = [e for e in recorded if e["type"] == "message"]
    assert event["group_id"] == group_id and event["message"]["body"]["offer_id"] == offer["id"]
    assert sorted(event["recipients"]) == sorted([buyer.id, seller.id])
    assert set(event["cursors"]) == {buyer.id, seller.id}
    assert seen_committed == [1]


def test_seller_cannot_make_an_offer(client, factory, chat):
    seller, buyer = factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    r = client.post(f"{API}/groups/{group_id}/offers", json={"price_cents": PRICE}, headers=seller.headers)
    assert r.status_code == 403 and error_code(r) == "not_buyer"
    assert count_rows(client.application, Offer) == 0


def test_outsiders_and_unknown_groups_get_404(client, factory, chat):
    seller, buyer, stranger = factory.user(), factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    for gid in (group_id, 999999):
        r = client.post(f"{API}/groups/{gid}/offers", json={"price_cents": PRICE}, headers=stranger.headers)
        assert r.status_code == 404 and error_code(r) == "not_found"
    assert client.post(f"{API}/groups/{group_id}/offers", json={"price_cents": PRICE}).status_code == 401


def test_direct_groups_and_rooms_take_no_offers(client, factory, chat):
    a, b = factory.user(), factory.user()
    for group_id in (chat.direct(a, b), chat.room(a)):
        r = client.post(f"{API}/groups/{group_id}/offers", json={"price_cents": PRICE}, headers=a.headers)
        assert r.status_code == 409 and error_code(r) == "not_item_group", r.get_json()
    assert count_rows(client.application, ChatMessage) == 0


def test_donations_take_claims_not_offers(client, factory, chat):
    giver, taker = factory.user(), factory.user()
    group_id = chat.inquiry(taker, chat.listing(giver, kind="donation"))["id"]
    r = client.post(f"{API}/groups/{group_id}/offers", json={"price_cents": 100}, headers=taker.headers)
    assert r.status_code == 409 and error_code(r) == "not_a_sale"


@pytest.mark.parametrize("status", ["reserved", "sold", "withdrawn", "pending_review", "rejected"])
def test_offer_needs_an_active_listing(client, factory, chat, status):
    seller, buyer = factory.user(), factory.user()
    listing_id = chat.listing(seller)
    group_id = chat.inquiry(buyer, listing_id)["id"]
    chat.set_status(listing_id, status)
    r = client.post(f"{API}/groups/{group_id}/offers", json={"price_cents": PRICE}, headers=buyer.headers)
    assert r.status_code == 409 and error_code(r) == "listing_not_active"
    assert r.get_json()["error"]["details"] == {"status": status, "request_id": r.headers["X-Request-ID"]}
    assert offer_messages(chat, buyer, group_id) == []


def test_read_only_group_refuses_offers(client, factory, chat):
    seller, buyer = factory.user(), factory.user()
    listing_id = chat.listing(seller)
    group_id = chat.inquiry(buyer, listing_id)["id"]
    chat.set_status(listing_id, "removed")  # an admin's takedown makes the group read-only
    r = client.post(f"{API}/groups/{group_id}/offers", json={"price_cents": PRICE}, headers=buyer.headers)
    assert r.status_code == 403 and error_code(r) == "read_only"


@pytest.mark.parametrize("blocker", ["buyer", "seller"])
def test_blocked_pair_cannot_make_offers(client, factory, chat, blocker):
    seller, buyer = factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    chat.block(*((buyer, seller) if blocker == "buyer" else (seller, buyer)))
    r = client.post(f"{API}/groups/{group_id}/offers", json={"price_cents": PRICE}, headers=buyer.headers)
    assert r.status_code == 403 and error_code(r) == "blocked"
    assert count_rows(client.application, Offer) == 0


def test_one_pending_offer_per_buyer_and_listing(client, factory, chat):
    seller, buyer, other = factory.user(), factory.user(), factory.user()
    listing_id = chat.listing(seller)
    group_id = chat.inquiry(buyer, listing_id)["id"]
    first = make_offer(client, buyer, group_id, 200000)
    r = client.post(f"{API}/groups/{group_id}/offers", json={"price_cents": 210000}, headers=buyer.headers)
    assert r.status_code == 409 and error_code(r) == "offer_exists"
    assert r.get_json()["error"]["details"] == {"offer_id": first["id"], "request_id": r.headers["X-Request-ID"]}
    # Another buyer of the same listing, and the same buyer on another listing, may offer meanwhile.
    make_offer(client, other, chat.inquiry(other, listing_id)["id"])
    make_offer(client, buyer, chat.item_group(buyer, seller))
    # Once the first offer is closed, the buyer may offer again.
    assert act(client, buyer, first["id"], "withdraw").status_code == 200
    second = make_offer(client, buyer, group_id, 215000)
    assert [m["body"]["status"] for m in offer_messages(chat, buyer, group_id)] == ["pending", "withdrawn", "pending"]
    assert offer_messages(chat, buyer, group_id)[-1]["body"]["offer_id"] == second["id"]


@pytest.mark.parametrize("body,field", [
    ({}, "price_cents"),
    ({"price_cents": "200000"}, "price_cents"),
    ({"price_cents": 1999.5}, "price_cents"),
    ({"price_cents": 2000.0}, "price_cents"),
    ({"price_cents": -100}, "price_cents"),
    ({"price_cents": 0}, "price_cents"),
    ({"price_cents": True}, "price_cents"),
    ({"price_cents": None}, "price_cents"),
    ({"price_cents": [100]}, "price_cents"),
    ({"price_cents": 10 ** 13}, "price_cents"),
    ({"price_cents": 100, "status": "accepted"}, "status"),
    ({"price_cents": 100, "buyer_id": 1}, "buyer_id"),
    ({"price_cents": 100, "<script>alert(1)</script>": "'; DROP TABLE chat_offers; --"},
     "<script>alert(1)</script>"),
])
def test_malformed_offers_are_rejected_by_field(client, factory, chat, body, field):
    seller, buyer = factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    r = client.post(f"{API}/groups/{group_id}/offers", json=body, headers=buyer.headers)
    assert r.status_code == 400 and error_code(r) == "validation_error", r.get_json()
    assert field in r.get_json()["error"]["details"]["fields"]
    assert count_rows(client.application, Offer) == 0 and offer_messages(chat, buyer, group_id) == []


def test_offer_body_must_be_json(client, factory, chat):
    seller, buyer = factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    r = client.post(f"{API}/groups/{group_id}/offers", data="price_cents=100", headers=buyer.headers,
                    content_type="application/x-www-form-urlencoded")
    assert r.status_code == 415
    r = client.post(f"{API}/groups/{group_id}/offers", data="{price_cents: 1", headers=buyer.headers,
                    content_type="application/json")
    assert r.status_code == 400 and error_code(r) == "invalid_json"


def test_clients_cannot_forge_offer_messages(factory, chat):
    seller, buyer = factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    r = chat.send_raw(buyer, group_id, {"client_id": "forged", "type": "offer",
                                        "body": {"offer_id": 1, "price_cents": 1, "status": "accepted"}})
    assert r.status_code == 400 and "type" in r.get_json()["error"]["details"]["fields"]


# Listing a group's offers ------------------------------------------------------------------------------------

def test_group_offers_are_listed_newest_first_for_both_members(client, factory, chat):
    seller, buyer, stranger = factory.user(), factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    first = make_offer(client, buyer, group_id, 100000)
    assert act(client, seller, first["id"], "decline").status_code == 200
    second = make_offer(client, buyer, group_id, 150000)
    for viewer in (buyer, seller):
        page = client.get(f"{API}/groups/{group_id}/offers", headers=viewer.headers).get_json()
        assert [o["id"] for o in page["items"]] == [second["id"], first["id"]]
        assert page["total"] == 2 and page["page"] == 1 and page["page_size"] == 20
    r = client.get(f"{API}/groups/{group_id}/offers", query_string={"status": "declined"}, headers=seller.headers)
    assert [(o["id"], o["status"]) for o in r.get_json()["items"]] == [(first["id"], "declined")]
    r = client.get(f"{API}/groups/{group_id}/offers", query_string={"pagesize": 1, "pagenum": 2},
                   headers=buyer.headers)
    assert [o["id"] for o in r.get_json()["items"]] == [first["id"]] and r.get_json()["total"] == 2
    assert client.get(f"{API}/groups/{group_id}/offers", headers=stranger.headers).status_code == 404
    r = client.get(f"{API}/groups/{group_id}/offers", query_string={"status": "paid"}, headers=buyer.headers)
    assert r.status_code == 400 and "status" in r.get_json()["error"]["details"]["fields"]


def test_direct_group_lists_no_offers(client, factory, chat):
    a, b = factory.user(), factory.user()
    page = client.get(f"{API}/groups/{chat.direct(a, b)}/offers", headers=a.headers).get_json()
    assert page["items"] == [] and page["total"] == 0


@pytest.mark.parametrize("status", ["sold", "withdrawn"])
def test_pending_offers_are_declined_when_the_listing_leaves_the_market(client, factory, status):
    seller, buyer = factory.user(), factory.user()
    listing = factory.listing(seller)
    group_id = client.post(f"/api/v1/listings/{listing['id']}/inquiries", headers=buyer.headers).get_json()["id"]
    offer = client.post(f"/api/v1/groups/{group_id}/offers", headers=buyer.headers,
                        json={"price_cents": 200000}).get_json()
    path = f"/api/v1/listings/{listing['id']}/status"
    if status == "sold":
        assert client.post(path, headers=seller.headers, json={"status": "reserved"}).status_code == 200
    assert client.post(path, headers=seller.headers, json={"status": status}).status_code == 200
    offers = client.get(f"/api/v1/groups/{group_id}/offers", headers=buyer.headers).get_json()["items"]
    assert [(o["id"], o["status"]) for o in offers] == [(offer["id"], "declined")]
    history = client.get(f"/api/v1/groups/{group_id}/messages", headers=buyer.headers).get_json()["items"]
    last = history[-1]
    assert last["type"] == "offer" and last["sender"] is None
    assert last["body"] == {"offer_id": offer["id"], "price_cents": 200000, "status": "declined"}
