"""Claims follow a donation listing the seller moves by hand (POST /listings/{id}/status)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from core.db import db
from marketplace.donations.services import settle_claims_on_status_change
from marketplace.models import Claim, Listing, User
from tests.marketplace.claim_helpers import API, make_scene, new_claim


@pytest.fixture
def scene(factory):
    return make_scene(factory)


@pytest.fixture
def claims(scene):
    """Claims by: claimant (accepted), other (pending), a third user (cancelled), admin (pending)."""
    third = scene.factory.user()
    accepted, pending, cancelled, pending2 = (
        new_claim(scene, who)["id"] for who in (scene.claimant, scene.other, third, scene.admin))
    assert scene.act(scene.seller, accepted, "accept").status_code == 200
    assert scene.act(third, cancelled, "cancel").status_code == 200
    return {"accepted": accepted, "pending": pending, "cancelled": cancelled, "pending2": pending2}


def _move(scene, status: str, **extra) -> dict:
    r = scene.client.post(f"{API}/listings/{scene.listing_id}/status", json={"status": status, **extra},
                          headers=scene.seller.headers)
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def test_withdrawing_declines_every_open_claim(scene, claims):
    _move(scene, "withdrawn")
    assert scene.statuses() == {claims["accepted"]: "declined", claims["pending"]: "declined",
                                claims["cancelled"]: "cancelled", claims["pending2"]: "declined"}


def test_withdrawing_an_active_donation_declines_pending_claims(scene):
    pending = new_claim(scene)["id"]
    _move(scene, "withdrawn")
    assert scene.statuses() == {pending: "declined"}
    assert scene.claim(scene.other).get_json()["error"]["code"] == "listing_not_available"


def test_reopening_by_hand_declines_the_accepted_claim_only(scene, claims):
    listing = _move(scene, "active")
    assert (listing["status"], listing["buyer_id"]) == ("active", None)
    assert scene.statuses() == {claims["accepted"]: "declined", claims["pending"]: "pending",
                                claims["cancelled"]: "cancelled", claims["pending2"]: "pending"}
    # The giver goes on with the next claim, and the declined claimant may ask again.
    assert scene.act(scene.seller, claims["pending"], "accept").status_code == 200
    assert scene.listing()["buyer_id"] == scene.other.id


def test_giving_by_hand_completes_the_accepted_claim_and_declines_pending_ones(scene, claims):
    listing = _move(scene, "given")
    assert (listing["status"], listing["buyer_id"]) == ("given", scene.claimant.id)
    assert scene.statuses() == {claims["accepted"]: "completed", claims["pending"]: "declined",
                                claims["cancelled"]: "cancelled", claims["pending2"]: "declined"}


@pytest.fixture
def other_asked(scene):
    """`other` asked about the donation in its chat while it was active: someone it can be given to."""
    scene.factory.inquiry(scene.other, scene.listing_id)


def test_giving_by_hand_to_someone_else_declines_the_accepted_claim(scene, other_asked, claims):
    listing = _move(scene, "given", buyer_id=scene.other.id)
    assert (listing["status"], listing["buyer_id"]) == ("given", scene.other.id)
    assert scene.statuses() == {claims["accepted"]: "declined", claims["pending"]: "declined",
                                claims["cancelled"]: "cancelled", claims["pending2"]: "declined"}


def test_reserving_by_hand_leaves_claims_alone_and_blocks_accepting(scene):
    pending = new_claim(scene)["id"]
    _move(scene, "reserved")
    assert scene.statuses() == {pending: "pending"}
    r = scene.act(scene.seller, pending, "accept")
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "listing_not_available"
    _move(scene, "active")
    assert scene.act(scene.seller, pending, "accept").status_code == 200


def test_a_refused_status_change_leaves_claims_alone(scene, claims):
    r = scene.client.post(f"{API}/listings/{scene.listing_id}/status", json={"status": "sold"},
                          headers=scene.seller.headers)
    assert r.status_code == 409
    assert scene.statuses()[claims["accepted"]] == "accepted"


def test_closed_claims_cannot_be_moved_after_settling(scene, claims):
    _move(scene, "withdrawn")
    for claim_id, action, actor in ((claims["accepted"], "complete", scene.seller),
                                    (claims["pending"], "accept", scene.seller),
                                    (claims["pending2"], "cancel", scene.admin)):
        r = scene.act(actor, claim_id, action)
        assert r.status_code == 409 and r.get_json()["error"]["code"] == "invalid_transition"


def test_removal_declines_every_open_claim(scene, claims, ctx):
    # No admin takedown endpoint calls it yet, so the admin path is exercised directly.
    with db.transaction() as s:
        listing = s.get(Listing, scene.listing_id)
        settle_claims_on_status_change(s, listing=listing, new_status="removed")
        listing.status = "removed"
    statuses = {c.id: c.status for c in db.session.scalars(select(Claim))}
    assert statuses == {claims["accepted"]: "declined", claims["pending"]: "declined",
                        claims["cancelled"]: "cancelled", claims["pending2"]: "declined"}


def test_settling_a_sale_listing_changes_nothing(scene, ctx):
    sale_id = scene.factory.listing(scene.seller)["id"]
    with db.transaction() as s:
        # Claims cannot be made on a sale through the API; put one there to prove it is left alone.
        s.add(Claim(listing_id=sale_id, claimant=s.get(User, scene.claimant.id), status="pending"))
    for status in ("withdrawn", "removed", "active", "sold"):
        with db.transaction() as s:
            settle_claims_on_status_change(s, listing=s.get(Listing, sale_id), new_status=status)
    assert [c.status for c in db.session.scalars(select(Claim))] == ["pending"]
