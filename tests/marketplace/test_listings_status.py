"""POST /listings/{id}/status: every seller transition, the buyer it names, signals, claims."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from core.db import db
from marketplace.models import Claim, Listing
from marketplace.signals import listing_status_changed
from tests.marketplace.test_listings import API, STATUSES
from tests.factories import set_listing
from tests.support.concurrency import concurrently

DONE = {"sale": "sold", "donation": "given"}


def allowed_moves(kind: str, start: str) -> set[str]:
    """The seller's legal moves, written out independently of marketplace.listings.state."""
    return {
        "active": {"reserved", "withdrawn"},
        "reserved": {"active", "withdrawn", DONE[kind]},
        "pending_review": {"withdrawn"},
        "rejected": {"withdrawn"},
    }.get(start, set())


def move(client, actor, listing_id, status, **extra):
    return client.post(f"{API}/listings/{listing_id}/status", json={"status": status, **extra},
                       headers=actor.headers if actor else {})


@pytest.mark.parametrize("kind", ["sale", "donation"])
@pytest.mark.parametrize("start", STATUSES)
def test_seller_transition_matrix(client, factory, kind, start):
    seller = factory.user()
    outcomes = {}
    for target in STATUSES:
        listing = factory.listing(seller, kind=kind)
        set_listing(client.application, listing["id"], status=start)
        r = move(client, seller, listing["id"], target)
        after = client.get(f"{API}/listings/{listing['id']}", headers=seller.headers).get_json()["status"]
        if r.status_code == 200:
            assert r.get_json()["status"] == target == after
        else:
            assert r.get_json()["error"]["code"] == "invalid_transition", r.get_json()
            assert after == start
        outcomes[target] = r.status_code
    expected = {t: 200 if t in allowed_moves(kind, start) else 409 for t in STATUSES}
    assert outcomes == expected


def test_reserve_for_a_buyer_then_sell_keeps_the_buyer(client, factory):
    seller, buyer = factory.user(), factory.user()
    listing = factory.listing(seller)
    factory.inquiry(buyer, listing["id"])
    r = move(client, seller, listing["id"], "reserved", buyer_id=buyer.id)
    assert r.status_code == 200 and r.get_json()["buyer_id"] == buyer.id
    r = move(client, seller, listing["id"], "sold")
    assert r.status_code == 200 and r.get_json()["buyer_id"] == buyer.id
    assert client.get(f"{API}/listings/{listing['id']}").get_json()["buyer_id"] == buyer.id


def test_selling_to_someone_else_replaces_the_reserved_buyer(client, factory):
    seller, first, second = factory.user(), factory.user(), factory.user()
    listing = factory.listing(seller)
    factory.inquiry(first, listing["id"])
    factory.inquiry(second, listing["id"])
    move(client, seller, listing["id"], "reserved", buyer_id=first.id)
    r = move(client, seller, listing["id"], "sold", buyer_id=second.id)
    assert r.get_json()["buyer_id"] == second.id


def test_donation_is_given_to_its_recipient(client, factory):
    giver, recipient = factory.user(), factory.user()
    listing = factory.donation(giver)
    factory.inquiry(recipient, listing["id"])
    move(client, giver, listing["id"], "reserved")
    r = move(client, giver, listing["id"], "given", buyer_id=recipient.id)
    assert r.status_code == 200
    assert r.get_json()["status"] == "given" and r.get_json()["buyer_id"] == recipient.id


@pytest.mark.parametrize("back_to", ["active", "withdrawn"])
def test_leaving_reserved_clears_the_buyer(client, factory, back_to):
    seller, buyer = factory.user(), factory.user()
    listing = factory.listing(seller)
    factory.inquiry(buyer, listing["id"])
    move(client, seller, listing["id"], "reserved", buyer_id=buyer.id)
    r = move(client, seller, listing["id"], back_to)
    assert r.status_code == 200 and r.get_json()["buyer_id"] is None


BAD_BUYERS = [
    ("buyer with active", "reserved", "active", "other"),
    ("buyer with withdrawn", "active", "withdrawn", "other"),
    ("seller as buyer", "active", "reserved", "seller"),
    ("unknown user", "active", "reserved", 987654),
    ("buyer as string", "active", "reserved", "2"),
    ("buyer zero", "active", "reserved", 0),
]


@pytest.mark.parametrize("case, start, target, who", BAD_BUYERS, ids=[c[0] for c in BAD_BUYERS])
def test_bad_buyer_is_400(client, factory, case, start, target, who):
    seller, other = factory.user(), factory.user()
    listing = factory.listing(seller)
    set_listing(client.application, listing["id"], status=start)
    buyer_id = {"seller": seller.id, "other": other.id}.get(who, who)
    r = move(client, seller, listing["id"], target, buyer_id=buyer_id)
    assert r.status_code == 400, r.get_json()
    assert "buyer_id" in r.get_json()["error"]["details"]["fields"]
    assert client.get(f"{API}/listings/{listing['id']}").get_json()["status"] == start


@pytest.mark.parametrize("body", [{}, {"status": "paid"}, {"status": 1},
                                  {"status": "reserved", "note": "x"}, {"status": "reserved", "seller_id": 1}])
def test_bad_status_body_is_400(client, factory, body):
    seller = factory.user()
    listing = factory.listing(seller)
    r = client.post(f"{API}/listings/{listing['id']}/status", json=body, headers=seller.headers)
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "validation_error"


def test_status_change_is_signalled_after_commit(client, factory):
    seller = factory.user()
    listing = factory.listing(seller)
    seen = []

    def receiver(_app, **kw):
        # Emitted after commit: another connection already sees the new status.
        with db.engine.connect() as conn:
            kw["stored"] = conn.scalar(select(Listing.status).where(Listing.id == kw["listing_id"]))
        seen.append(kw)

    with listing_status_changed.connected_to(receiver):
        assert move(client, seller, listing["id"], "reserved").status_code == 200
        assert move(client, seller, listing["id"], "given").status_code == 409
    assert seen == [{"listing_id": listing["id"], "old_status": "active", "new_status": "reserved",
                     "actor_id": seller.id, "stored": "reserved"}]


def test_withdrawing_a_donation_closes_its_open_claims(client, factory):
    giver, claimant = factory.user(), factory.user()
    listing = factory.donation(giver)
    with client.application.app_context():
        with db.transaction() as s:
            s.add(Claim(listing_id=listing["id"], claimant_id=claimant.id, message="想要", status="pending"))
    assert move(client, giver, listing["id"], "withdrawn").status_code == 200
    with client.application.app_context():
        statuses = db.session.scalars(select(Claim.status).where(Claim.listing_id == listing["id"])).all()
    assert statuses == ["declined"]


def test_concurrent_moves_from_the_same_status_succeed_once(client, factory):
    seller = factory.user()
    buyers = [factory.user() for _ in range(4)]
    listing = factory.listing(seller)
    for b in buyers:
        factory.inquiry(b, listing["id"])
    path = f"/listings/{listing['id']}/status"
    codes = concurrently(client, [("POST", path, seller.headers, {"status": "reserved", "buyer_id": b.id})
                                  for b in buyers])
    assert sorted(codes) == [200, 409, 409, 409]
    winner = buyers[codes.index(200)]
    assert client.get(f"{API}/listings/{listing['id']}").get_json()["buyer_id"] == winner.id
