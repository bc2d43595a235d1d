"""POST /offers/{id}/accept|decline|withdraw: the transition table, what accepting does, atomicity."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from chat.models import ChatMessage, Offer
from chat.offers import services
from core.db import db
from marketplace.models import Listing, User
from marketplace.signals import listing_status_changed
from tests.chat.helpers import API
from tests.chat.test_offers import (PRICE, act, count_rows, error_code, make_offer, offer_messages,
                                    set_offer_status)

STATUSES = ("pending", "accepted", "declined", "withdrawn")
#: action → (the party allowed to take it, the status it leads to), written out independently of the code
MOVES = {"accept": ("seller", "accepted"), "decline": ("seller", "declined"), "withdraw": ("buyer", "withdrawn")}


def listing_row(app, listing_id: int) -> tuple[str, int | None]:
    with app.app_context():
        listing = db.session.get(Listing, listing_id)
        return listing.status, listing.buyer_id


def offer_statuses(app, listing_id: int) -> dict[int, str]:
    with app.app_context():
        return dict(db.session.execute(select(Offer.id, Offer.status).where(Offer.listing_id == listing_id)).all())


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("action", list(MOVES))
def test_offer_transition_table(client, factory, chat, action, status):
    seller, buyer, stranger = factory.user(), factory.user(), factory.user()
    listing_id = chat.listing(seller)
    group_id = chat.inquiry(buyer, listing_id)["id"]
    offer = make_offer(client, buyer, group_id)
    set_offer_status(client.application, offer["id"], status)
    allowed, target = MOVES[action]
    parties = {"seller": seller, "buyer": buyer}
    wrong = parties["buyer" if allowed == "seller" else "seller"]

    r = act(client, stranger, offer["id"], action)
    assert r.status_code == 404 and error_code(r) == "not_found"
    r = act(client, wrong, offer["id"], action)
    assert r.status_code == 403 and error_code(r) == f"not_{allowed}"
    assert offer_statuses(client.application, listing_id) == {offer["id"]: status}
    assert len(offer_messages(chat, buyer, group_id)) == 1  # failures post nothing

    r = act(client, parties[allowed], offer["id"], action)
    if status != "pending":
        assert r.status_code == 409 and error_code(r) == "invalid_transition"
        assert r.get_json()["error"]["details"]["from"] == status
        assert offer_statuses(client.application, listing_id) == {offer["id"]: status}
        assert len(offer_messages(chat, buyer, group_id)) == 1
        return
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["status"] == target and body["id"] == offer["id"] and body["price_cents"] == PRICE
    assert body["buyer"]["id"] == buyer.id and body["updated_at"] >= offer["updated_at"]
    last = offer_messages(chat, seller, group_id)[-1]
    assert last["sender"]["id"] == parties[allowed].id
    assert last["body"] == {"offer_id": offer["id"], "price_cents": PRICE, "status": target}
    assert listing_row(client.application, listing_id) == (
        ("reserved", buyer.id) if action == "accept" else ("active", None))
    r = act(client, parties[allowed], offer["id"], action)  # the same action again: already final
    assert r.status_code == 409 and error_code(r) == "invalid_transition"


def test_unknown_offer_is_404(client, factory):
    user = factory.user()
    for action in MOVES:
        r = act(client, user, 424242, action)
        assert r.status_code == 404 and error_code(r) == "not_found"
        assert client.post(f"{API}/offers/424242/{action}").status_code == 401


def test_accept_reserves_the_listing_and_declines_the_other_pending_offers(client, factory, chat):
    seller, a, b, c = factory.user(), factory.user(), factory.user(), factory.user()
    app = client.application
    listing_id, other_listing = chat.listing(seller), chat.listing(seller)
    groups = {buyer.id: chat.inquiry(buyer, listing_id)["id"] for buyer in (a, b, c)}
    offers = {buyer.id: make_offer(client, buyer, groups[buyer.id], price)
              for buyer, price in ((a, 240000), (b, 220000), (c, 200000))}
    assert act(client, c, offers[c.id]["id"], "withdraw").status_code == 200
    elsewhere = make_offer(client, a, chat.inquiry(a, other_listing)["id"])

    r = act(client, seller, offers[a.id]["id"], "accept")
    assert r.status_code == 200 and r.get_json()["status"] == "accepted"
    assert listing_row(app, listing_id) == ("reserved", a.id)
    listing = client.get(f"{API}/listings/{listing_id}").get_json()
    assert listing["status"] == "reserved" and listing["buyer_id"] == a.id
    assert offer_statuses(app, listing_id) == {offers[a.id]["id"]: "accepted", offers[b.id]["id"]: "declined",
                                               offers[c.id]["id"]: "withdrawn"}
    assert offer_statuses(app, other_listing) == {elsewhere["id"]: "pending"}

    # Each change is an offer message from the seller in its own group, then chat's "reserved" notice.
    for buyer, status in ((a, "accepted"), (b, "declined")):
        items = chat.history(buyer, groups[buyer.id])["items"]
        offer_msg, notice = items[-2], items[-1]
        assert offer_msg["type"] == "offer" and offer_msg["sender"]["id"] == seller.id
        assert offer_msg["body"] == {"offer_id": offers[buyer.id]["id"], "price_cents": offers[buyer.id]["price_cents"],
                                     "status": status}
        assert notice["type"] == "system" and notice["sender"] is None
    assert [m["body"]["status"] for m in offer_messages(chat, c, groups[c.id])] == ["pending", "withdrawn"]
    assert chat.history(c, groups[c.id])["items"][-1]["type"] == "system"
    # The reserved listing takes no new offers, from anyone.
    for buyer in (b, c):
        r = client.post(f"{API}/groups/{groups[buyer.id]}/offers", json={"price_cents": 250000},
                        headers=buyer.headers)
        assert r.status_code == 409 and error_code(r) == "listing_not_active"


def test_accept_emits_the_status_change_after_commit(client, factory, chat):
    seller, buyer = factory.user(), factory.user()
    listing_id = chat.listing(seller)
    offer = make_offer(client, buyer, chat.inquiry(buyer, listing_id)["id"])
    seen = []

    def receiver(_app, **kw):
        with db.engine.connect() as conn:  # another connection: only committed rows are visible
            kw["stored"] = (conn.scalar(select(Listing.status).where(Listing.id == listing_id)),
                            conn.scalar(select(Offer.status).where(Offer.id == offer["id"])))
        seen.append(kw)

    listing_status_changed.connect(receiver)
    try:
        assert act(client, seller, offer["id"], "accept").status_code == 200
        assert act(client, seller, offer["id"], "decline").status_code == 409
    finally:
        listing_status_changed.disconnect(receiver)
    assert seen == [{"listing_id": listing_id, "old_status": "active", "new_status": "reserved",
                     "actor_id": seller.id, "stored": ("reserved", "accepted")}]


def test_decline_and_withdraw_leave_the_listing_alone(client, factory, chat):
    seller, a, b = factory.user(), factory.user(), factory.user()
    listing_id = chat.listing(seller)
    first = make_offer(client, a, chat.inquiry(a, listing_id)["id"])
    second = make_offer(client, b, chat.inquiry(b, listing_id)["id"])
    assert act(client, seller, first["id"], "decline").get_json()["status"] == "declined"
    assert act(client, b, second["id"], "withdraw").get_json()["status"] == "withdrawn"
    assert listing_row(client.application, listing_id) == ("active", None)


# (A listing that leaves the market — sold, given, withdrawn, removed — declines its pending
# offers itself: test_offers.py::test_pending_offers_are_declined_when_the_listing_leaves_the_market.)
@pytest.mark.parametrize("status", ["reserved"])
def test_accept_needs_an_active_listing_but_closing_an_offer_does_not(client, factory, chat, status):
    seller, a, b = factory.user(), factory.user(), factory.user()
    listing_id = chat.listing(seller)
    first = make_offer(client, a, chat.inquiry(a, listing_id)["id"])
    second = make_offer(client, b, chat.inquiry(b, listing_id)["id"])
    r = client.post(f"{API}/listings/{listing_id}/status", json={"status": status}, headers=seller.headers)
    assert r.status_code == 200, r.get_json()
    r = act(client, seller, first["id"], "accept")
    assert r.status_code == 409 and error_code(r) == "listing_not_active"
    assert r.get_json()["error"]["details"] == {"status": status, "request_id": r.headers["X-Request-ID"]}
    assert offer_statuses(client.application, listing_id) == {first["id"]: "pending", second["id"]: "pending"}
    assert act(client, seller, first["id"], "decline").status_code == 200
    assert act(client, b, second["id"], "withdraw").status_code == 200


def test_blocked_pair_cannot_accept_and_nothing_changes(client, factory, chat):
    seller, buyer = factory.user(), factory.user()
    listing_id = chat.listing(seller)
    group_id = chat.inquiry(buyer, listing_id)["id"]
    offer = make_offer(client, buyer, group_id)
    chat.block(buyer, seller)
    r = act(client, seller, offer["id"], "accept")
    assert r.status_code == 403 and error_code(r) == "blocked"
    assert listing_row(client.application, listing_id) == ("active", None)
    assert offer_statuses(client.application, listing_id) == {offer["id"]: "pending"}


def test_a_block_in_another_group_does_not_stop_the_automatic_decline(client, factory, chat):
    seller, a, b = factory.user(), factory.user(), factory.user()
    listing_id = chat.listing(seller)
    group_b = chat.inquiry(b, listing_id)["id"]
    offer_a = make_offer(client, a, chat.inquiry(a, listing_id)["id"])
    offer_b = make_offer(client, b, group_b)
    chat.block(b, seller)
    assert act(client, seller, offer_a["id"], "accept").status_code == 200
    assert offer_statuses(client.application, listing_id)[offer_b["id"]] == "declined"
    assert offer_messages(chat, b, group_b)[-1]["body"]["status"] == "declined"


def test_accept_rolls_back_the_reservation_when_its_messages_fail(client, factory, chat, monkeypatch):
    seller, a, b = factory.user(), factory.user(), factory.user()
    app = client.application
    listing_id = chat.listing(seller)
    offer_a = make_offer(client, a, chat.inquiry(a, listing_id)["id"])
    offer_b = make_offer(client, b, chat.inquiry(b, listing_id)["id"])
    messages_before = count_rows(app, ChatMessage)

    def fail(*_args, **_kwargs):
        raise RuntimeError("message store unavailable")

    monkeypatch.setattr(services, "post_server_messages", fail)
    with app.app_context(), pytest.raises(RuntimeError):
        services.transition_offer(actor=db.session.get(User, seller.id), offer_id=offer_a["id"], action="accept")
    assert listing_row(app, listing_id) == ("active", None)
    assert offer_statuses(app, listing_id) == {offer_a["id"]: "pending", offer_b["id"]: "pending"}
    assert count_rows(app, ChatMessage) == messages_before


def test_offer_messages_tell_the_whole_negotiation_in_history(client, factory, chat):
    seller, buyer = factory.user(), factory.user()
    listing_id = chat.listing(seller)
    group_id = chat.inquiry(buyer, listing_id)["id"]
    chat.send(buyer, group_id, "2000 出吗?😀")
    low = make_offer(client, buyer, group_id, 200000)
    assert act(client, seller, low["id"], "decline").status_code == 200
    chat.send(seller, group_id, "最低 2300")
    fair = make_offer(client, buyer, group_id, 230000)
    assert act(client, seller, fair["id"], "accept").status_code == 200
    items = chat.history(seller, group_id)["items"]
    assert [m["seq"] for m in items] == list(range(1, 8))
    assert [(m["type"], (m["sender"] or {}).get("id"), m["body"].get("status")) for m in items] == [
        ("txt", buyer.id, None), ("offer", buyer.id, "pending"), ("offer", seller.id, "declined"),
        ("txt", seller.id, None), ("offer", buyer.id, "pending"), ("offer", seller.id, "accepted"),
        ("system", None, None)]
    assert items[5]["body"] == {"offer_id": fair["id"], "price_cents": 230000, "status": "accepted"}
    with client.application.app_context():
        assert db.session.scalar(select(func.count()).select_from(ChatMessage)
                                 .where(ChatMessage.type == "offer")) == 4
